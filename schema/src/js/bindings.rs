//! The generator settings and what they produce: [`Bindings`] generates the files in memory,
//! writes them, or checks files on disk against them ([`Stale`]).

use std::fmt;
use std::path::{Path, PathBuf};

use super::model::Model;
use super::{Error, Isolation, bridge, browser, dts, preload};
use crate::model::Service;

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
        let model = Model::build(&self.services, self.key.as_deref(), self.isolation)?;
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
