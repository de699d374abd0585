//! JavaScript and TypeScript bindings generated from one or more [`Service`]s.
//!
//! [`Bindings`] turns contracts into the files a web renderer needs:
//!
//! | file | what it is |
//! |---|---|
//! | `preload.js` | the Electron preload (CommonJS, requires only `electron`, sandbox-safe) that exposes `window.<key>` |
//! | `<key>.d.ts` | the page's types: `declare global { interface Window { <key>: … } }`, the named types, JSDoc |
//! | `bridge.js` | the Electron main-process bridge: `ipcMain` handlers forwarding to the Rust main over the wire protocol |
//! | `client.mjs` | a browser ES module with the same API object over a WebSocket |
//! | `client.d.mts` | the types of `client.mjs` |
//!
//! Generation is deterministic: the same contracts and settings always give the same bytes, so
//! the files can be checked in and verified with [`Bindings::check`] (or `ipc-bindgen --check`).
//!
//! **API layout.** With one service the methods sit directly on `window.<key>` (`window.todos.add`);
//! with several, each service is a namespace object named after its namespace in
//! `lowerCamelCase` (`window.app.todos.add`, `window.app.settings.get`). The key defaults to the
//! namespace of a single service and to `"ipc"` for several.
//!
//! The wire protocol and the preload↔bridge protocol are described in `docs/PROTOCOL.md`
//! ("Electron bridge").
//!
//! # Examples
//!
//! ```
//! use ipc_schema::js::{Bindings, Isolation};
//! use ipc_schema::{Method, MethodKind, Service};
//!
//! let todos = Service::builder("Todos", "todos")
//!     .method(
//!         Method::new("add", "todos:add", MethodKind::Invoke)
//!             .param_raw("title", "String", "string")
//!             .output_raw("u32", "number"),
//!     )
//!     .build();
//! let files = Bindings::new(&[&todos]).isolation(Isolation::Auto).generate()?;
//! let names: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
//! assert_eq!(names, ["preload.js", "todos.d.ts", "bridge.js", "client.mjs", "client.d.mts"]);
//! assert!(files[1].contents.contains("add(title: string, options?: IpcCallOptions): Promise<number>;"));
//! # Ok::<(), ipc_schema::js::Error>(())
//! ```

mod bridge;
mod browser;
mod dts;
mod preload;
mod shape;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

use crate::model::{MethodKind, Service, TypeDecl};

/// The channel the preload uses to tell the bridge that a call is no longer wanted.
///
/// # Examples
///
/// ```
/// // No contract channel can collide with it: channel segments start with a letter or `_`
/// // followed by letters, digits, `_`, `-` or `.`, and the namespace `__ipc` is not a
/// // `snake_case` trait name.
/// assert_eq!(ipc_schema::js::CANCEL_CHANNEL, "__ipc:cancel");
/// ```
pub const CANCEL_CHANNEL: &str = "__ipc:cancel";

/// How the generated preload exposes the API to the page.
///
/// # Examples
///
/// ```
/// use ipc_schema::js::Isolation;
///
/// assert_eq!("isolated".parse::<Isolation>(), Ok(Isolation::ContextIsolated));
/// assert_eq!(Isolation::NoIsolation.as_str(), "none");
/// assert_eq!(Isolation::default(), Isolation::Auto);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Isolation {
    /// Decide at run time from `process.contextIsolated` (the default).
    #[default]
    Auto,
    /// Always go through `contextBridge` (the window has `contextIsolation: true`).
    ContextIsolated,
    /// Always define `window[key]` directly (the window has `contextIsolation: false`).
    NoIsolation,
}

impl Isolation {
    /// The name used on the command line and in the generated preload: `auto`, `isolated`,
    /// `none`.
    ///
    /// # Examples
    ///
    /// ```
    /// use ipc_schema::js::Isolation;
    ///
    /// for mode in [Isolation::Auto, Isolation::ContextIsolated, Isolation::NoIsolation] {
    ///     assert_eq!(mode.as_str().parse::<Isolation>(), Ok(mode));
    /// }
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Isolation::Auto => "auto",
            Isolation::ContextIsolated => "isolated",
            Isolation::NoIsolation => "none",
        }
    }
}

impl std::str::FromStr for Isolation {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "auto" => Ok(Isolation::Auto),
            "isolated" => Ok(Isolation::ContextIsolated),
            "none" => Ok(Isolation::NoIsolation),
            other => Err(format!(
                "unknown isolation mode `{other}`; expected `auto`, `isolated` or `none`"
            )),
        }
    }
}

/// One generated file: a path relative to the output directory and its full contents.
///
/// # Examples
///
/// ```
/// use ipc_schema::js::Bindings;
/// use ipc_schema::{Method, MethodKind, Service};
///
/// let service = Service::builder("Echo", "echo")
///     .method(Method::new("ping", "echo:ping", MethodKind::Invoke).output_raw("()", "null"))
///     .build();
/// let files = Bindings::new(&[&service]).generate()?;
/// assert!(files.iter().all(|f| f.contents.ends_with('\n')));
/// # Ok::<(), ipc_schema::js::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedFile {
    /// The file's path relative to the output directory (`preload.js`).
    pub path: String,
    /// The file's contents.
    pub contents: String,
}

/// A file on disk that differs from what the generators produce now.
///
/// # Examples
///
/// ```
/// use ipc_schema::js::{StaleFile, StaleReason};
///
/// let file = StaleFile { path: "out/preload.js".into(), reason: StaleReason::Missing };
/// assert_eq!(file.to_string(), "out/preload.js (missing)");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaleFile {
    /// Where the file is (the output directory joined with the generated path).
    pub path: PathBuf,
    /// Why it is stale.
    pub reason: StaleReason,
}

impl fmt::Display for StaleFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let reason = match self.reason {
            StaleReason::Missing => "missing",
            StaleReason::Different => "differs",
        };
        write!(f, "{} ({reason})", self.path.display())
    }
}

/// Why a file is stale.
///
/// # Examples
///
/// ```
/// use ipc_schema::js::StaleReason;
/// assert_ne!(StaleReason::Missing, StaleReason::Different);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StaleReason {
    /// The file does not exist.
    Missing,
    /// The file exists with other contents.
    Different,
}

/// The files [`Bindings::check`] found out of date.
///
/// # Examples
///
/// ```
/// use ipc_schema::js::{Stale, StaleFile, StaleReason};
///
/// let stale = Stale { files: vec![StaleFile { path: "a.js".into(), reason: StaleReason::Different }] };
/// assert!(stale.to_string().contains("a.js (differs)"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stale {
    /// Every stale file, in generation order.
    pub files: Vec<StaleFile>,
}

impl fmt::Display for Stale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} generated file(s) are stale; regenerate them:",
            self.files.len()
        )?;
        for file in &self.files {
            write!(f, "\n  {file}")?;
        }
        Ok(())
    }
}

/// Why bindings could not be generated, written or checked.
///
/// # Examples
///
/// ```
/// use ipc_schema::js::{Bindings, Error};
///
/// assert!(matches!(Bindings::new(&[]).generate(), Err(Error::NoServices)));
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// No service was given.
    NoServices,
    /// A contract carries 64-bit integers, which JavaScript numbers cannot hold exactly (see
    /// [`Service::large_int_uses`]); opt in with `large_ints = "number"` or change the types.
    LargeInts {
        /// The service's name.
        service: String,
        /// Where the integers are.
        uses: Vec<String>,
    },
    /// The API key is not a JavaScript identifier.
    InvalidKey {
        /// The key.
        key: String,
    },
    /// Two things would get the same JavaScript or TypeScript name.
    Conflict {
        /// What collides, as a sentence.
        what: String,
    },
    /// A schema file could not be read as JSON of one `Service` or an array of them.
    Schema {
        /// Why.
        reason: String,
    },
    /// A file could not be read or written.
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// [`Bindings::check`] found files that differ from the generated ones.
    Stale(Stale),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NoServices => f.write_str("no service to generate bindings for"),
            Error::LargeInts { service, uses } => write!(
                f,
                "contract `{service}` carries 64-bit integers, which JavaScript numbers cannot hold \
                 exactly ({}); use 32-bit integers or strings, or opt in with \
                 `#[channels(large_ints = \"number\")]`",
                uses.join(", ")
            ),
            Error::InvalidKey { key } => write!(
                f,
                "API key `{key}` is not a JavaScript identifier (letters, digits, `_` and `$`, \
                 not starting with a digit)"
            ),
            Error::Conflict { what } => f.write_str(what),
            Error::Schema { reason } => write!(f, "invalid schema: {reason}"),
            Error::Io { path, source } => write!(f, "{}: {source}", path.display()),
            Error::Stale(stale) => stale.fmt(f),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// The generator settings: which contracts, under which `window` key, in which isolation mode.
///
/// # Examples
///
/// ```
/// use ipc_schema::js::{Bindings, Isolation};
/// use ipc_schema::{Method, MethodKind, Service};
///
/// let todos = Service::builder("Todos", "todos")
///     .method(Method::new("log", "todos:log", MethodKind::Send).param_raw("line", "String", "string"))
///     .build();
/// let settings = Service::builder("Settings", "settings")
///     .method(Method::new("changed", "settings:changed", MethodKind::Event).param_raw("key", "String", "string"))
///     .build();
/// let files = Bindings::new(&[&todos, &settings])
///     .api_key("app")
///     .isolation(Isolation::ContextIsolated)
///     .generate()?;
/// let dts = files.iter().find(|f| f.path == "app.d.ts").unwrap();
/// assert!(dts.contents.contains("readonly settings: SettingsApi;"));
/// # Ok::<(), ipc_schema::js::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Bindings<'a> {
    services: Vec<&'a Service>,
    key: Option<String>,
    isolation: Isolation,
}

impl<'a> Bindings<'a> {
    /// Bindings for these contracts, in this order.
    ///
    /// # Examples
    ///
    /// ```
    /// use ipc_schema::js::Bindings;
    /// use ipc_schema::{Method, MethodKind, Service};
    ///
    /// let service = Service::builder("Clock", "clock")
    ///     .method(Method::new("tick", "clock:tick", MethodKind::Event).param_raw("n", "u32", "number"))
    ///     .build();
    /// let files = Bindings::new(&[&service]).generate()?;
    /// // The key defaults to the namespace of a single contract.
    /// assert!(files.iter().any(|f| f.path == "clock.d.ts"));
    /// # Ok::<(), ipc_schema::js::Error>(())
    /// ```
    pub fn new(services: &[&'a Service]) -> Self {
        Bindings {
            services: services.to_vec(),
            key: None,
            isolation: Isolation::Auto,
        }
    }

    /// The property of `window` the API is exposed as (default: the namespace of a single
    /// service in `lowerCamelCase`, `"ipc"` for several). It must be a JavaScript identifier.
    ///
    /// # Examples
    ///
    /// ```
    /// use ipc_schema::js::Bindings;
    /// use ipc_schema::{Method, MethodKind, Service};
    ///
    /// let service = Service::builder("Todos", "todos")
    ///     .method(Method::new("log", "todos:log", MethodKind::Send).param_raw("line", "String", "string"))
    ///     .build();
    /// let files = Bindings::new(&[&service]).api_key("backend").generate()?;
    /// let dts = files.iter().find(|f| f.path == "backend.d.ts").unwrap();
    /// assert!(dts.contents.contains("readonly backend: TodosApi;"));
    /// # Ok::<(), ipc_schema::js::Error>(())
    /// ```
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.key = Some(key.into());
        self
    }

    /// How the preload exposes the API (default: [`Isolation::Auto`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use ipc_schema::js::{Bindings, Isolation};
    /// use ipc_schema::{Method, MethodKind, Service};
    ///
    /// let service = Service::builder("Todos", "todos")
    ///     .method(Method::new("log", "todos:log", MethodKind::Send).param_raw("line", "String", "string"))
    ///     .build();
    /// let files = Bindings::new(&[&service]).isolation(Isolation::NoIsolation).generate()?;
    /// assert!(files[0].contents.contains("const ISOLATION = \"none\";"));
    /// # Ok::<(), ipc_schema::js::Error>(())
    /// ```
    pub fn isolation(mut self, isolation: Isolation) -> Self {
        self.isolation = isolation;
        self
    }

    /// Generates every file, in a fixed order: `preload.js`, `<key>.d.ts`, `bridge.js`,
    /// `client.mjs`, `client.d.mts`.
    ///
    /// # Errors
    ///
    /// [`Error::NoServices`], [`Error::LargeInts`] for a contract with 64-bit integers,
    /// [`Error::InvalidKey`], and [`Error::Conflict`] when two namespaces, methods or type names
    /// would collide.
    ///
    /// # Examples
    ///
    /// ```
    /// use ipc_schema::js::Bindings;
    /// use ipc_schema::{Method, MethodKind, Service};
    ///
    /// let service = Service::builder("Todos", "todos")
    ///     .method(
    ///         Method::new("toggle", "todos:toggle", MethodKind::Invoke)
    ///             .param_raw("id", "u32", "number")
    ///             .output_raw("bool", "boolean")
    ///             .error_raw("String", "string"),
    ///     )
    ///     .build();
    /// let files = Bindings::new(&[&service]).generate()?;
    /// let bridge = &files[2];
    /// assert_eq!(bridge.path, "bridge.js");
    /// assert!(bridge.contents.contains("const INVOKE_CHANNELS = [\"todos:toggle\"];"));
    /// assert!(files[1].contents.contains("toggle: IpcAppError<string> | IpcFrameworkError;"));
    /// # Ok::<(), ipc_schema::js::Error>(())
    /// ```
    pub fn generate(&self) -> Result<Vec<GeneratedFile>, Error> {
        let model = Model::build(self)?;
        Ok(vec![
            GeneratedFile {
                path: "preload.js".into(),
                contents: preload::render(&model),
            },
            GeneratedFile {
                path: format!("{}.d.ts", model.key),
                contents: dts::render_window(&model),
            },
            GeneratedFile {
                path: "bridge.js".into(),
                contents: bridge::render(&model),
            },
            GeneratedFile {
                path: "client.mjs".into(),
                contents: browser::render(&model),
            },
            GeneratedFile {
                path: "client.d.mts".into(),
                contents: dts::render_client(&model),
            },
        ])
    }

    /// Generates the files and writes them into `dir` (created if needed). Files whose contents
    /// are already right are left untouched. Returns the paths of the files it wrote.
    ///
    /// # Errors
    ///
    /// Any [`Bindings::generate`] error, or [`Error::Io`].
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let service = ipc_schema::Service::builder("T", "t").build();
    /// ipc_schema::js::Bindings::new(&[&service]).write_to("renderer/generated")?;
    /// # Ok::<(), ipc_schema::js::Error>(())
    /// ```
    pub fn write_to(&self, dir: impl AsRef<Path>) -> Result<Vec<PathBuf>, Error> {
        let dir = dir.as_ref();
        let files = self.generate()?;
        std::fs::create_dir_all(dir).map_err(|source| Error::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let mut written = Vec::new();
        for file in files {
            let path = dir.join(&file.path);
            if std::fs::read(&path).is_ok_and(|old| old == file.contents.as_bytes()) {
                continue;
            }
            std::fs::write(&path, file.contents.as_bytes()).map_err(|source| Error::Io {
                path: path.clone(),
                source,
            })?;
            written.push(path);
        }
        Ok(written)
    }

    /// Checks that `dir` holds exactly the files [`Bindings::generate`] produces now.
    ///
    /// # Errors
    ///
    /// [`Error::Stale`] listing every missing or different file; any generation error; or
    /// [`Error::Io`] when a file exists but cannot be read.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let service = ipc_schema::Service::builder("T", "t").build();
    /// use ipc_schema::js::{Bindings, Error};
    ///
    /// match Bindings::new(&[&service]).check("renderer/generated") {
    ///     Ok(()) => println!("bindings are up to date"),
    ///     Err(Error::Stale(stale)) => eprintln!("{stale}"),
    ///     Err(other) => eprintln!("{other}"),
    /// }
    /// ```
    pub fn check(&self, dir: impl AsRef<Path>) -> Result<(), Error> {
        let dir = dir.as_ref();
        let mut stale = Vec::new();
        for file in self.generate()? {
            let path = dir.join(&file.path);
            match std::fs::read(&path) {
                Ok(old) if old == file.contents.as_bytes() => {}
                Ok(_) => stale.push(StaleFile {
                    path,
                    reason: StaleReason::Different,
                }),
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                    stale.push(StaleFile {
                        path,
                        reason: StaleReason::Missing,
                    })
                }
                Err(source) => return Err(Error::Io { path, source }),
            }
        }
        if stale.is_empty() {
            Ok(())
        } else {
            Err(Error::Stale(Stale { files: stale }))
        }
    }
}

/// Reads schema JSON: one serialized [`Service`] or an array of them (what
/// [`Service::to_json`] writes). Each contract's hash is recomputed and must match the one in
/// the file, so a hand-edited or foreign schema is caught before bindings are generated from it.
///
/// # Errors
///
/// [`Error::Schema`] when the text is not such JSON or a hash does not match.
///
/// # Examples
///
/// ```
/// use ipc_schema::{Method, MethodKind, Service};
///
/// let service = Service::builder("Todos", "todos")
///     .method(Method::new("log", "todos:log", MethodKind::Send).param_raw("line", "String", "string"))
///     .build();
/// let read = ipc_schema::js::read_schemas(&service.to_json())?;
/// assert_eq!(read, vec![service.clone()]);
/// let both = ipc_schema::js::read_schemas(&format!("[{0}, {0}]", service.to_json()))?;
/// assert_eq!(both.len(), 2);
/// # Ok::<(), ipc_schema::js::Error>(())
/// ```
pub fn read_schemas(json: &str) -> Result<Vec<Service>, Error> {
    let value: serde_json::Value = serde_json::from_str(json).map_err(|e| Error::Schema {
        reason: e.to_string(),
    })?;
    let services: Vec<Service> = if value.is_array() {
        serde_json::from_value(value)
    } else {
        serde_json::from_value(value).map(|one| vec![one])
    }
    .map_err(|e| Error::Schema {
        reason: e.to_string(),
    })?;
    for service in &services {
        let computed = crate::hash::contract_hash(service);
        if computed != service.hash {
            return Err(Error::Schema {
                reason: format!(
                    "contract `{}` says its hash is {} but its contents hash to {computed}; \
                     export the schema again from the Rust contract",
                    service.namespace, service.hash
                ),
            });
        }
    }
    Ok(services)
}

impl Service {
    /// The contract as pretty-printed JSON: the input of `ipc-bindgen --schema` (see
    /// [`read_schemas`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use ipc_schema::{Method, MethodKind, Service};
    ///
    /// let service = Service::builder("Todos", "todos")
    ///     .method(Method::new("log", "todos:log", MethodKind::Send).param_raw("line", "String", "string"))
    ///     .build();
    /// let json = service.to_json();
    /// assert!(json.contains("\"channel\": \"todos:log\""));
    /// ```
    pub fn to_json(&self) -> String {
        // Serializing plain strings, vectors and maps cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

/// Names the generators declare themselves; contract types must not use them.
const RESERVED_TYPE_NAMES: &[&str] = &[
    "IpcAppError",
    "IpcFrameworkError",
    "IpcErrorCode",
    "IpcCallOptions",
    "IpcDisposer",
    "IpcApi",
    "ConnectOptions",
    "Window",
];

/// JavaScript reserved words (and strict-mode restricted names) that cannot name a parameter.
const RESERVED_WORDS: &[&str] = &[
    "arguments",
    "await",
    "break",
    "case",
    "catch",
    "class",
    "const",
    "continue",
    "debugger",
    "default",
    "delete",
    "do",
    "else",
    "enum",
    "eval",
    "export",
    "extends",
    "false",
    "finally",
    "for",
    "function",
    "if",
    "implements",
    "import",
    "in",
    "instanceof",
    "interface",
    "let",
    "new",
    "null",
    "package",
    "private",
    "protected",
    "public",
    "return",
    "static",
    "super",
    "switch",
    "this",
    "throw",
    "true",
    "try",
    "typeof",
    "var",
    "void",
    "while",
    "with",
    "yield",
];

/// Everything the renderers need, resolved once: names, shapes, types.
pub(crate) struct Model<'a> {
    pub key: String,
    pub isolation: Isolation,
    pub services: Vec<ServiceModel<'a>>,
    /// Named types of every service, deduplicated by name.
    pub types: BTreeMap<String, &'a TypeDecl>,
    /// Namespace to contract hash.
    pub contracts: BTreeMap<String, String>,
}

pub(crate) struct ServiceModel<'a> {
    pub service: &'a Service,
    /// The namespace property when several services share the key; `None` for one service.
    pub property: Option<String>,
    /// `TodosApi`.
    pub api_type: String,
    /// `TodosErrors`.
    pub errors_type: String,
    pub methods: Vec<MethodModel<'a>>,
}

pub(crate) struct MethodModel<'a> {
    pub method: &'a crate::model::Method,
    /// Parameter names safe to use as TypeScript identifiers.
    pub param_names: Vec<String>,
    /// The argument checks, as JavaScript literals.
    pub shapes: Vec<String>,
}

impl<'a> Model<'a> {
    fn build(bindings: &Bindings<'a>) -> Result<Self, Error> {
        if bindings.services.is_empty() {
            return Err(Error::NoServices);
        }
        for service in &bindings.services {
            let uses = service.large_int_uses();
            if !uses.is_empty() {
                return Err(Error::LargeInts {
                    service: service.name.clone(),
                    uses,
                });
            }
        }
        let several = bindings.services.len() > 1;
        let key = match &bindings.key {
            Some(key) => key.clone(),
            None if several => "ipc".into(),
            None => js_property(&bindings.services[0].namespace),
        };
        if !is_identifier(&key) {
            return Err(Error::InvalidKey { key });
        }

        let mut types: BTreeMap<String, &'a TypeDecl> = BTreeMap::new();
        let mut contracts = BTreeMap::new();
        let mut properties = BTreeSet::new();
        let mut type_names = BTreeSet::new();
        let mut services = Vec::new();
        for service in &bindings.services {
            if contracts
                .insert(service.namespace.clone(), service.hash.clone())
                .is_some()
            {
                return Err(Error::Conflict {
                    what: format!("two services use the namespace `{}`", service.namespace),
                });
            }
            for (name, decl) in &service.types {
                if RESERVED_TYPE_NAMES.contains(&name.as_str()) {
                    return Err(Error::Conflict {
                        what: format!(
                            "type `{name}` of contract `{}` has a name the generated bindings \
                             declare themselves; rename it",
                            service.namespace
                        ),
                    });
                }
                match types.get(name) {
                    Some(existing) if existing.declaration != decl.declaration => {
                        return Err(Error::Conflict {
                            what: format!("two contracts declare different types named `{name}`"),
                        });
                    }
                    Some(_) => {}
                    None => {
                        types.insert(name.clone(), decl);
                    }
                }
            }
            let property = several.then(|| js_property(&service.namespace));
            if let Some(property) = &property {
                if !is_identifier(property) || !properties.insert(property.clone()) {
                    return Err(Error::Conflict {
                        what: format!(
                            "namespace `{}` does not give a distinct JavaScript property name \
                             (`{property}`)",
                            service.namespace
                        ),
                    });
                }
            }
            let base = pascal_case(&service.name);
            let api_type = format!("{base}Api");
            let errors_type = format!("{base}Errors");
            for name in [&api_type, &errors_type] {
                if !type_names.insert(name.clone()) {
                    return Err(Error::Conflict {
                        what: format!("two services would both declare `{name}`"),
                    });
                }
            }
            let mut js_names = BTreeSet::new();
            let mut methods = Vec::new();
            for method in &service.methods {
                if !is_identifier(&method.js_name) || !js_names.insert(method.js_name.clone()) {
                    return Err(Error::Conflict {
                        what: format!(
                            "method `{}` of `{}` does not give a distinct JavaScript name \
                             (`{}`)",
                            method.name, service.namespace, method.js_name
                        ),
                    });
                }
                let mut param_names: Vec<String> = Vec::new();
                for param in &method.params {
                    let mut name = if is_identifier(&param.js_name) {
                        param.js_name.clone()
                    } else {
                        "arg".to_string()
                    };
                    while RESERVED_WORDS.contains(&name.as_str())
                        || param_names.contains(&name)
                        || name == "options"
                        || name == "listener"
                    {
                        name.push('_');
                    }
                    param_names.push(name);
                }
                let shapes = method
                    .params
                    .iter()
                    .map(|p| shape::of(&p.ty, &service.types).to_js())
                    .collect();
                methods.push(MethodModel {
                    method,
                    param_names,
                    shapes,
                });
            }
            services.push(ServiceModel {
                service,
                property,
                api_type,
                errors_type,
                methods,
            });
        }
        for name in types.keys() {
            if type_names.contains(name) {
                return Err(Error::Conflict {
                    what: format!(
                        "contract type `{name}` has the name of a generated API interface"
                    ),
                });
            }
        }
        Ok(Model {
            key,
            isolation: bindings.isolation,
            services,
            types,
            contracts,
        })
    }

    /// Every method with its service, in declaration order.
    pub fn methods(&self) -> impl Iterator<Item = (&ServiceModel<'a>, &MethodModel<'a>)> {
        self.services
            .iter()
            .flat_map(|s| s.methods.iter().map(move |m| (s, m)))
    }

    /// The first line of every generated file.
    pub fn header(&self, comment: &str) -> String {
        let contracts: Vec<String> = self
            .contracts
            .iter()
            .map(|(ns, hash)| format!("{ns}@{hash}"))
            .collect();
        format!(
            "{comment} @generated by ipc-bindgen from contract {}. Do not edit: regenerate from the Rust contract.\n",
            contracts.join(", ")
        )
    }

    /// `{"todos":"…"}` as a JavaScript literal.
    pub fn contracts_js(&self) -> String {
        js_value(&self.contracts)
    }

    /// The method table shared by the preload, the facade and the browser client.
    pub fn methods_js(&self) -> String {
        let mut out = String::from("[\n");
        for (service, method) in self.methods() {
            let ns = match &service.property {
                Some(p) => js_string(p),
                None => "null".into(),
            };
            let params: Vec<String> = method
                .param_names
                .iter()
                .zip(&method.shapes)
                .map(|(name, shape)| format!("[{}, {shape}]", js_string(name)))
                .collect();
            out.push_str(&format!(
                "  {{ ns: {ns}, name: {}, kind: {}, channel: {}, params: [{}] }},\n",
                js_string(&method.method.js_name),
                js_string(method.method.kind.as_str()),
                js_string(&method.method.channel),
                params.join(", ")
            ));
        }
        out.push(']');
        out
    }

    /// Channels of one kind, as a JavaScript array literal.
    pub fn channels_js(&self, kind: MethodKind) -> String {
        let channels: Vec<&str> = self
            .methods()
            .filter(|(_, m)| m.method.kind == kind)
            .map(|(_, m)| m.method.channel.as_str())
            .collect();
        js_value(&channels)
    }
}

/// Substitutes `{{NAME}}` placeholders in a template; every placeholder must be given.
pub(crate) fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 4096);
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .unwrap_or_else(|| panic!("unclosed placeholder in template"));
        let name = &after[..end];
        let value = values
            .iter()
            .find(|(n, _)| *n == name)
            .unwrap_or_else(|| panic!("no value for template placeholder `{name}`"));
        out.push_str(value.1);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

/// A JavaScript string literal (JSON strings are valid JavaScript).
pub(crate) fn js_string(text: &str) -> String {
    js_value(&text)
}

/// A JavaScript literal of a serializable value.
pub(crate) fn js_value<T: serde::Serialize + ?Sized>(value: &T) -> String {
    // Strings, numbers, arrays and maps of them always serialize.
    serde_json::to_string(value).unwrap_or_default()
}

/// Is `name` a plain JavaScript identifier (ASCII)?
pub(crate) fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
}

/// The JavaScript property of a namespace: `lowerCamelCase`, also across `-` and `.`
/// (`app_settings` and `app-settings` both become `appSettings`).
fn js_property(namespace: &str) -> String {
    crate::naming::js_name(&namespace.replace(['-', '.'], "_"))
}

fn pascal_case(name: &str) -> String {
    let camel = crate::naming::js_name(name);
    let mut chars = camel.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => "Service".into(),
    }
}

/// Text as a JSDoc block at `indent`, or nothing when it is empty.
pub(crate) fn jsdoc<S: AsRef<str>>(lines: &[S], indent: &str) -> String {
    let lines: Vec<&str> = lines
        .iter()
        .flat_map(|l| {
            l.as_ref()
                .split('\n')
                .map(|l| l.strip_suffix('\r').unwrap_or(l))
        })
        .collect();
    let start = lines.iter().position(|l| !l.trim().is_empty());
    let end = lines.iter().rposition(|l| !l.trim().is_empty());
    let (Some(start), Some(end)) = (start, end) else {
        return String::new();
    };
    let mut out = format!("{indent}/**\n");
    for line in &lines[start..=end] {
        let line = line.replace("*/", "*\\/");
        if line.trim().is_empty() {
            out.push_str(&format!("{indent} *\n"));
        } else {
            out.push_str(&format!("{indent} * {}\n", line.trim_end()));
        }
    }
    out.push_str(&format!("{indent} */\n"));
    out
}

/// The preload↔bridge protocol, as a comment block shared by `preload.js` and `bridge.js`.
pub(crate) const BRIDGE_PROTOCOL: &str = include_str!("templates/protocol.txt");

/// The error classes, shared by the preload facade and the browser client.
pub(crate) const ERRORS_JS: &str = include_str!("templates/errors.js");

/// The argument checks, shared by the preload and the browser client.
pub(crate) const CHECKS_JS: &str = include_str!("templates/checks.js");

/// The page-facing API builder, shared by the preload and the browser client.
pub(crate) const API_JS: &str = include_str!("templates/api.js");

/// `text` with every line indented by `indent` (empty lines stay empty).
pub(crate) fn indent(text: &str, indent: &str) -> String {
    text.lines()
        .map(|l| {
            if l.is_empty() {
                String::new()
            } else {
                format!("{indent}{l}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `text` as `//` comment lines.
pub(crate) fn line_comment(text: &str) -> String {
    text.lines()
        .map(|l| {
            if l.is_empty() {
                "//".to_string()
            } else {
                format!("// {l}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_replaces_every_placeholder() {
        assert_eq!(fill("a{{X}}b{{Y}}", &[("X", "1"), ("Y", "2")]), "a1b2");
    }

    #[test]
    #[should_panic(expected = "no value")]
    fn fill_refuses_a_missing_value() {
        fill("{{X}}", &[]);
    }

    #[test]
    fn identifiers() {
        assert!(is_identifier("todos"));
        assert!(is_identifier("$api_2"));
        assert!(!is_identifier("2api"));
        assert!(!is_identifier("my-api"));
        assert!(!is_identifier(""));
    }

    #[test]
    fn jsdoc_escapes_comment_ends() {
        assert_eq!(
            jsdoc(&["a */ b"], ""),
            "/**\n * a *\\/ b\n */\n".to_string()
        );
        assert_eq!(jsdoc(&[""], ""), "");
    }

    #[test]
    fn namespace_properties() {
        assert_eq!(js_property("todos"), "todos");
        assert_eq!(js_property("app_settings"), "appSettings");
        assert_eq!(js_property("app-settings.v2"), "appSettingsV2");
    }

    #[test]
    fn pascal() {
        assert_eq!(pascal_case("Todos"), "Todos");
        assert_eq!(pascal_case("todo_list"), "TodoList");
    }
}
