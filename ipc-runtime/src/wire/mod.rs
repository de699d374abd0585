//! The wire: how values and messages become bytes, and back (`docs/PROTOCOL.md`).
//!
//! - `codec`: value encodings ([`Codec`]: JSON, and MessagePack under frames of two kinds),
//!   with `msgpack` checking MessagePack's declared lengths before serde reserves from them;
//! - `blob`: [`Bytes`], raw on the binary codec and base64 on JSON, never copied when large;
//! - `payload`: [`Payload`], a value as itself (in process) or as encoded bytes (from the wire);
//! - `frame` (with `json`, `msgpack_frame` and `binary`; `fields` for what the first two share):
//!   the protocol's frames and the handshake's hello;
//! - `framing`: length-prefixed frames on byte streams;
//! - `chunk`: messages larger than a frame, split into chunk frames and reassembled;
//! - `growing`: the buffer of a message being received, grown as its bytes arrive;
//! - `transfer`: the port ids a payload hands over, collected while it is encoded;
//! - `handshake`: the checks both sides make on the other's hello;
//! - `time`: the one wire form of timestamps and of durations, whatever their Rust type.
//!
//! The wire knows nothing of connections, main or renderers: it turns bytes into frames and
//! frames into bytes.

mod binary;
pub(crate) mod blob;
pub(crate) mod chunk;
pub(crate) mod codec;
mod fields;
mod frame;
pub(crate) mod framing;
pub(crate) mod growing;
pub(crate) mod handshake;
pub(crate) mod ints;
mod json;
pub(crate) mod msgpack;
mod msgpack_frame;
pub(crate) mod payload;
pub(crate) mod time;
pub(crate) mod transfer;

pub use blob::Bytes;
pub use codec::Codec;
pub(crate) use frame::{
    Frame, FrameBuf, FrameError, Hello, OutFrame, Outcome, ReplyBody, SenderInfo, WireError,
    decode, decode_handshake, encode, encode_handshake_error, encode_hello,
};
pub(crate) use framing::{FrameBytes, FrameReader, FrameWriter, FramingError, StallTimer};
pub use payload::{NoArgs, Payload};

/// The protocol version this build speaks.
pub const PROTOCOL_VERSION: u32 = 1;
