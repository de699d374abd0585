//! A capability's declared `#[policy(...)]`: what the holder of a handle must meet for each
//! call, judged where the object is served, against the holder the handle's connection names
//! (`port::Holder`: main's connections name their renderer).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use ipc_schema::Rule;

use super::Capability;
use crate::error::IpcError;
use crate::port::Holder;
use crate::util::lock;

/// One capability's rules, by method.
pub(crate) struct ObjectRules {
    methods: Vec<MethodRule>,
}

struct MethodRule {
    /// The method's wire name (what a call names).
    wire: Box<str>,
    /// `namespace:method`, in a refusal.
    channel: Box<str>,
    /// The trait's rules and the method's: a holder meets each level with one of its rules.
    levels: Vec<Vec<Rule>>,
}

impl ObjectRules {
    /// The rules of capability `C`, read from its contract once per capability; `None` when it
    /// declares none (its calls are not judged at all).
    pub(crate) fn of<C: Capability>() -> Option<Arc<ObjectRules>> {
        type Cache = Mutex<HashMap<usize, Option<Arc<ObjectRules>>>>;
        static CACHE: OnceLock<Cache> = OnceLock::new();
        let contract = C::contract();
        // The contract is a `&'static` of its own per capability: its address names it.
        let key = std::ptr::from_ref(contract) as usize;
        let cache = CACHE.get_or_init(Cache::default);
        lock(cache)
            .entry(key)
            .or_insert_with(|| ObjectRules::read(contract).map(Arc::new))
            .clone()
    }

    fn read(contract: &ipc_schema::Service) -> Option<ObjectRules> {
        let methods: Vec<MethodRule> = contract
            .methods
            .iter()
            .filter_map(|method| {
                let levels: Vec<Vec<Rule>> = contract
                    .policy_levels(method)
                    .into_iter()
                    .map(<[Rule]>::to_vec)
                    .collect();
                if levels.is_empty() {
                    return None;
                }
                let wire = method
                    .channel
                    .split_once(':')
                    .map_or(method.channel.as_str(), |(_, wire)| wire);
                Some(MethodRule {
                    wire: wire.into(),
                    channel: method.channel.as_str().into(),
                    levels,
                })
            })
            .collect();
        (!methods.is_empty()).then_some(ObjectRules { methods })
    }

    /// Whether `holder` may call `method` (its wire name). A holder the connection does not
    /// name (one in this process, or main calling an object a renderer serves) is not judged.
    ///
    /// # Errors
    ///
    /// [`IpcError::Forbidden`] from the holder's check.
    pub(crate) fn admit(&self, method: &str, holder: Option<&dyn Holder>) -> Result<(), IpcError> {
        let Some(holder) = holder else {
            return Ok(());
        };
        match self.methods.iter().find(|rule| &*rule.wire == method) {
            Some(rule) => holder.admit(&rule.channel, &rule.levels),
            None => Ok(()),
        }
    }
}
