//! The contract as data: a [`Service`] of [`Method`]s with their parameters and types.

use std::collections::BTreeMap;

use crate::policy::Rule;

#[cfg(feature = "types")]
use serde::{Deserialize, Serialize};

/// The version of the schema's own data format (not of any contract).
pub const SCHEMA_FORMAT_VERSION: u32 = 1;

/// One contract: everything a `#[channels]` trait declares.
///
/// Built by the generated `schema()` function; serializable (JSON) so command-line tools can read
/// it.
///
/// # Examples
///
/// ```
/// use ipc_schema::{Method, MethodKind, Service};
///
/// let service = Service::builder("Todos", "todos")
///     .method(Method::new("log", "todos:log", MethodKind::Send).param_raw("line", "String", "string"))
///     .build();
/// assert_eq!(service.methods[0].channel, "todos:log");
/// assert_eq!(service.hash.len(), 16);
/// ```
#[derive(Debug, Clone)]
#[cfg_attr(feature = "types", derive(Serialize, Deserialize))]
#[non_exhaustive]
pub struct Service {
    /// The trait's name (`Todos`).
    pub name: String,
    /// The namespace every channel of the trait starts with (`todos`).
    pub namespace: String,
    /// The trait's doc comment.
    pub docs: String,
    /// The declared methods, in declaration order.
    pub methods: Vec<Method>,
    /// TypeScript declarations of every named type the contract uses, by name.
    pub types: BTreeMap<String, TypeDecl>,
    /// How 64-bit integers are treated on JSON channels.
    pub large_ints: LargeInts,
    /// Who may use the contract's channels (`#[policy(...)]` on the trait): any one of these
    /// rules admits a caller. Empty when the trait declares none. See [`crate::policy`].
    #[cfg_attr(
        feature = "types",
        serde(default, skip_serializing_if = "Vec::is_empty")
    )]
    pub policy: Vec<Rule>,
    /// The stable contract hash (16 lowercase hex digits); see [`crate::hash`].
    pub hash: String,
    /// The capability contracts whose handles this contract's values carry, directly or through
    /// another capability (`Handle<C>`: `#[channels(capability)]`), each once and without its
    /// own list; empty until [`Service::with_capabilities`] fills it (the generated `schema()`
    /// does). The JavaScript generators read the methods of the handles from here.
    #[cfg_attr(
        feature = "types",
        serde(default, skip_serializing_if = "Vec::is_empty")
    )]
    pub capabilities: Vec<Service>,
    /// The capabilities this contract's own types reach, as found while describing them.
    #[cfg_attr(feature = "types", serde(skip))]
    links: Vec<CapabilityLink>,
}

/// Equal when everything a schema says is (the links found while describing, which a schema read
/// back from JSON never has, are how `capabilities` was filled, not part of it).
impl PartialEq for Service {
    fn eq(&self, other: &Self) -> bool {
        let Service {
            name,
            namespace,
            docs,
            methods,
            types,
            large_ints,
            policy,
            hash,
            capabilities,
            links: _,
        } = self;
        *name == other.name
            && *namespace == other.namespace
            && *docs == other.docs
            && *methods == other.methods
            && *types == other.types
            && *large_ints == other.large_ints
            && *policy == other.policy
            && *hash == other.hash
            && *capabilities == other.capabilities
    }
}

impl Eq for Service {}

/// A capability contract that a described type reaches (it holds a `Handle<C>`): the
/// capability's namespace, and the function that describes it (a function rather than the
/// description, because a capability may reach itself: a directory handing out directories).
///
/// # Examples
///
/// ```
/// use ipc_schema::{CapabilityLink, Service};
///
/// fn counter() -> &'static Service {
///     static SCHEMA: std::sync::OnceLock<Service> = std::sync::OnceLock::new();
///     SCHEMA.get_or_init(|| Service::builder("Counter", "counter").build())
/// }
/// let link = CapabilityLink::new("counter", counter);
/// assert_eq!(link.namespace(), "counter");
/// assert_eq!(link.contract().name, "Counter");
/// ```
#[derive(Clone, Copy)]
pub struct CapabilityLink {
    namespace: &'static str,
    contract: fn() -> &'static Service,
}

impl CapabilityLink {
    /// The link to capability `namespace`, described by `contract`.
    pub fn new(namespace: &'static str, contract: fn() -> &'static Service) -> Self {
        CapabilityLink {
            namespace,
            contract,
        }
    }

    /// The capability's namespace.
    pub fn namespace(&self) -> &'static str {
        self.namespace
    }

    /// The capability's contract (its own, without the capabilities it reaches in turn).
    pub fn contract(&self) -> &'static Service {
        (self.contract)()
    }
}

impl PartialEq for CapabilityLink {
    fn eq(&self, other: &Self) -> bool {
        self.namespace == other.namespace
    }
}

impl Eq for CapabilityLink {}

impl std::fmt::Debug for CapabilityLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("CapabilityLink")
            .field(&self.namespace)
            .finish()
    }
}

impl Service {
    /// Starts a service description.
    pub fn builder(name: impl Into<String>, namespace: impl Into<String>) -> ServiceBuilder {
        ServiceBuilder {
            service: Service {
                name: name.into(),
                namespace: namespace.into(),
                docs: String::new(),
                methods: Vec::new(),
                types: BTreeMap::new(),
                large_ints: LargeInts::Reject,
                policy: Vec::new(),
                hash: String::new(),
                capabilities: Vec::new(),
                links: Vec::new(),
            },
        }
    }

    /// This contract with [`Service::capabilities`] filled: every capability contract its
    /// types reach, then every one those reach, each once (by namespace, sorted), each without
    /// its own list. A contract read back from JSON keeps the list it was written with.
    ///
    /// # Examples
    ///
    /// ```
    /// use ipc_schema::Service;
    ///
    /// let plain = Service::builder("Todos", "todos").build().with_capabilities();
    /// assert!(plain.capabilities.is_empty());
    /// ```
    pub fn with_capabilities(mut self) -> Service {
        let mut waiting: Vec<CapabilityLink> = self.links.clone();
        let mut found: Vec<Service> = Vec::new();
        while let Some(link) = waiting.pop() {
            if found.iter().any(|c| c.namespace == link.namespace()) {
                continue;
            }
            let mut contract = link.contract().clone();
            waiting.extend(contract.links.iter().copied());
            contract.capabilities.clear();
            contract.links.clear();
            found.push(contract);
        }
        if !found.is_empty() {
            found.sort_by(|a, b| a.namespace.cmp(&b.namespace));
            self.capabilities = found;
            // The capabilities are part of the contract (`crate::hash`).
            self.hash = crate::hash::contract_hash(&self);
        }
        self
    }

    /// The capability contract of namespace `namespace` among [`Service::capabilities`].
    pub fn capability(&self, namespace: &str) -> Option<&Service> {
        self.capabilities.iter().find(|c| c.namespace == namespace)
    }

    /// The method declared for `channel`, if any.
    pub fn method(&self, channel: &str) -> Option<&Method> {
        self.methods.iter().find(|m| m.channel == channel)
    }

    /// The policy levels a call on `method` must satisfy, outermost first: the trait's rules
    /// and the method's, each where declared (empty when neither is: the default applies, see
    /// the runtime's `Main` docs). A request (main's call) has none.
    ///
    /// # Examples
    ///
    /// ```
    /// use ipc_schema::{Method, MethodKind, RendererKind, Rule, Service};
    ///
    /// let service = Service::builder("Admin", "admin")
    ///     .policy(Rule::new().renderer(RendererKind::Native))
    ///     .method(Method::new("wipe", "admin:wipe", MethodKind::Invoke).policy(Rule::new().capability("admin")))
    ///     .build();
    /// assert_eq!(service.policy_levels(&service.methods[0]).len(), 2);
    /// ```
    pub fn policy_levels<'a>(&'a self, method: &'a Method) -> Vec<&'a [Rule]> {
        if method.kind == MethodKind::Request {
            return Vec::new();
        }
        [self.policy.as_slice(), method.policy.as_slice()]
            .into_iter()
            .filter(|level| !level.is_empty())
            .collect()
    }

    /// Names of the declared types whose TypeScript form carries a 64-bit integer (`bigint`),
    /// which a JSON channel cannot carry exactly. Empty when the contract is JavaScript-safe or
    /// opted in (`large_ints = "number"` or `"bigint"`).
    pub fn large_int_uses(&self) -> Vec<String> {
        if self.large_ints != LargeInts::Reject {
            return Vec::new();
        }
        let mut uses: Vec<String> = self
            .types
            .values()
            .filter(|decl| contains_word(&decl.declaration, "bigint"))
            .map(|decl| decl.name.clone())
            .collect();
        for method in &self.methods {
            for ty in method.types() {
                if contains_word(&ty.ts, "bigint") {
                    uses.push(format!("{}: {}", method.channel, ty.rust));
                }
            }
        }
        uses
    }
}

fn contains_word(haystack: &str, word: &str) -> bool {
    haystack.match_indices(word).any(|(at, _)| {
        let before = haystack[..at].chars().next_back();
        let after = haystack[at + word.len()..].chars().next();
        let boundary = |c: Option<char>| c.is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
        boundary(before) && boundary(after)
    })
}

/// Builds a [`Service`]; [`ServiceBuilder::build`] computes the contract hash.
#[derive(Debug)]
pub struct ServiceBuilder {
    service: Service,
}

impl ServiceBuilder {
    /// Sets the trait's documentation.
    pub fn docs(mut self, docs: impl Into<String>) -> Self {
        self.service.docs = docs.into();
        self
    }

    /// Sets the 64-bit integer rule.
    pub fn large_ints(mut self, rule: LargeInts) -> Self {
        self.service.large_ints = rule;
        self
    }

    /// Adds a rule to the contract's policy (any one rule admits a caller).
    pub fn policy(mut self, rule: Rule) -> Self {
        self.service.policy.push(rule);
        self
    }

    /// Adds a rule to the contract's policy (by reference, for generated code).
    pub fn push_policy(&mut self, rule: Rule) {
        self.service.policy.push(rule);
    }

    /// Appends a method.
    pub fn method(mut self, method: Method) -> Self {
        self.push_method(method);
        self
    }

    /// Appends a method (by reference, for generated code with `#[cfg]`-gated methods).
    pub fn push_method(&mut self, method: Method) {
        for link in &method.links {
            if !self.service.links.contains(link) {
                self.service.links.push(*link);
            }
        }
        for decl in &method.decls {
            self.service
                .types
                .entry(decl.name.clone())
                .or_insert_with(|| decl.clone());
        }
        self.service.methods.push(method);
    }

    /// Finishes the description and computes its hash.
    pub fn build(mut self) -> Service {
        for method in &mut self.service.methods {
            method.decls.clear();
            method.links.clear();
        }
        self.service.hash = crate::hash::contract_hash(&self.service);
        self.service
    }
}

/// The deadline of a `#[sync]` method that declares none, in milliseconds.
pub const DEFAULT_SYNC_TIMEOUT_MS: u64 = 5_000;

/// How long a call waits when neither it nor its caller sets a deadline, in milliseconds: the
/// Rust renderer's default (`ipc_runtime::DEFAULT_CALL_TIMEOUT`) and the generated JavaScript
/// peers' for calls through a handle.
pub const DEFAULT_CALL_TIMEOUT_MS: u64 = 30_000;

/// The longest deadline a `#[sync]` method may declare, in milliseconds: a renderer blocked
/// longer than a minute is frozen for its user, whatever the reason.
pub const MAX_SYNC_TIMEOUT_MS: u64 = 60_000;

/// The kind of a declared method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "types", derive(Serialize, Deserialize))]
#[cfg_attr(feature = "types", serde(rename_all = "lowercase"))]
#[non_exhaustive]
pub enum MethodKind {
    /// Request/response from a renderer to main (Electron's `invoke`/`handle`).
    Invoke,
    /// Fire-and-forget from a renderer to main (Electron's `send`/`on`).
    Send,
    /// Pushed from main to renderers (Electron's `webContents.send`/`ipcRenderer.on`).
    Event,
    /// Request/response from main to one renderer (`#[request]`): the renderer handles it.
    Request,
    /// Request/response from a renderer to main that blocks the renderer until main answers
    /// (`#[sync]`, Electron's `sendSync`/`event.returnValue`), always within a deadline
    /// ([`Method::timeout_ms`]). On the wire it is an invoke.
    Sync,
}

impl MethodKind {
    /// The lowercase name used in the schema and in messages (`"invoke"`).
    pub fn as_str(self) -> &'static str {
        match self {
            MethodKind::Invoke => "invoke",
            MethodKind::Send => "send",
            MethodKind::Event => "event",
            MethodKind::Request => "request",
            MethodKind::Sync => "sync",
        }
    }
}

/// How a contract treats 64-bit integers, which JavaScript numbers cannot hold exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "types", derive(Serialize, Deserialize))]
#[cfg_attr(feature = "types", serde(rename_all = "lowercase"))]
#[non_exhaustive]
pub enum LargeInts {
    /// The default: the macro rejects them in signatures, and the JavaScript generators refuse a
    /// contract whose types still carry them.
    #[default]
    Reject,
    /// Opted in: they travel as JSON numbers and are typed `number`; values above 2^53 lose
    /// precision in JavaScript.
    Number,
    /// Opted in: they are typed `bigint` and cross exactly, as MessagePack integers (the
    /// generated JavaScript peers read every one into a `bigint`).
    BigInt,
}

/// One declared method (a channel).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "types", derive(Serialize, Deserialize))]
#[non_exhaustive]
pub struct Method {
    /// The Rust method name, without `r#`.
    pub name: String,
    /// The JavaScript name (`markDone`, or `onChanged` for events).
    pub js_name: String,
    /// The wire channel name (`todos:mark_done`).
    pub channel: String,
    /// Invoke, send, event, request or sync.
    pub kind: MethodKind,
    /// Positional parameters (for events: the payload's fields).
    pub params: Vec<Param>,
    /// What an invoke or a request returns on success (`None` for send and event).
    pub output: Option<TypeRef>,
    /// The application error of a fallible invoke (`Result<T, E>`).
    pub error: Option<TypeRef>,
    /// The method's doc comment.
    pub docs: String,
    /// Who may use this channel besides what the trait's policy says (`#[policy(...)]` on the
    /// method): any one of these rules admits a caller. Empty when the method declares none.
    #[cfg_attr(
        feature = "types",
        serde(default, skip_serializing_if = "Vec::is_empty")
    )]
    pub policy: Vec<Rule>,
    /// The deadline of a sync method (`#[sync(timeout_ms = ...)]`), in milliseconds: the caller
    /// is blocked at most this long. `None` for every other kind.
    #[cfg_attr(
        feature = "types",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub timeout_ms: Option<u64>,
    #[cfg_attr(feature = "types", serde(skip))]
    decls: Vec<TypeDecl>,
    #[cfg_attr(feature = "types", serde(skip))]
    links: Vec<CapabilityLink>,
}

impl Method {
    /// Describes a method; add parameters and types with the other builder methods.
    pub fn new(name: impl Into<String>, channel: impl Into<String>, kind: MethodKind) -> Self {
        let name = crate::naming::unraw(&name.into()).to_owned();
        let js_name = crate::naming::js_method_name(&name, kind);
        Method {
            name,
            js_name,
            channel: channel.into(),
            kind,
            params: Vec::new(),
            output: None,
            error: None,
            docs: String::new(),
            policy: Vec::new(),
            timeout_ms: None,
            decls: Vec::new(),
            links: Vec::new(),
        }
    }

    /// The deadline of a sync method in milliseconds: its own, else [`DEFAULT_SYNC_TIMEOUT_MS`].
    ///
    /// # Examples
    ///
    /// ```
    /// use ipc_schema::{DEFAULT_SYNC_TIMEOUT_MS, Method, MethodKind};
    ///
    /// let count = Method::new("count", "todos:count", MethodKind::Sync);
    /// assert_eq!(count.sync_timeout_ms(), DEFAULT_SYNC_TIMEOUT_MS);
    /// ```
    pub fn sync_timeout_ms(&self) -> u64 {
        self.timeout_ms.unwrap_or(DEFAULT_SYNC_TIMEOUT_MS)
    }

    /// Sets the deadline of a sync method, in milliseconds.
    ///
    /// # Examples
    ///
    /// ```
    /// use ipc_schema::{Method, MethodKind};
    ///
    /// let count = Method::new("count", "todos:count", MethodKind::Sync).timeout_ms(2000);
    /// assert_eq!(count.timeout_ms, Some(2000));
    /// ```
    pub fn timeout_ms(mut self, timeout_ms: u64) -> Self {
        self.timeout_ms = Some(timeout_ms);
        self
    }

    /// Sets the doc comment.
    pub fn docs(mut self, docs: impl Into<String>) -> Self {
        self.docs = docs.into();
        self
    }

    /// Adds a rule to the method's policy (any one rule admits a caller).
    pub fn policy(mut self, rule: Rule) -> Self {
        self.policy.push(rule);
        self
    }

    /// Adds a parameter whose TypeScript form is given as text.
    pub fn param_raw(mut self, name: &str, rust: &str, ts: &str) -> Self {
        self.params.push(Param::new(name, TypeRef::new(rust, ts)));
        self
    }

    /// Sets the success type from text.
    pub fn output_raw(mut self, rust: &str, ts: &str) -> Self {
        self.output = Some(TypeRef::new(rust, ts));
        self
    }

    /// Sets the application error type from text.
    pub fn error_raw(mut self, rust: &str, ts: &str) -> Self {
        self.error = Some(TypeRef::new(rust, ts));
        self
    }

    /// Adds declarations of named types this method uses.
    pub fn with_decls(mut self, decls: impl IntoIterator<Item = TypeDecl>) -> Self {
        self.decls.extend(decls);
        self
    }

    /// Every type the method mentions: parameters, output, error.
    pub fn types(&self) -> impl Iterator<Item = &TypeRef> {
        self.params
            .iter()
            .map(|p| &p.ty)
            .chain(self.output.iter())
            .chain(self.error.iter())
    }
}

#[cfg(feature = "types")]
impl Method {
    fn with_links(mut self, links: Vec<CapabilityLink>) -> Self {
        for link in links {
            if !self.links.contains(&link) {
                self.links.push(link);
            }
        }
        self
    }

    /// Adds a parameter described by its Rust type.
    pub fn param<T: crate::TypeInfo + ?Sized>(
        self,
        name: &str,
        rust: &str,
        rule: LargeInts,
    ) -> Self {
        let ((ty, decls), links) = crate::types::reaching(|| T::describe(rust, rule));
        let mut method = self.with_decls(decls).with_links(links);
        method.params.push(Param::new(name, ty));
        method
    }

    /// Sets the success type of an invoke.
    pub fn output<T: crate::TypeInfo + ?Sized>(self, rust: &str, rule: LargeInts) -> Self {
        let ((ty, decls), links) = crate::types::reaching(|| T::describe(rust, rule));
        let mut method = self.with_decls(decls).with_links(links);
        method.output = Some(ty);
        method
    }

    /// Sets the application error of a fallible invoke.
    pub fn error<T: crate::TypeInfo + ?Sized>(self, rust: &str, rule: LargeInts) -> Self {
        let ((ty, decls), links) = crate::types::reaching(|| T::describe(rust, rule));
        let mut method = self.with_decls(decls).with_links(links);
        method.error = Some(ty);
        method
    }
}

/// One positional parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "types", derive(Serialize, Deserialize))]
#[non_exhaustive]
pub struct Param {
    /// The Rust name, without `r#`.
    pub name: String,
    /// The JavaScript name (`lowerCamelCase`).
    pub js_name: String,
    /// Its type.
    pub ty: TypeRef,
}

impl Param {
    /// Describes a parameter.
    pub fn new(name: &str, ty: TypeRef) -> Self {
        let name = crate::naming::unraw(name).to_owned();
        Param {
            js_name: crate::naming::js_name(&name),
            name,
            ty,
        }
    }
}

/// A type as the contract mentions it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "types", derive(Serialize, Deserialize))]
#[non_exhaustive]
pub struct TypeRef {
    /// The Rust type as written in the trait (`Vec<Todo>`).
    pub rust: String,
    /// The TypeScript type expression (`Array<Todo>`); named types refer to [`Service::types`].
    pub ts: String,
}

impl TypeRef {
    /// A type reference.
    pub fn new(rust: impl Into<String>, ts: impl Into<String>) -> Self {
        TypeRef {
            rust: rust.into(),
            ts: ts.into(),
        }
    }
}

/// The TypeScript declaration of a named type (`type Todo = { id: number, title: string };`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "types", derive(Serialize, Deserialize))]
#[non_exhaustive]
pub struct TypeDecl {
    /// The type's TypeScript name.
    pub name: String,
    /// The full declaration.
    pub declaration: String,
    /// The type's doc comment, if any.
    pub docs: Option<String>,
}

impl TypeDecl {
    /// A declaration.
    pub fn new(
        name: impl Into<String>,
        declaration: impl Into<String>,
        docs: Option<String>,
    ) -> Self {
        TypeDecl {
            name: name.into(),
            declaration: declaration.into(),
            docs,
        }
    }
}
