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
        deserialize_blob(deserializer, |data| Bytes(share_or_copy(data)), Bytes::from)
    }
}

/// Reads binary data in the form [`Bytes`] writes (raw bytes, or base64 text on JSON), made into
/// a value by `borrowed` (from bytes the deserializer lends) or `owned`.
fn deserialize_blob<'de, D: Deserializer<'de>, T>(
    deserializer: D,
    borrowed: fn(&[u8]) -> T,
    owned: fn(Vec<u8>) -> T,
) -> Result<T, D::Error> {
    struct Visitor<T> {
        borrowed: fn(&[u8]) -> T,
        owned: fn(Vec<u8>) -> T,
    }
    impl<'de, T> serde::de::Visitor<'de> for Visitor<T> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("bytes, or a base64 string")
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<T, E> {
            STANDARD
                .decode(v)
                .map(self.owned)
                .map_err(|e| E::custom(format!("invalid base64: {e}")))
        }
        fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<T, E> {
            Ok((self.borrowed)(v))
        }
        fn visit_byte_buf<E: serde::de::Error>(self, v: Vec<u8>) -> Result<T, E> {
            Ok((self.owned)(v))
        }
    }
    let visitor = Visitor { borrowed, owned };
    if deserializer.is_human_readable() {
        deserializer.deserialize_str(visitor)
    } else {
        deserializer.deserialize_bytes(visitor)
    }
}

/// The wire form of a `Vec<u8>` declared as bytes (`#[bytes]` on a `#[data]` field): carried as
/// [`Bytes`] is (raw bytes, base64 on JSON) and described as a `Uint8Array`, where a plain
/// `Vec<u8>` is an array of numbers. Generated code uses it through `serde_with`; callers never
/// see it.
#[derive(Debug, Clone, Copy)]
pub struct AsBytes;

impl serde_with::SerializeAs<Vec<u8>> for AsBytes {
    fn serialize_as<S: Serializer>(source: &Vec<u8>, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            serializer.serialize_str(&STANDARD.encode(source))
        } else {
            serializer.serialize_bytes(source)
        }
    }
}

impl<'de> serde_with::DeserializeAs<'de, Vec<u8>> for AsBytes {
    fn deserialize_as<D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        deserialize_blob(deserializer, <[u8]>::to_vec, |owned| owned)
    }
}

impl ts_rs::TS for AsBytes {
    type WithoutGenerics = Self;
    type OptionInnerType = Self;

    fn name(cfg: &ts_rs::Config) -> String {
        <Bytes as ts_rs::TS>::name(cfg)
    }

    fn inline(cfg: &ts_rs::Config) -> String {
        <Bytes as ts_rs::TS>::inline(cfg)
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
