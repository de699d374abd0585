//! The contract the `args` and `session` targets decode and serve: parameter types in every
//! serde shape (externally, internally, adjacently tagged and untagged enums, `flatten`,
//! `Option`, `Vec`, maps, [`Bytes`], nested and recursive structs), and a trivial backend.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use ipc_runtime::{Bytes, Caller, Main, Target, channels};
use serde::{Deserialize, Serialize};

/// A plain struct, nested in the others.
#[ipc_runtime::data]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Inner {
    /// A number.
    pub n: i32,
    /// Text.
    pub text: String,
    /// Absent in JSON means `None`.
    pub maybe: Option<u16>,
}

/// A point.
#[ipc_runtime::data]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Point {
    /// Across.
    pub px: i32,
    /// Down.
    pub py: i32,
}

/// Externally tagged (serde's default).
#[ipc_runtime::data]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum External {
    /// Unit.
    Unit,
    /// Newtype.
    Newtype(u32),
    /// Tuple.
    Tuple(u8, String),
    /// Struct.
    Struct {
        /// A field.
        a: i32,
        /// An optional field.
        b: Option<String>,
    },
}

/// Internally tagged.
#[ipc_runtime::data]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind")]
pub enum Internal {
    /// Unit.
    Unit,
    /// Struct.
    Struct {
        /// A float.
        x: f64,
        /// A list.
        tags: Vec<String>,
    },
    /// Newtype of a struct (whose fields differ from `Inner`'s, so that `Flat` has no two fields
    /// of the same name).
    Wrapped(Point),
}

/// Adjacently tagged.
#[ipc_runtime::data]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "t", content = "c")]
pub enum Adjacent {
    /// Unit.
    Unit,
    /// Newtype.
    Newtype(Vec<u16>),
    /// Tuple.
    Tuple(u8, bool),
    /// Struct.
    Struct {
        /// A map.
        m: BTreeMap<String, i32>,
    },
}

/// Untagged: the first variant that fits.
#[ipc_runtime::data]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Untagged {
    /// A number.
    Number(u32),
    /// A string.
    Text(String),
    /// A pair.
    Pair(u8, u8),
    /// A record.
    Record {
        /// Its id.
        id: u32,
        /// Its name.
        name: String,
    },
    /// An internally tagged value inside.
    Tagged(Internal),
    /// Raw bytes.
    Blob(Bytes),
    /// A list of itself.
    List(Vec<Untagged>),
}

/// Flattened fields: a struct and an internally tagged enum.
#[ipc_runtime::data]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Flat {
    /// Its own field.
    pub id: u32,
    /// Fields of `Inner`, at this level.
    #[serde(flatten)]
    pub inner: Inner,
    /// A `kind` tag and its fields, at this level.
    #[serde(flatten)]
    pub shape: Internal,
}

/// A recursive tree.
#[ipc_runtime::data]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Tree {
    /// Its label.
    pub label: String,
    /// Its children.
    pub children: Vec<Tree>,
}

/// Structs in structs.
#[ipc_runtime::data]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Nested {
    /// One.
    pub inner: Inner,
    /// Several.
    pub items: Vec<Inner>,
    /// A tree.
    pub tree: Tree,
    /// Maybe a flattened one.
    pub flat: Option<Flat>,
    /// By key.
    pub by_key: HashMap<String, Adjacent>,
}

/// An application error.
#[ipc_runtime::data]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind")]
pub enum FuzzError {
    /// Refused.
    Refused {
        /// Why.
        reason: String,
    },
}

/// Every serde shape as parameters.
#[channels(namespace = "fuzz")]
pub trait Fuzz {
    /// Externally tagged enums.
    async fn external(&self, one: External, many: Vec<External>) -> External;
    /// Internally tagged enums; refuses `Unit` (an application error).
    async fn internal(&self, value: Internal) -> Result<Internal, FuzzError>;
    /// Adjacently tagged enums.
    async fn adjacent(&self, value: Adjacent, maybe: Option<Adjacent>) -> u32;
    /// Untagged enums (recursive).
    async fn untagged(&self, value: Untagged) -> Untagged;
    /// Flattened structs.
    async fn flat(&self, value: Flat) -> Flat;
    /// Maps.
    async fn maps(
        &self,
        by_name: HashMap<String, Vec<u8>>,
        by_number: BTreeMap<u32, Option<String>>,
    ) -> u32;
    /// Binary data.
    async fn blob(&self, data: Bytes, more: Option<Bytes>) -> Bytes;
    /// Nested structs.
    async fn nested(&self, value: Nested) -> Nested;
    /// No parameters.
    async fn nothing(&self);
    /// Waits `ms` milliseconds (at most a second) before answering: calls in flight, deadlines
    /// and cancels.
    async fn wait(&self, ms: u32) -> u32;
    /// Emits `count` events (at most 8) to the caller before answering.
    async fn emit(&self, count: u8, value: Untagged) -> u8;
    /// Panics when `really` (main answers `handler_panicked`).
    async fn panics(&self, really: bool) -> bool;
    /// Fire and forget.
    #[send]
    fn note(&self, text: String, level: Adjacent);
    /// Pushed by `emit`.
    #[event]
    fn changed(&self, value: Untagged);
}

/// The message of the panics `panics` raises on purpose (a fuzz target's panic hook lets them
/// through to main's `catch_unwind`, and aborts on any other).
pub const DELIBERATE_PANIC: &str = "deliberate panic from the fuzz backend";

/// A trivial backend: echoes, counts, waits a little, emits a few events.
pub struct Backend {
    /// The main it emits through.
    pub main: Main,
}

impl FuzzHandler for Backend {
    async fn external(&self, _: &Caller, one: External, many: Vec<External>) -> External {
        many.into_iter().next().unwrap_or(one)
    }

    async fn internal(&self, _: &Caller, value: Internal) -> Result<Internal, FuzzError> {
        match value {
            Internal::Unit => Err(FuzzError::Refused {
                reason: "unit".into(),
            }),
            other => Ok(other),
        }
    }

    async fn adjacent(&self, _: &Caller, value: Adjacent, maybe: Option<Adjacent>) -> u32 {
        u32::from(matches!(value, Adjacent::Unit)) + u32::from(maybe.is_some())
    }

    async fn untagged(&self, _: &Caller, value: Untagged) -> Untagged {
        value
    }

    async fn flat(&self, _: &Caller, value: Flat) -> Flat {
        value
    }

    async fn maps(
        &self,
        _: &Caller,
        by_name: HashMap<String, Vec<u8>>,
        by_number: BTreeMap<u32, Option<String>>,
    ) -> u32 {
        (by_name.len() + by_number.len()) as u32
    }

    async fn blob(&self, _: &Caller, data: Bytes, more: Option<Bytes>) -> Bytes {
        more.unwrap_or(data)
    }

    async fn nested(&self, _: &Caller, value: Nested) -> Nested {
        value
    }

    async fn nothing(&self, _: &Caller) {}

    async fn wait(&self, _: &Caller, ms: u32) -> u32 {
        tokio::time::sleep(Duration::from_millis(u64::from(ms.min(1000)))).await;
        ms
    }

    async fn emit(&self, caller: &Caller, count: u8, value: Untagged) -> u8 {
        let events = Fuzz::events(&self.main);
        for _ in 0..count.min(8) {
            events.changed(Target::Renderer(caller.renderer()), value.clone());
        }
        count
    }

    async fn panics(&self, _: &Caller, really: bool) -> bool {
        if really {
            std::panic::panic_any(DELIBERATE_PANIC);
        }
        really
    }

    async fn note(&self, _: &Caller, _text: String, _level: Adjacent) {}
}
