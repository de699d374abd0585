//! The contract model of typed IPC.
//!
//! A `#[channels]` trait (see the `ipc-runtime` crate) describes itself as a [`Service`]: its
//! channels, their kinds, parameters and types with TypeScript declarations, doc comments and a
//! stable contract [hash]. The JavaScript and TypeScript generators read this model, and the runtime
//! compares hashes at the handshake.
//!
//! The [`naming`] rules (channel names, JavaScript names, the default namespace) live here once;
//! the proc-macro and the generators both call them.
//!
//! # Examples
//!
//! ```
//! use ipc_schema::{Method, MethodKind, Service};
//!
//! let service = Service::builder("Todos", "todos")
//!     .docs("Todo list backend.")
//!     .method(
//!         Method::new("add", "todos:add", MethodKind::Invoke)
//!             .param_raw("title", "String", "string")
//!             .output_raw("u32", "number"),
//!     )
//!     .build();
//! assert_eq!(service.method("todos:add").unwrap().js_name, "add");
//! ```
#![warn(missing_docs)]
#![forbid(unsafe_code)]

#[cfg(feature = "types")]
pub mod diff;
pub mod hash;
#[cfg(feature = "types")]
pub mod js;
mod model;
pub mod naming;
pub mod policy;
#[cfg(feature = "types")]
mod types;

pub use model::{
    CapabilityLink, DEFAULT_CALL_TIMEOUT_MS, DEFAULT_SYNC_TIMEOUT_MS, LargeInts,
    MAX_SYNC_TIMEOUT_MS, Method, MethodKind, Param, SCHEMA_FORMAT_VERSION, Service, ServiceBuilder,
    TypeDecl, TypeRef,
};
pub use policy::{RendererKind, Rule};
#[cfg(feature = "types")]
pub use types::{TypeInfo, note_capability};

#[cfg(feature = "types")]
#[doc(hidden)]
pub mod __private {
    pub use ts_rs;
}
