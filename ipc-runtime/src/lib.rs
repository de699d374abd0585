//! Electron-style IPC with compile-time types.
//!
//! Declare the API once, as a Rust trait, and `#[channels]` generates the main-side handler
//! trait and registration, a typed renderer client, a typed event emitter and the contract as
//! data. The runtime carries the calls: in-process (values move as themselves) and, through the
//! same router, across processes.
//!
//! # Examples
//!
//! ```
//! use ipc_runtime::{Caller, Main, RendererOptions, Target, channels};
//! use futures_util::StreamExt;
//!
//! #[ipc_runtime::data]
//! #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
//! pub struct Todo {
//!     pub id: u32,
//!     pub title: String,
//! }
//!
//! /// Todo list backend.
//! #[channels(namespace = "todos")]
//! pub trait Todos {
//!     /// Adds a todo and returns it.
//!     async fn add(&self, title: String) -> Todo;
//!     /// Fire-and-forget log line.
//!     #[send]
//!     fn log(&self, line: String);
//!     /// Pushed to renderers when a todo changes.
//!     #[event]
//!     fn changed(&self, todo: Todo);
//! }
//!
//! struct Backend;
//!
//! impl TodosHandler for Backend {
//!     async fn add(&self, _caller: &Caller, title: String) -> Todo {
//!         Todo { id: 1, title }
//!     }
//!     async fn log(&self, caller: &Caller, line: String) {
//!         println!("[{}] {line}", caller.label());
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let main = Main::new();
//! let _registration = Todos::handle(&main, Backend).unwrap();
//!
//! let client = TodosClient::new(main.connect_in_process(RendererOptions::new("window")));
//! let mut changes = client.on_changed();
//!
//! let todo = client.add("write docs".into()).await.unwrap();
//! client.log("added one".into()).unwrap();
//! Todos::events(&main).changed(Target::All, todo.clone());
//! assert_eq!(changes.next().await, Some(Ok(todo)));
//! assert_eq!(Todos::schema().methods.len(), 3);
//! # }
//! ```
//!
//! # Time values
//!
//! Timestamps and durations may be declared in contracts and `#[data]` types:
//! `std::time::SystemTime` and `Duration`, and with the features `chrono`, `time` and `jiff` the
//! types of those crates. Each crosses in one wire form (RFC 3339 text, milliseconds), a `Date`
//! and a `number` in JavaScript (`docs/PROTOCOL.md` §4, "Time values").
//!
//! ```
//! use std::time::{Duration, SystemTime, UNIX_EPOCH};
//! use ipc_runtime::{Main, RendererOptions, channels};
//!
//! #[channels(namespace = "clock")]
//! pub trait Clock {
//!     /// `at` moved later by `by`.
//!     async fn shift(&self, at: SystemTime, by: Duration) -> SystemTime;
//! }
//!
//! struct Backend;
//!
//! impl ClockHandler for Backend {
//!     async fn shift(&self, _: &ipc_runtime::Caller, at: SystemTime, by: Duration) -> SystemTime {
//!         at + by
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! assert_eq!(Clock::schema().methods[0].output.as_ref().unwrap().ts, "Date");
//! let main = Main::new();
//! let _registration = Clock::handle(&main, Backend).unwrap();
//! let clock = Clock::client(&main.connect_in_process(RendererOptions::new("r")));
//! let before_1970 = UNIX_EPOCH - Duration::from_nanos(1);
//! assert_eq!(clock.shift(before_1970, Duration::from_nanos(2)).await, Ok(UNIX_EPOCH + Duration::from_nanos(1)));
//! # }
//! ```
//!
//! # Capabilities
//!
//! A contract declared `#[channels(capability)]` describes objects reached through handles
//! (Electron's `remote`, done safely): a method of another contract returns (or takes) a
//! [`Handle`] to one object, and the holder calls that object's methods through the generated
//! `{Trait}Client`, with an invoke's rules (its application error, deadlines, cancellation,
//! panics reported). Dropping the last clone of the handle releases the object; so does its
//! holder disconnecting or dying; its owner may revoke it ([`Revoker`]). A handle travels as a
//! port does (`docs/PROTOCOL.md` §7.3).
//!
//! ```
//! use ipc_runtime::{CallError, Caller, Handle, IpcError, Main, RendererOptions, channels};
//!
//! /// One open counter.
//! #[channels(namespace = "counter", capability)]
//! pub trait Counter {
//!     /// Adds `by`; returns the new value.
//!     async fn add(&self, by: i32) -> i32;
//! }
//!
//! /// Hands out counters.
//! #[channels(namespace = "counters")]
//! pub trait Counters {
//!     async fn open(&self, start: i32) -> Handle<Counter>;
//! }
//!
//! struct Value(std::sync::Mutex<i32>);
//!
//! impl CounterHandler for Value {
//!     async fn add(&self, by: i32) -> i32 {
//!         let mut value = self.0.lock().unwrap();
//!         *value += by;
//!         *value
//!     }
//! }
//!
//! struct Shelf;
//!
//! impl CountersHandler for Shelf {
//!     async fn open(&self, _: &Caller, start: i32) -> Handle<Counter> {
//!         Counter::serve(Value(std::sync::Mutex::new(start)))
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), IpcError> {
//! let main = Main::new();
//! let _registration = Counters::handle(&main, Shelf).unwrap();
//! let counters = Counters::client(&main.connect_in_process(RendererOptions::new("r")));
//! let counter = counters.open(40).await?.client();
//! assert_eq!(counter.add(2).await?, 42);
//!
//! // The owner can revoke an object: calls through its handle then fail with `Revoked`.
//! let (handle, revoker) = Counter::serve_revocable(Value(std::sync::Mutex::new(0)));
//! let revoked = handle.client();
//! revoker.revoke("closed for maintenance");
//! assert!(matches!(revoked.add(1).await, Err(CallError::Ipc(IpcError::Revoked { .. }))));
//! # Ok(()) }
//! ```
#![warn(missing_docs)]
#![forbid(unsafe_code)]

// Layers, top to bottom; each uses only the ones below it (`docs/ARCHITECTURE.md`, checked by
// `scripts/check-layers.py`).
mod access;
mod caller;
mod capability;
mod channel;
mod error;
mod limits;
// Main's side. The explicit path tells rustc (`special_module_name`) that this is not a
// binary's `main.rs` declared by mistake.
#[path = "main/mod.rs"]
mod main;
mod port;
mod renderer;
mod transport;
mod util;
mod wire;

pub use access::Grant;
pub use caller::{Caller, Peer, RendererId};
pub use capability::{Capability, Handle, HandleCall, Revoker};
pub use channel::{EventChannel, InvokeChannel, SendChannel};
pub use error::{CallError, EventError, IpcError, Never, RegistryError};
#[doc = include_str!("docs/channels.md")]
pub use ipc_macros::channels;
#[doc = include_str!("docs/data.md")]
pub use ipc_macros::data;
pub use limits::{
    DEFAULT_CALL_TIMEOUT, DEFAULT_HANDSHAKE_TIMEOUT, DEFAULT_MAX_FRAME, DEFAULT_MAX_MESSAGE,
    DEFAULT_MAX_PORTS, DEFAULT_PORT_WINDOW,
};
pub use main::{
    ChildRenderer, EventOverflow, ListenerId, Main, MainBuilder, MockCall, Registration,
    RegistrationBatch, RendererEvent, RendererEvents, Request, Target, UnixListenerHandle,
    WebSocketListener, WebSocketOptions,
};
pub use port::{Port, Stream, StreamSender};
pub use renderer::{Call, EventOnce, EventStream, Renderer, RendererOptions, TryCall};
pub use transport::{ByteStream, InProcess, Link, Stdio, Transport};
pub use wire::{Bytes, Codec, NoArgs, PROTOCOL_VERSION, Payload};

/// The contract model (re-exported from `ipc-schema`).
pub mod schema {
    pub use ipc_schema::*;
}

/// Entry points for the fuzz targets (`fuzz/`). Not public API: no stability promise.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod __fuzz;

/// Items generated code refers to. Not public API: no stability promise.
#[doc(hidden)]
pub mod __private {
    pub use ::core::future::Future;
    pub use ::core::marker::{Send, Sync};
    pub use ::core::option::Option::{self, None, Some};
    pub use ::core::result::Result::{self, Err, Ok};
    pub use ::serde;
    pub use ::serde_with;
    pub use ::std::boxed::Box;
    pub use ::std::string::String;
    pub use ::std::sync::{Arc, Mutex, OnceLock};
    pub use ::std::vec::Vec;
    pub use ::ts_rs;
    pub use ipc_schema::{LargeInts, Method, MethodKind, RendererKind, Rule, Service};

    pub use crate::{
        Call, CallError, Caller, EventChannel, EventOnce, EventStream, InvokeChannel, IpcError,
        Main, Never, NoArgs, Registration, RegistryError, Renderer, RendererId, Request,
        SendChannel, Target, TryCall,
    };

    /// The wire forms of time values (`docs/PROTOCOL.md` §4, "Time values").
    pub mod time {
        pub use crate::wire::time::{Millis, Timestamp};
    }
    /// The wire form of a `Vec<u8>` declared `#[bytes]`.
    pub use crate::wire::blob::AsBytes;
    /// How the small integers of `#[data]` types are described (`number /* u32 */`).
    pub mod ints {
        pub use crate::wire::ints::{I8, I16, I32, U8, U16, U32};
    }
    pub use crate::MockCall;
    pub use crate::capability::{BodyWriter, MessageBody};
    pub use crate::capability::{Dispatch, serve};
    pub use crate::main::{MockCalls, mock_arg};
    pub use crate::util::lock;
    pub use crate::wire::time::{Unwire, Wire};
    pub use crate::{Capability, Handle, HandleCall, Payload, Revoker};

    /// Describes one type of the contract (keeps generated code independent of the backend).
    pub fn describe<T: ipc_schema::TypeInfo + ?Sized>(
        method: Method,
        role: TypeRole,
        name: &str,
        rust: &str,
        rule: LargeInts,
    ) -> Method {
        match role {
            TypeRole::Param => method.param::<T>(name, rust, rule),
            TypeRole::Output => method.output::<T>(rust, rule),
            TypeRole::Error => method.error::<T>(rust, rule),
        }
    }

    /// Checks that `T` (a type written inside a container of a method's type) is described,
    /// so that a missing `#[data]` is reported at it, in the contract's words.
    pub fn described<T: ipc_schema::TypeInfo + ?Sized>() {}

    /// [`describe`] for a type made only of standard containers around types each checked
    /// with [`described`]: called as `(&&Describe::<T>::new()).describe(..)`, it describes `T`
    /// when `T` is described ([`DescribeKnown`], implemented for `&Describe<T>`) and otherwise
    /// falls back to [`DescribeLeft`]. A leaf's check has then failed already, so the program
    /// does not compile and the one error is that check's, at the leaf, in the contract's words
    /// (not a second one about the container, in the backend's).
    pub struct Describe<T: ?Sized>(::core::marker::PhantomData<fn() -> ::std::boxed::Box<T>>);

    impl<T: ?Sized> Describe<T> {
        /// The probe.
        #[allow(clippy::new_without_default)]
        pub const fn new() -> Self {
            Describe(::core::marker::PhantomData)
        }
    }

    /// See [`Describe`]: chosen when `T` is described.
    pub trait DescribeKnown {
        /// Describes the type.
        fn describe(
            &self,
            method: Method,
            role: TypeRole,
            name: &str,
            rust: &str,
            rule: LargeInts,
        ) -> Method;
    }

    impl<T: ipc_schema::TypeInfo + ?Sized> DescribeKnown for &Describe<T> {
        fn describe(
            &self,
            method: Method,
            role: TypeRole,
            name: &str,
            rust: &str,
            rule: LargeInts,
        ) -> Method {
            describe::<T>(method, role, name, rust, rule)
        }
    }

    /// See [`Describe`]: chosen when `T` is not described, which only a failed leaf check (a
    /// compile error) explains. Should the macro's view of the standard containers ever be
    /// wider than the backend's, this stops the schema loudly instead of leaving the type out.
    pub trait DescribeLeft {
        /// Panics, naming the type.
        fn describe(&self, _: Method, _: TypeRole, _: &str, rust: &str, _: LargeInts) -> Method {
            panic!(
                "`{rust}` has no description for the contract (report this as a bug of ipc-runtime)"
            )
        }
    }

    impl<T: ?Sized> DescribeLeft for Describe<T> {}

    /// Where a described type sits in a method.
    #[derive(Clone, Copy)]
    pub enum TypeRole {
        /// A parameter.
        Param,
        /// The success type.
        Output,
        /// The application error.
        Error,
    }

    /// Identity for a one-element event tuple (`(T,)` to `T`).
    pub fn single<T>((value,): (T,)) -> Result<T, String> {
        Ok(value)
    }

    /// Identity for any event argument tuple.
    pub fn whole<T>(value: T) -> Result<T, String> {
        Ok(value)
    }
}

/// The crate README's example, compiled and run as a doc test.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
