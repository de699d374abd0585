//! JavaScript and TypeScript bindings generated from one or more [`Service`](crate::Service)s.
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

mod bindings;
mod bridge;
mod browser;
mod dts;
mod error;
mod isolation;
mod json;
mod model;
mod preload;
pub(crate) mod shape;
mod templates;
mod text;

pub use bindings::{Bindings, GeneratedFile, Stale, StaleFile, StaleReason};
pub use error::Error;
pub use isolation::Isolation;
pub use json::read_schemas;

// The cancel and lag channels are wire names, so they are defined with the other naming rules;
// inlined so that they are still documented here, where the preload and bridge protocol is.
#[doc(inline)]
pub use crate::naming::{CANCEL_CHANNEL, LAG_CHANNEL};

/// The Electron IPC channel on which the preload and the bridge exchange the frames of ports,
/// streams and requests from main (`port`, `credit`, `close`, `open`, `event` with ports,
/// `invoke`, `cancel`, `reply`, `reset`; `docs/PROTOCOL.md` §9). Its namespace is reserved like
/// [`CANCEL_CHANNEL`]'s, so no contract channel can be it.
///
/// # Examples
///
/// ```
/// assert_eq!(ipc_schema::js::FRAME_CHANNEL, "__ipc:frame");
/// assert!(ipc_schema::naming::validate_namespace("__ipc").is_err());
/// ```
pub const FRAME_CHANNEL: &str = "__ipc:frame";
