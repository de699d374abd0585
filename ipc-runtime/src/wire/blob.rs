//! [`Bytes`]: binary data that never inflates into an array of numbers.

use std::cell::RefCell;
use std::fmt;
use std::ops::Deref;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Binary data for contracts: raw bytes (MessagePack `bin`) on the binary and msgpack codecs, a
/// base64 string on JSON, and a `Uint8Array` in JavaScript and TypeScript, instead of the array
/// of numbers `Vec<u8>` becomes.
///
/// Cheap to clone (it wraps [`bytes::Bytes`]).
///
/// # Examples
///
/// ```
/// use ipc_runtime::{Bytes, Codec};
///
/// let data = Bytes::from(vec![0u8, 1, 2, 255]);
/// assert_eq!(&Codec::Json.encode(&data).unwrap()[..], br#""AAEC/w==""#);
/// let raw = Codec::Binary.encode(&data).unwrap();
/// assert_eq!(raw.len(), 2 + 4); // a 2-byte MessagePack header, then the bytes themselves
/// assert_eq!(Codec::Binary.decode::<Bytes>(&raw).unwrap(), data);
/// ```
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Bytes(pub bytes::Bytes);

impl Bytes {
    /// Empty data.
    pub fn new() -> Self {
        Bytes(bytes::Bytes::new())
    }

    /// The inner [`bytes::Bytes`].
    pub fn into_inner(self) -> bytes::Bytes {
        self.0
    }
}

impl Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl AsRef<[u8]> for Bytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl From<Vec<u8>> for Bytes {
    fn from(v: Vec<u8>) -> Self {
        Bytes(v.into())
    }
}

impl From<bytes::Bytes> for Bytes {
    fn from(b: bytes::Bytes) -> Self {
        Bytes(b)
    }
}

impl From<&'static [u8]> for Bytes {
    fn from(b: &'static [u8]) -> Self {
        Bytes(bytes::Bytes::from_static(b))
    }
}

impl fmt::Debug for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Bytes({} bytes)", self.0.len())
    }
}

impl Serialize for Bytes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            return serializer.serialize_str(&STANDARD.encode(&self.0));
        }
        if self.0.len() < OFFER_AT_LEAST {
            return serializer.serialize_bytes(&self.0);
        }
        // Offered for the length of this call: a frame being encoded takes the slice by
        // reference when the serializer hands exactly it over (`take_offer`); any other writer
        // copies it as usual.
        let previous = OFFERED.replace(Some(self.0.clone()));
        let result = serializer.serialize_bytes(&self.0);
        OFFERED.set(previous);
        result
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Bytes;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("bytes, or a base64 string")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Bytes, E> {
                STANDARD
                    .decode(v)
                    .map(Bytes::from)
                    .map_err(|e| E::custom(format!("invalid base64: {e}")))
            }
            fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Bytes, E> {
                Ok(Bytes(share_or_copy(v)))
            }
            fn visit_byte_buf<E: serde::de::Error>(self, v: Vec<u8>) -> Result<Bytes, E> {
                Ok(Bytes::from(v))
            }
        }
        if deserializer.is_human_readable() {
            deserializer.deserialize_str(Visitor)
        } else {
            deserializer.deserialize_bytes(Visitor)
        }
    }
}

thread_local! {
    /// The frame a payload is being decoded from (see [`decode_sharing`]).
    static DECODE_SOURCE: RefCell<Option<bytes::Bytes>> = const { RefCell::new(None) };
    /// The large blob being serialized right now (see `Serialize for Bytes`).
    static OFFERED: RefCell<Option<bytes::Bytes>> = const { RefCell::new(None) };
}

/// Blobs at least this large are offered to the frame encoder by reference.
const OFFER_AT_LEAST: usize = 64 * 1024;

/// The blob being serialized, if `written` is exactly its memory (a serializer writing it out).
pub(crate) fn take_offer(written: &[u8]) -> Option<bytes::Bytes> {
    OFFERED.with_borrow_mut(|offered| match offered {
        Some(blob) if blob.as_ptr() == written.as_ptr() && blob.len() == written.len() => {
            offered.take()
        }
        _ => None,
    })
}

/// Runs `decode` with `source` as the buffer that [`Bytes`] fields may share instead of copying:
/// a received 1 MiB blob is then a view of the frame it came in, not a second megabyte.
pub(crate) fn decode_sharing<R>(source: &bytes::Bytes, decode: impl FnOnce() -> R) -> R {
    if source.len() < SHARE_AT_LEAST {
        // Nothing in it could be shared.
        return decode();
    }
    struct Restore(Option<bytes::Bytes>);
    impl Drop for Restore {
        fn drop(&mut self) {
            DECODE_SOURCE.set(self.0.take());
        }
    }
    let _restore = Restore(DECODE_SOURCE.replace(Some(source.clone())));
    decode()
}

/// Slices shorter than this are copied: sharing would keep the whole frame alive for a few bytes.
const SHARE_AT_LEAST: usize = 64 * 1024;

/// `data` as a view of the frame being decoded when it lies inside it and is large, else a copy.
fn share_or_copy(data: &[u8]) -> bytes::Bytes {
    if data.len() < SHARE_AT_LEAST {
        return bytes::Bytes::copy_from_slice(data);
    }
    DECODE_SOURCE.with_borrow(|source| match source {
        Some(source) if contains(source, data) => source.slice_ref(data),
        _ => bytes::Bytes::copy_from_slice(data),
    })
}

fn contains(outer: &[u8], inner: &[u8]) -> bool {
    let start = outer.as_ptr() as usize;
    let at = inner.as_ptr() as usize;
    at >= start && at + inner.len() <= start + outer.len()
}

impl ts_rs::TS for Bytes {
    type WithoutGenerics = Self;
    type OptionInnerType = Self;

    fn docs() -> Option<String> {
        Some("Binary data: a `Uint8Array` in JavaScript (raw bytes on the wire).".into())
    }

    fn name(_: &ts_rs::Config) -> String {
        "Uint8Array".into()
    }

    fn inline(_: &ts_rs::Config) -> String {
        "Uint8Array".into()
    }
}
