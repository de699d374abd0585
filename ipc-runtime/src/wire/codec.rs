//! Codecs: how values become bytes on the wire.
//!
//! In-process connections never use a codec: values move as themselves. Across processes the
//! peers agree on one codec at the handshake.

use bytes::Bytes;
use serde::Deserialize;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::IpcError;

/// A value encoding for the wire.
///
/// # Examples
///
/// ```
/// use ipc_runtime::Codec;
///
/// let bytes = Codec::Json.encode(&("hello", 3u32)).unwrap();
/// assert_eq!(&bytes[..], br#"["hello",3]"#);
/// let back: (String, u32) = Codec::Json.decode(&bytes).unwrap();
/// assert_eq!(back, ("hello".to_string(), 3));
///
/// let compact = Codec::Binary.encode(&("hello", 3u32)).unwrap();
/// assert!(compact.len() < bytes.len());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Codec {
    /// JSON, for peers that want text (hand-written clients, debugging). Positional arguments
    /// are a JSON array.
    Json,
    /// A compact binary encoding for Rust-to-Rust connections: MessagePack with named fields
    /// (self-describing, so every serde shape works: internally tagged and untagged enums,
    /// `flatten`; bytes travel raw), under compact frame headers.
    Binary,
    /// What the generated JavaScript peers speak (`client.mjs`, `bridge.js`): the JSON codec's
    /// frames as MessagePack maps, with values as on [`Codec::Binary`], so bytes travel raw and
    /// nothing is text. Bridges may use it.
    MessagePack,
}

impl Codec {
    /// The codec's name at the handshake (`"json"`, `"binary"`, `"msgpack"`).
    pub fn name(self) -> &'static str {
        match self {
            Codec::Json => "json",
            Codec::Binary => "binary",
            Codec::MessagePack => "msgpack",
        }
    }

    /// Whether values encoded in `self` are the same bytes in `other` (the binary and msgpack
    /// codecs differ only in their frames), so a payload can be forwarded as it came.
    pub(crate) fn values_like(self, other: Codec) -> bool {
        self == other
            || matches!(
                (self, other),
                (
                    Codec::Binary | Codec::MessagePack,
                    Codec::Binary | Codec::MessagePack
                )
            )
    }

    /// The codec for a handshake name.
    pub fn from_name(name: &str) -> Option<Codec> {
        match name {
            "json" => Some(Codec::Json),
            "binary" => Some(Codec::Binary),
            "msgpack" => Some(Codec::MessagePack),
            _ => None,
        }
    }

    /// Encodes `value`.
    ///
    /// # Errors
    ///
    /// [`IpcError::Encode`] when the value cannot be represented (for example a map with
    /// non-string keys in JSON).
    pub fn encode<T: Serialize + ?Sized>(self, value: &T) -> Result<Bytes, IpcError> {
        let encoded = match self {
            Codec::Json => serde_json::to_vec(value).map_err(|e| e.to_string()),
            Codec::Binary | Codec::MessagePack => {
                rmp_serde::to_vec_named(value).map_err(|e| e.to_string())
            }
        };
        encoded
            .map(Bytes::from)
            .map_err(|reason| IpcError::Encode { reason })
    }

    /// Encodes `value` at the end of `out` (no intermediate buffer).
    ///
    /// # Errors
    ///
    /// As [`Codec::encode`]; `out` may then hold a partial encoding past its original length.
    pub fn encode_into<T: Serialize + ?Sized, W: std::io::Write>(
        self,
        value: &T,
        out: &mut W,
    ) -> Result<(), IpcError> {
        let result = match self {
            Codec::Json => serde_json::to_writer(&mut *out, value).map_err(|e| e.to_string()),
            Codec::Binary | Codec::MessagePack => {
                rmp_serde::encode::write_named(out, value).map_err(|e| e.to_string())
            }
        };
        result.map_err(|reason| IpcError::Encode { reason })
    }

    /// Decodes a `T` from exactly `bytes`.
    ///
    /// # Errors
    ///
    /// The decoder's message, when `bytes` is not a `T` (wrong type, wrong count, trailing data).
    pub fn decode<T: DeserializeOwned>(self, bytes: &[u8]) -> Result<T, String> {
        self.decode_inside(bytes, 0)
    }

    /// [`Codec::decode`] of a value that sits `levels` deep in a MessagePack message whose outer
    /// levels were read by hand: its nesting limit counts from the message's top, as it would
    /// had the message been decoded whole.
    pub(crate) fn decode_inside<T: DeserializeOwned>(
        self,
        bytes: &[u8],
        levels: u8,
    ) -> Result<T, String> {
        match self {
            Codec::Json => serde_json::from_slice(bytes).map_err(|e| e.to_string()),
            Codec::Binary | Codec::MessagePack => {
                // Lengths the input cannot hold never reach serde's preallocation.
                let max_depth = super::msgpack::MAX_DEPTH.saturating_sub(usize::from(levels));
                super::msgpack::check_within(bytes, max_depth)?;
                // Borrowing decoder: `bin` data is handed out as slices of `bytes` (no scratch
                // copy). It cannot say where it stopped, so a value it did not read to its end
                // (a tuple shorter than the array) is found by trying to read one more value,
                // which must fail at the end of input.
                let mut decoder = rmp_serde::Deserializer::from_read_ref(bytes);
                let value = T::deserialize(&mut decoder).map_err(|e| e.to_string())?;
                match serde::de::IgnoredAny::deserialize(&mut decoder) {
                    Err(rmp_serde::decode::Error::InvalidMarkerRead(e))
                        if e.kind() == std::io::ErrorKind::UnexpectedEof =>
                    {
                        Ok(value)
                    }
                    _ => Err("unexpected trailing bytes after the value".into()),
                }
            }
        }
    }
}
