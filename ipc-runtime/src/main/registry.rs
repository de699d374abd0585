//! Handlers and listeners by channel, with Electron's `ipcMain` registry semantics: one handler
//! per invoke channel, any number of listeners per send channel, `once` variants, removal of
//! exactly what one registration added.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::authorize::{ChannelRule, Use, authorize};
use super::{Main, MainInner};
use crate::caller::Caller;
use crate::channel::{InvokeChannel, SendChannel};
use crate::error::{IpcError, RegistryError};
use crate::transport::message::{CallResult, Failure};
use crate::util::BoxFuture;
use crate::util::own_ids::OwnNames;
use crate::wire::Payload;

/// An erased invoke handler: decodes its arguments (or says why it cannot) and returns the call.
pub(crate) type InvokeFn =
    Arc<dyn Fn(Caller, Payload) -> Result<BoxFuture<CallResult>, String> + Send + Sync>;

/// An erased send listener.
pub(crate) type ListenFn =
    Arc<dyn Fn(Caller, Payload) -> Result<BoxFuture<()>, String> + Send + Sync>;

/// Identifies one registered handler or listener (to remove exactly that one later).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ListenerId(u64);

#[derive(Default)]
pub(crate) struct Registry {
    // Keyed by the names main registered; a renderer's names are only looked up.
    handlers: HashMap<Cow<'static, str>, HandlerEntry, OwnNames>,
    listeners: HashMap<Cow<'static, str>, Vec<ListenerEntry>, OwnNames>,
    /// The declared policy of every channel of every declared contract.
    rules: HashMap<String, Arc<ChannelRule>>,
}

struct HandlerEntry {
    id: ListenerId,
    once: bool,
    func: InvokeFn,
    /// The channel's declared policy, kept here so a call finds handler and rule in one lookup.
    rule: Option<Arc<ChannelRule>>,
}

impl Registry {
    /// Records the policies `schema` declares, for handlers registered before and after.
    pub(crate) fn declare_rules(&mut self, schema: &ipc_schema::Service) {
        for (channel, rule) in ChannelRule::of_service(schema) {
            if let Some(entry) = self.handlers.get_mut(channel.as_str()) {
                entry.rule = Some(rule.clone());
            }
            self.rules.insert(channel, rule);
        }
    }

    /// The declared policy of `channel`, if any.
    pub(crate) fn rule(&self, channel: &str) -> Option<Arc<ChannelRule>> {
        self.rules.get(channel).cloned()
    }
}

#[derive(Clone)]
struct ListenerEntry {
    id: ListenerId,
    once: bool,
    func: ListenFn,
}

impl Main {
    /// Registers the handler of an invoke channel (Electron's `ipcMain.handle`).
    ///
    /// # Errors
    ///
    /// [`RegistryError::AlreadyHandled`] when the channel has a handler already.
    ///
    /// # Examples
    ///
    /// ```
    /// use ipc_runtime::Never;
    /// use ipc_runtime::{InvokeChannel, Main};
    ///
    /// const PING: InvokeChannel<ipc_runtime::NoArgs, String, Never> = InvokeChannel::new("app:ping");
    /// let main = Main::new();
    /// main.handle(PING, |_, _| async { Ok("pong".to_string()) }).unwrap();
    /// assert!(main.handle(PING, |_, _| async { Ok("again".to_string()) }).is_err());
    /// ```
    pub fn handle<A, T, E, F, Fut>(
        &self,
        channel: InvokeChannel<A, T, E>,
        handler: F,
    ) -> Result<ListenerId, RegistryError>
    where
        A: DeserializeOwned + Send + 'static,
        T: Serialize + Send + 'static,
        E: Serialize + Send + 'static,
        F: Fn(Caller, A) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<T, E>> + Send + 'static,
    {
        let mut batch = self.registration();
        let id = batch.invoke_inner(channel.name(), false, erase_invoke(handler));
        batch.commit().map(|_| id)
    }

    /// Like [`Main::handle`], but the handler is removed after its first call (Electron's
    /// `ipcMain.handleOnce`).
    ///
    /// # Errors
    ///
    /// [`RegistryError::AlreadyHandled`] when the channel has a handler already.
    pub fn handle_once<A, T, E, F, Fut>(
        &self,
        channel: InvokeChannel<A, T, E>,
        handler: F,
    ) -> Result<ListenerId, RegistryError>
    where
        A: DeserializeOwned + Send + 'static,
        T: Serialize + Send + 'static,
        E: Serialize + Send + 'static,
        F: Fn(Caller, A) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<T, E>> + Send + 'static,
    {
        let mut batch = self.registration();
        let id = batch.invoke_inner(channel.name(), true, erase_invoke(handler));
        batch.commit().map(|_| id)
    }

    /// Removes the handler of `channel` (Electron's `ipcMain.removeHandler`). Returns whether
    /// there was one. Calls already running finish normally.
    pub fn remove_handler(&self, channel: &str) -> bool {
        self.inner
            .write_registry()
            .handlers
            .remove(channel)
            .is_some()
    }

    /// Whether `channel` has an invoke handler.
    pub fn has_handler(&self, channel: &str) -> bool {
        self.inner.read_registry().handlers.contains_key(channel)
    }

    /// Adds a listener for a send channel (Electron's `ipcMain.on`). Several listeners may listen
    /// to one channel; each send reaches all of them in registration order.
    ///
    /// The sends of one renderer enter in the order they were sent: each send's listeners are
    /// called and polled once before the next message of that renderer is looked at; listeners
    /// that have to wait then run concurrently, at most
    /// [`MainBuilder::max_sends_running`](crate::MainBuilder::max_sends_running) sends' worth
    /// per renderer.
    ///
    /// # Examples
    ///
    /// ```
    /// use ipc_runtime::{Main, SendChannel};
    ///
    /// const LOG: SendChannel<(String,)> = SendChannel::new("app:log");
    /// let main = Main::new();
    /// let id = main.on(LOG, |caller, (line,)| async move { println!("{}: {line}", caller.label()) });
    /// assert!(main.remove_listener(LOG.name(), id));
    /// ```
    pub fn on<A, F, Fut>(&self, channel: SendChannel<A>, listener: F) -> ListenerId
    where
        A: DeserializeOwned + Clone + Send + 'static,
        F: Fn(Caller, A) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let mut batch = self.registration();
        let id = batch.listen_inner(channel.name(), false, erase_listener(listener));
        batch.commit_listeners();
        id
    }

    /// Like [`Main::on`], but the listener is removed after the first send it receives
    /// (Electron's `ipcMain.once`).
    pub fn once<A, F, Fut>(&self, channel: SendChannel<A>, listener: F) -> ListenerId
    where
        A: DeserializeOwned + Clone + Send + 'static,
        F: Fn(Caller, A) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let mut batch = self.registration();
        let id = batch.listen_inner(channel.name(), true, erase_listener(listener));
        batch.commit_listeners();
        id
    }

    /// Removes one listener (Electron's `ipcMain.removeListener`). Returns whether it was there.
    pub fn remove_listener(&self, channel: &str, id: ListenerId) -> bool {
        let mut registry = self.inner.write_registry();
        let Some(list) = registry.listeners.get_mut(channel) else {
            return false;
        };
        let before = list.len();
        list.retain(|entry| entry.id != id);
        let removed = list.len() != before;
        if list.is_empty() {
            registry.listeners.remove(channel);
        }
        removed
    }

    /// Removes every listener of `channel`, or of every channel with `None` (Electron's
    /// `ipcMain.removeAllListeners([channel])`). Returns how many there were. Sends already
    /// entered keep running.
    ///
    /// # Examples
    ///
    /// ```
    /// use ipc_runtime::{Main, SendChannel};
    ///
    /// const LOG: SendChannel<(String,)> = SendChannel::new("app:log");
    /// const AUDIT: SendChannel<(String,)> = SendChannel::new("app:audit");
    /// let main = Main::new();
    /// main.on(LOG, |_, _| async {});
    /// main.on(LOG, |_, _| async {});
    /// main.on(AUDIT, |_, _| async {});
    /// assert_eq!(main.channels_with_listeners(), vec!["app:audit", "app:log"]);
    /// assert_eq!(main.remove_all_listeners(LOG.name()), 2);
    /// assert_eq!(main.remove_all_listeners(None), 1);
    /// assert!(main.channels_with_listeners().is_empty());
    /// ```
    pub fn remove_all_listeners<'a>(&self, channel: impl Into<Option<&'a str>>) -> usize {
        let mut registry = self.inner.write_registry();
        match channel.into() {
            Some(channel) => registry.listeners.remove(channel).map_or(0, |l| l.len()),
            None => registry.listeners.drain().map(|(_, list)| list.len()).sum(),
        }
    }

    /// The channels that have send listeners, sorted (Electron's `ipcMain.eventNames()`).
    pub fn channels_with_listeners(&self) -> Vec<String> {
        let mut channels: Vec<String> = self
            .inner
            .read_registry()
            .listeners
            .keys()
            .map(|channel| channel.to_string())
            .collect();
        channels.sort();
        channels
    }

    /// The channels that have an invoke handler, sorted.
    pub fn handled_channels(&self) -> Vec<String> {
        let mut channels: Vec<String> = self
            .inner
            .read_registry()
            .handlers
            .keys()
            .map(|channel| channel.to_string())
            .collect();
        channels.sort();
        channels
    }

    /// How many listeners `channel` has.
    pub fn listener_count(&self, channel: &str) -> usize {
        self.inner
            .read_registry()
            .listeners
            .get(channel)
            .map_or(0, Vec::len)
    }

    /// Starts a batch of registrations that takes effect all at once (used by generated
    /// `{Trait}::handle`).
    #[doc(hidden)]
    pub fn registration(&self) -> RegistrationBatch {
        RegistrationBatch {
            main: self.clone(),
            handlers: Vec::new(),
            listeners: Vec::new(),
            contracts: Vec::new(),
        }
    }

    fn next_listener_id(&self) -> ListenerId {
        ListenerId(self.inner.next_listener.fetch_add(1, Ordering::Relaxed))
    }
}

impl MainInner {
    /// Looks up the handler of `channel` for `caller`, taking it out when it was registered with
    /// `handle_once` (only once the caller is allowed: a refused call consumes nothing).
    ///
    /// # Errors
    ///
    /// `NoHandler`, or `Forbidden` when the caller may not use the channel.
    pub(crate) fn take_handler(
        &self,
        caller: &Caller,
        channel: &str,
    ) -> Result<InvokeFn, IpcError> {
        {
            let registry = self.read_registry();
            let entry = registry
                .handlers
                .get(channel)
                .ok_or_else(|| no_handler(channel))?;
            authorize(caller, channel, entry.rule.as_deref(), Use::Call, false)?;
            if !entry.once {
                return Ok(entry.func.clone());
            }
        }
        let mut registry = self.write_registry();
        // The entry may have been replaced since the read: checked again against its rule.
        if let Some(entry) = registry.handlers.get(channel) {
            authorize(caller, channel, entry.rule.as_deref(), Use::Call, false)?;
        }
        match registry.handlers.get(channel) {
            Some(entry) if entry.once => registry
                .handlers
                .remove(channel)
                .map(|e| e.func)
                .ok_or_else(|| no_handler(channel)),
            Some(entry) => Ok(entry.func.clone()),
            None => Err(no_handler(channel)),
        }
    }

    /// The listeners of `channel`, in order, taking out the `once` ones (only once `caller` is
    /// allowed to send on it).
    ///
    /// # Errors
    ///
    /// `Forbidden` when the caller may not use the channel.
    pub(crate) fn take_listeners(
        &self,
        caller: &Caller,
        channel: &str,
    ) -> Result<Vec<ListenFn>, IpcError> {
        let has_once = {
            let registry = self.read_registry();
            authorize(
                caller,
                channel,
                registry.rules.get(channel).map(|r| &**r),
                Use::Call,
                false,
            )?;
            match registry.listeners.get(channel) {
                None => return Ok(Vec::new()),
                Some(list) if !list.iter().any(|e| e.once) => {
                    return Ok(list.iter().map(|e| e.func.clone()).collect());
                }
                Some(_) => true,
            }
        };
        debug_assert!(has_once);
        let mut registry = self.write_registry();
        let Some(list) = registry.listeners.get_mut(channel) else {
            return Ok(Vec::new());
        };
        let funcs = list.iter().map(|e| e.func.clone()).collect();
        list.retain(|e| !e.once);
        if list.is_empty() {
            registry.listeners.remove(channel);
        }
        Ok(funcs)
    }

    pub(crate) fn read_registry(&self) -> std::sync::RwLockReadGuard<'_, Registry> {
        // A panic while holding the lock cannot leave the maps half-updated (every update is one
        // insert or remove), so a poisoned lock is still consistent.
        self.registry
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn write_registry(&self) -> std::sync::RwLockWriteGuard<'_, Registry> {
        self.registry
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn erase_invoke<A, T, E, F, Fut>(handler: F) -> InvokeFn
where
    A: DeserializeOwned + Send + 'static,
    T: Serialize + Send + 'static,
    E: Serialize + Send + 'static,
    F: Fn(Caller, A) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<T, E>> + Send + 'static,
{
    Arc::new(move |caller, args: Payload| {
        let args: A = args.take()?;
        let call = handler(caller, args);
        Ok(Box::pin(async move {
            match call.await {
                Ok(value) => Ok(Payload::value(value)),
                Err(error) => Err(Failure::App(Payload::value(error))),
            }
        }) as BoxFuture<CallResult>)
    })
}

fn erase_listener<A, F, Fut>(listener: F) -> ListenFn
where
    A: DeserializeOwned + Clone + Send + 'static,
    F: Fn(Caller, A) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    Arc::new(move |caller, args: Payload| {
        let args: A = args.take_cloned()?;
        Ok(Box::pin(listener(caller, args)) as BoxFuture<()>)
    })
}

/// Several registrations applied together, or not at all. Built by generated code.
#[doc(hidden)]
pub struct RegistrationBatch {
    main: Main,
    handlers: Vec<(Cow<'static, str>, HandlerEntry)>,
    listeners: Vec<(Cow<'static, str>, ListenerEntry)>,
    contracts: Vec<&'static ipc_schema::Service>,
}

impl RegistrationBatch {
    /// Adds an invoke handler.
    pub fn invoke<A, T, E, F, Fut>(&mut self, channel: InvokeChannel<A, T, E>, handler: F)
    where
        A: DeserializeOwned + Send + 'static,
        T: Serialize + Send + 'static,
        E: Serialize + Send + 'static,
        F: Fn(Caller, A) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<T, E>> + Send + 'static,
    {
        self.invoke_inner(channel.name(), false, erase_invoke(handler));
    }

    /// Adds a send listener.
    pub fn listen<A, F, Fut>(&mut self, channel: SendChannel<A>, listener: F)
    where
        A: DeserializeOwned + Clone + Send + 'static,
        F: Fn(Caller, A) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.listen_inner(channel.name(), false, erase_listener(listener));
    }

    /// Declares the contract being registered (see [`Main::declare`]); takes effect with the
    /// rest of the batch, and only if the batch is accepted.
    pub fn contract(&mut self, schema: &'static ipc_schema::Service) {
        self.contracts.push(schema);
    }

    fn invoke_inner(&mut self, channel: &'static str, once: bool, func: InvokeFn) -> ListenerId {
        let id = self.main.next_listener_id();
        self.handlers.push((
            Cow::Borrowed(channel),
            HandlerEntry {
                id,
                once,
                func,
                rule: None,
            },
        ));
        id
    }

    fn listen_inner(&mut self, channel: &'static str, once: bool, func: ListenFn) -> ListenerId {
        let id = self.main.next_listener_id();
        self.listeners
            .push((Cow::Borrowed(channel), ListenerEntry { id, once, func }));
        id
    }

    fn commit_listeners(self) {
        let mut registry = self.main.inner.write_registry();
        for (channel, entry) in self.listeners {
            registry.listeners.entry(channel).or_default().push(entry);
        }
    }

    /// Applies every registration, or none when a channel already has a handler.
    ///
    /// # Errors
    ///
    /// [`RegistryError::AlreadyHandled`] naming the first channel that is taken.
    pub fn commit(self) -> Result<Registration, RegistryError> {
        let mut registry = self.main.inner.write_registry();
        if let Some((channel, _)) = self
            .handlers
            .iter()
            .find(|(channel, _)| registry.handlers.contains_key(channel))
        {
            return Err(RegistryError::AlreadyHandled {
                channel: channel.to_string(),
            });
        }
        let mut registration = Registration {
            main: self.main.clone(),
            handlers: Vec::new(),
            listeners: Vec::new(),
        };
        for schema in &self.contracts {
            registry.declare_rules(schema);
        }
        for (channel, mut entry) in self.handlers {
            registration.handlers.push((channel.clone(), entry.id));
            entry.rule = registry.rule(&channel);
            registry.handlers.insert(channel, entry);
        }
        for (channel, entry) in self.listeners {
            registration.listeners.push((channel.clone(), entry.id));
            registry.listeners.entry(channel).or_default().push(entry);
        }
        drop(registry);
        // The rules are in force already (above, with the handlers): only the hashes remain.
        for schema in self.contracts {
            self.main.declare_hash(schema);
        }
        Ok(registration)
    }
}

/// The handlers and listeners one `{Trait}::handle` call registered. They stay registered until
/// [`Registration::remove`] (dropping this value keeps them, as Electron's `handle` does).
///
/// # Examples
///
/// ```
/// use ipc_runtime::Never;
/// use ipc_runtime::{InvokeChannel, Main};
///
/// const PING: InvokeChannel<ipc_runtime::NoArgs, u8, Never> = InvokeChannel::new("a:ping");
/// let main = Main::new();
/// let mut batch = main.registration();
/// batch.invoke(PING, |_, _| async { Ok(1) });
/// let registration = batch.commit().unwrap();
/// assert_eq!(registration.channels(), vec!["a:ping"]);
/// assert_eq!(registration.remove(), 1);
/// assert!(!main.has_handler("a:ping"));
/// ```
#[must_use = "dropping a Registration keeps the handlers; call `.remove()` to unregister them"]
pub struct Registration {
    main: Main,
    handlers: Vec<(Cow<'static, str>, ListenerId)>,
    listeners: Vec<(Cow<'static, str>, ListenerId)>,
}

impl Registration {
    /// The channels this registration covers.
    pub fn channels(&self) -> Vec<&str> {
        self.handlers
            .iter()
            .chain(&self.listeners)
            .map(|(c, _)| c.as_ref())
            .collect()
    }

    /// Removes exactly what this registration added (a handler someone registered later on the
    /// same channel is left alone). Returns how many entries were removed.
    pub fn remove(self) -> usize {
        let mut registry = self.main.inner.write_registry();
        let mut removed = 0;
        for (channel, id) in &self.handlers {
            if registry.handlers.get(channel).is_some_and(|e| e.id == *id) {
                registry.handlers.remove(channel);
                removed += 1;
            }
        }
        for (channel, id) in &self.listeners {
            if let Some(list) = registry.listeners.get_mut(channel) {
                let before = list.len();
                list.retain(|e| e.id != *id);
                removed += before - list.len();
                if list.is_empty() {
                    registry.listeners.remove(channel);
                }
            }
        }
        removed
    }
}

impl fmt::Debug for Registration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registration")
            .field("channels", &self.channels())
            .finish()
    }
}

pub(crate) fn no_handler(channel: &str) -> IpcError {
    IpcError::NoHandler {
        channel: channel.to_string(),
    }
}
