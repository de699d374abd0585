//! Codecs: how values become bytes on the wire.
//!
//! In-process connections never use a codec: values move as themselves. Across processes the
//! peers agree on one codec at the handshake.

use bytes::Bytes;
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
                // Lengths the input cannot hold never reach serde's preallocation. The check
                // also finds the value's end: `bytes` must be exactly one value, so nothing
                // trails it. Inside it, rmp-serde refuses an array or map it did not read to
                // its end (`LengthMismatch`); only a type that reads less of a value on purpose
                // (an extension struct, a hand-written impl) leaves some of it unread, and that
                // part cannot be taken for anything else.
                let max_depth = super::msgpack::MAX_DEPTH.saturating_sub(usize::from(levels));
                super::msgpack::check_within(bytes, max_depth)?;
                // Borrowing decoder: `bin` data is handed out as slices of `bytes` (no scratch
                // copy).
                let mut decoder = rmp_serde::Deserializer::from_read_ref(bytes);
                T::deserialize(&mut decoder).map_err(|e| e.to_string())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The binary decoders take exactly one value, and all of it: nothing after it, no array
    /// element or map entry left unread inside it.
    #[test]
    fn a_value_is_read_whole_or_refused() {
        for codec in [Codec::Binary, Codec::MessagePack] {
            let pair = codec.encode(&(1u8, 2u8)).unwrap();
            assert_eq!(codec.decode::<(u8, u8)>(&pair), Ok((1, 2)));
            // A tuple shorter than the array.
            assert!(codec.decode::<(u8,)>(&pair).is_err());
            assert!(codec.decode::<[u8; 1]>(&pair).is_err());
            // A second value after the first.
            let mut two = codec.encode(&1u8).unwrap().to_vec();
            two.push(0x02);
            assert!(codec.decode::<u8>(&two).is_err());
            // A map entry left unread by a visitor that stops early (a one-entry enum map
            // whose value is more than a unit variant's nil).
            #[derive(serde::Deserialize, Debug, PartialEq)]
            enum Unit {
                A,
            }
            let entry = codec
                .encode(&std::collections::BTreeMap::from([("A", [1u8, 2])]))
                .unwrap();
            assert!(codec.decode::<Unit>(&entry).is_err());
            let nil = codec
                .encode(&std::collections::BTreeMap::from([("A", ())]))
                .unwrap();
            assert_eq!(codec.decode::<Unit>(&nil), Ok(Unit::A));
        }
    }
}
