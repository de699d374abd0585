//! What a renderer may use: the [`Grant`] main gives each renderer, shared by its callers. The
//! check that reads it with the contracts' `#[policy(...)]` rules is main's (`main/authorize.rs`).

use std::collections::BTreeSet;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

/// What main lets one renderer use: which contracts (by namespace), and which named
/// capabilities it holds (what `#[policy(capability = "...")]` asks for).
///
/// Every renderer has one, given when it connects
/// ([`MainBuilder::initial_grant`](crate::MainBuilder::initial_grant); by default
/// [`Grant::all`], and a window behind a bridge starts with its bridge's) and changed at run time
/// with [`Main::set_grant`](crate::Main::set_grant), [`Main::grant`](crate::Main::grant) and
/// [`Main::revoke`](crate::Main::revoke). A renderer cannot change its own.
///
/// # Examples
///
/// ```
/// use ipc_runtime::Grant;
///
/// let grant = Grant::contracts(["todos"]).with_capability("admin");
/// assert!(grant.allows_contract("todos"));
/// assert!(!grant.allows_contract("files"));
/// assert!(grant.has_capability("admin"));
/// assert!(Grant::all().allows_contract("files"));
/// assert!(!Grant::all().has_capability("admin"));
/// assert!(!Grant::none().allows_contract("todos"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// `None`: every contract.
    contracts: Option<BTreeSet<String>>,
    capabilities: BTreeSet<String>,
}

impl Default for Grant {
    fn default() -> Self {
        Grant::all()
    }
}

impl Grant {
    /// Every contract, no capability (the default).
    pub fn all() -> Self {
        Grant {
            contracts: None,
            capabilities: BTreeSet::new(),
        }
    }

    /// No contract and no capability: the renderer can call nothing and receives no event.
    pub fn none() -> Self {
        Grant {
            contracts: Some(BTreeSet::new()),
            capabilities: BTreeSet::new(),
        }
    }

    /// Only the contracts with these namespaces, no capability.
    pub fn contracts<I, S>(namespaces: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Grant {
            contracts: Some(namespaces.into_iter().map(Into::into).collect()),
            capabilities: BTreeSet::new(),
        }
    }

    /// This grant with the contract `namespace` added (no change when it allows every contract).
    pub fn with_contract(mut self, namespace: impl Into<String>) -> Self {
        if let Some(contracts) = &mut self.contracts {
            contracts.insert(namespace.into());
        }
        self
    }

    /// This grant without the contract `namespace` (a grant of every contract keeps it).
    pub fn without_contract(mut self, namespace: &str) -> Self {
        if let Some(contracts) = &mut self.contracts {
            contracts.remove(namespace);
        }
        self
    }

    /// This grant with the capability `name` added.
    pub fn with_capability(mut self, name: impl Into<String>) -> Self {
        self.capabilities.insert(name.into());
        self
    }

    /// This grant without the capability `name`.
    pub fn without_capability(mut self, name: &str) -> Self {
        self.capabilities.remove(name);
        self
    }

    /// Whether every contract may be used.
    pub fn allows_every_contract(&self) -> bool {
        self.contracts.is_none()
    }

    /// Whether the contract with this namespace may be used.
    pub fn allows_contract(&self, namespace: &str) -> bool {
        self.contracts
            .as_ref()
            .is_none_or(|contracts| contracts.contains(namespace))
    }

    /// Whether the capability `name` is held.
    pub fn has_capability(&self, name: &str) -> bool {
        self.capabilities.contains(name)
    }

    /// The capabilities held, sorted.
    pub fn capabilities(&self) -> impl Iterator<Item = &str> {
        self.capabilities.iter().map(String::as_str)
    }

    /// The contracts allowed, sorted (`None`: every contract).
    pub fn allowed_contracts(&self) -> Option<impl Iterator<Item = &str>> {
        self.contracts
            .as_ref()
            .map(|contracts| contracts.iter().map(String::as_str))
    }
}

/// A renderer's grant, shared by its [`Caller`]s and main's table so a change applies to the
/// next call at once. Two callers are the same grant when they share the cell.
///
/// [`Caller`]: crate::Caller
#[derive(Clone)]
pub(crate) struct GrantCell(Arc<GrantSlot>);

impl GrantCell {
    /// Whether `other` is this very cell (a clone of it), not merely an equal grant.
    pub(crate) fn is(&self, other: &GrantCell) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

struct GrantSlot {
    /// The grant is [`Grant::all`], which most renderers hold: read without the lock.
    all: AtomicBool,
    grant: RwLock<Arc<Grant>>,
}

/// [`Grant::all`], for the lock-free read.
static ALL: Grant = Grant {
    contracts: None,
    capabilities: BTreeSet::new(),
};

impl GrantCell {
    pub(crate) fn new(grant: Grant) -> Self {
        GrantCell(Arc::new(GrantSlot {
            all: AtomicBool::new(grant == ALL),
            grant: RwLock::new(Arc::new(grant)),
        }))
    }

    /// The grant now.
    pub(crate) fn get(&self) -> Arc<Grant> {
        // A panic cannot happen while the lock is held (only an `Arc` is swapped), so a
        // poisoned lock still holds a whole grant.
        self.0
            .grant
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    pub(crate) fn set(&self, grant: Grant) {
        self.update(|_| grant);
    }

    pub(crate) fn update(&self, change: impl FnOnce(Grant) -> Grant) {
        let mut slot = self
            .0
            .grant
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let grant = change(Grant::clone(&slot));
        // Stored while the lock is held: once this returns, every read sees the new grant.
        self.0.all.store(grant == ALL, Ordering::Release);
        *slot = Arc::new(grant);
    }

    /// Reads the grant without copying it out (and without the lock for [`Grant::all`]).
    pub(crate) fn with<T>(&self, check: impl FnOnce(&Grant) -> T) -> T {
        if self.0.all.load(Ordering::Acquire) {
            return check(&ALL);
        }
        check(
            &self
                .0
                .grant
                .read()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        )
    }
}

impl PartialEq for GrantCell {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for GrantCell {}

impl fmt::Debug for GrantCell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.get(), f)
    }
}
