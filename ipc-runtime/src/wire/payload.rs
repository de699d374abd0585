//! [`Payload`]: arguments, replies and event data as they move through the runtime, either as the
//! typed value itself (in-process) or as encoded bytes (from the wire).

use std::any::{Any, type_name};
use std::fmt;
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::codec::Codec;
use super::frame::FrameBuf;
use crate::error::IpcError;

/// A value the runtime carries without knowing its type.
///
/// Generated code creates and opens payloads; applications rarely touch one directly.
///
/// # Examples
///
/// ```
/// use ipc_runtime::{Codec, Payload};
///
/// // In-process: the value moves as itself.
/// let p = Payload::value((String::from("hi"),));
/// assert_eq!(p.take::<(String,)>().unwrap().0, "hi");
///
/// // From the wire: bytes decoded on demand with the connection's codec.
/// let p = Payload::encoded(Codec::Json, br#"["hi"]"#.to_vec().into());
/// assert_eq!(p.take::<(String,)>().unwrap().0, "hi");
/// ```
pub struct Payload(Repr);

enum Repr {
    Value(Box<dyn WireValue>),
    Shared(Arc<SharedCell>),
    Encoded {
        codec: Codec,
        bytes: Bytes,
        /// The ports the frame transferred, which the payload's references claim.
        context: Option<Arc<dyn DecodeContext>>,
        /// How many levels of a message read by hand enclose these bytes ([`Payload::part`]):
        /// what they may nest counts from the message's top.
        inside: u8,
    },
}

/// What decoding a payload needs besides its bytes: the ports its frame transferred (the port
/// layer claims them while the payload decodes; dropping the context closes those no decoding
/// claimed).
pub(crate) trait DecodeContext: Send + Sync {
    /// Runs `decode` with the context in place.
    fn enter(self: Arc<Self>, decode: &mut dyn FnMut());
}

/// Decodes `bytes` of `codec` as a `T`, with the ports of `context` to claim, nested `inside`
/// levels of a message read by hand.
fn decode_encoded<T: DeserializeOwned>(
    codec: Codec,
    bytes: &Bytes,
    context: Option<&Arc<dyn DecodeContext>>,
    inside: u8,
) -> Result<T, String> {
    within(context, || {
        super::blob::decode_sharing(bytes, || codec.decode_inside(bytes, inside))
    })
}

/// Decodes with `context` in place, if there is one.
fn within<T>(context: Option<&Arc<dyn DecodeContext>>, decode: impl FnOnce() -> T) -> T {
    let Some(context) = context else {
        return decode();
    };
    let mut decode = Some(decode);
    let mut out = None;
    context.clone().enter(&mut || {
        if let Some(decode) = decode.take() {
            out = Some(decode());
        }
    });
    match out {
        Some(out) => out,
        // `enter` runs `decode` exactly once; this is only reached if it did not.
        None => unreachable!("a decode context did not run the decoder"),
    }
}

trait WireValue: Any + Send {
    fn encode(&self, codec: Codec) -> Result<Bytes, IpcError>;
    fn write_to(&self, codec: Codec, out: &mut FrameBuf) -> Result<(), IpcError>;
    fn into_any(self: Box<Self>) -> Box<dyn Any + Send>;
    fn type_name(&self) -> &'static str;
}

impl<T: Serialize + Send + 'static> WireValue for T {
    fn encode(&self, codec: Codec) -> Result<Bytes, IpcError> {
        codec.encode(self)
    }
    fn write_to(&self, codec: Codec, out: &mut FrameBuf) -> Result<(), IpcError> {
        codec.encode_into(self, out)
    }
    fn into_any(self: Box<Self>) -> Box<dyn Any + Send> {
        self
    }
    fn type_name(&self) -> &'static str {
        type_name::<T>()
    }
}

/// A message whose MessagePack encoding is written by hand around the values serde writes (the
/// capability messages: a few fields whose names and order never change, which serde's
/// machinery would write a token at a time). The bytes must be what serde writes for the value:
/// peers read either.
pub(crate) trait WrittenByHand: Serialize + Send + 'static {
    /// Appends the value's MessagePack encoding to `out`.
    ///
    /// # Errors
    ///
    /// [`IpcError::Encode`] when a value inside cannot be encoded.
    fn write_messagepack(&self, out: &mut FrameBuf) -> Result<(), IpcError>;
}

/// A [`WrittenByHand`] message as a payload carries it: [`Payload::take`] takes out the message
/// itself.
struct ByHand<T>(T);

impl<T: WrittenByHand> WireValue for ByHand<T> {
    fn encode(&self, codec: Codec) -> Result<Bytes, IpcError> {
        codec.encode(&self.0)
    }
    fn write_to(&self, codec: Codec, out: &mut FrameBuf) -> Result<(), IpcError> {
        match codec {
            Codec::Binary | Codec::MessagePack => self.0.write_messagepack(out),
            Codec::Json => codec.encode_into(&self.0, out),
        }
    }
    // Boxed as it is (re-boxing the message would cost an allocation per message in this
    // process): `Payload::take` looks inside.
    fn into_any(self: Box<Self>) -> Box<dyn Any + Send> {
        self
    }
    fn type_name(&self) -> &'static str {
        type_name::<T>()
    }
}

trait SharedValue: Any + Send + Sync {
    fn encode(&self, codec: Codec) -> Result<Bytes, IpcError>;
    fn as_any(&self) -> &dyn Any;
    fn type_name(&self) -> &'static str;
}

impl<T: Serialize + Send + Sync + 'static> SharedValue for T {
    fn encode(&self, codec: Codec) -> Result<Bytes, IpcError> {
        codec.encode(self)
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn type_name(&self) -> &'static str {
        type_name::<T>()
    }
}

/// A value shared by several receivers, with its encodings cached so that an event broadcast to
/// many connections is encoded once per codec, not once per connection.
struct SharedCell {
    value: Box<dyn SharedValue>,
    json: OnceLock<Result<Bytes, IpcError>>,
    binary: OnceLock<Result<Bytes, IpcError>>,
    /// Encoded for one receiver only: it may transfer ports (otherwise its encoding, made once
    /// for every receiver, may not).
    single: bool,
}

impl SharedCell {
    fn encoded(&self, codec: Codec) -> Result<Bytes, IpcError> {
        if self.single {
            return self.value.encode(codec);
        }
        let slot = match codec {
            Codec::Json => &self.json,
            // The same values: only the frames around them differ.
            Codec::Binary | Codec::MessagePack => &self.binary,
        };
        slot.get_or_init(|| super::transfer::without(|| self.value.encode(codec)))
            .clone()
    }
}

impl Payload {
    /// Wraps a typed value that one receiver will take.
    pub fn value<T: Serialize + Send + 'static>(value: T) -> Self {
        Payload(Repr::Value(Box::new(value)))
    }

    /// [`Payload::value`] of a message whose MessagePack encoding is written by hand.
    pub(crate) fn written_by_hand<T: WrittenByHand>(value: T) -> Self {
        Payload(Repr::Value(Box::new(ByHand(value))))
    }

    /// Wraps a typed value that several receivers may each clone out (events, sends).
    pub fn shared<T: Serialize + Send + Sync + 'static>(value: T) -> Self {
        Payload(Repr::Shared(Arc::new(SharedCell {
            value: Box::new(value),
            json: OnceLock::new(),
            binary: OnceLock::new(),
            single: false,
        })))
    }

    /// Like [`Payload::shared`], for one receiver: the value may carry ports and streams.
    pub(crate) fn shared_single<T: Serialize + Send + Sync + 'static>(value: T) -> Self {
        Payload(Repr::Shared(Arc::new(SharedCell {
            value: Box::new(value),
            json: OnceLock::new(),
            binary: OnceLock::new(),
            single: true,
        })))
    }

    /// Wraps bytes received from the wire, encoded with `codec`.
    pub fn encoded(codec: Codec, bytes: Bytes) -> Self {
        Payload(Repr::Encoded {
            codec,
            bytes,
            context: None,
            inside: 0,
        })
    }

    /// Wraps bytes received in a frame that transferred ports (`context` claims them).
    pub(crate) fn encoded_with(
        codec: Codec,
        bytes: Bytes,
        context: Option<Arc<dyn DecodeContext>>,
    ) -> Self {
        Payload(Repr::Encoded {
            codec,
            bytes,
            context,
            inside: 0,
        })
    }

    /// The payload's bytes, when it arrived encoded as MessagePack (the binary and msgpack
    /// codecs): for decoders that read a message's outer map by hand.
    pub(crate) fn messagepack(&self) -> Option<&Bytes> {
        match &self.0 {
            Repr::Encoded {
                codec: Codec::Binary | Codec::MessagePack,
                bytes,
                ..
            } => Some(bytes),
            _ => None,
        }
    }

    /// The value at `range` of an encoded payload's bytes, `levels` deep in its value, as a
    /// payload of its own (the same codec, and the ports the frame transferred, shared; the
    /// nesting it may have is what is left below those levels); `None` for a payload that is
    /// not encoded.
    pub(crate) fn part(&self, range: std::ops::Range<usize>, levels: u8) -> Option<Payload> {
        match &self.0 {
            Repr::Encoded {
                codec,
                bytes,
                context,
                inside,
            } if range.end <= bytes.len() && range.start <= range.end => {
                Some(Payload(Repr::Encoded {
                    codec: *codec,
                    bytes: bytes.slice(range),
                    context: context.clone(),
                    inside: inside.saturating_add(levels),
                }))
            }
            _ => None,
        }
    }

    /// Takes the value out as a `T`.
    ///
    /// # Errors
    ///
    /// A description of the mismatch when the payload is not a `T`: for bytes, what the decoder
    /// said; in-process, the two type names.
    pub fn take<T: DeserializeOwned + 'static>(self) -> Result<T, String> {
        if let Some(read) = self.decode() {
            return read;
        }
        match self.0 {
            Repr::Value(boxed) => {
                let found = boxed.type_name();
                match boxed.into_any().downcast::<T>() {
                    Ok(value) => Ok(*value),
                    Err(boxed) => boxed
                        .downcast::<ByHand<T>>()
                        .map(|message| message.0)
                        .map_err(|_| type_mismatch::<T>(found)),
                }
            }
            Repr::Shared(shared) => Err(format!(
                "a shared `{}` must be cloned out, not taken",
                shared.value.type_name()
            )),
            Repr::Encoded { .. } => unreachable!("encoded payloads are decoded above"),
        }
    }

    /// Decodes an encoded payload's bytes as a `T`, keeping the payload (for a message read a
    /// second way when the first fails); `None` for a value sent in this process.
    pub(crate) fn decode<T: DeserializeOwned>(&self) -> Option<Result<T, String>> {
        match &self.0 {
            Repr::Encoded {
                codec,
                bytes,
                context,
                inside,
            } => Some(decode_encoded(*codec, bytes, context.as_ref(), *inside)),
            _ => None,
        }
    }

    /// Takes the value out as a `T`, cloning it when the payload is shared.
    ///
    /// # Errors
    ///
    /// As [`Payload::take`].
    pub fn take_cloned<T: DeserializeOwned + Clone + 'static>(self) -> Result<T, String> {
        match self.0 {
            Repr::Shared(shared) => shared
                .value
                .as_any()
                .downcast_ref::<T>()
                .cloned()
                .ok_or_else(|| type_mismatch::<T>(shared.value.type_name())),
            other => Payload(other).take(),
        }
    }

    /// A second handle on the same data, when the payload can be shared (shared values and bytes).
    pub fn try_clone(&self) -> Option<Payload> {
        match &self.0 {
            Repr::Value(_) => None,
            Repr::Shared(shared) => Some(Payload(Repr::Shared(shared.clone()))),
            Repr::Encoded { bytes, .. } => self.part(0..bytes.len(), 0),
        }
    }

    /// The payload's bytes in `codec`: encoded now for a typed value, re-used when the bytes are
    /// already in that codec.
    ///
    /// # Errors
    ///
    /// [`IpcError::Encode`] when the value cannot be encoded; [`IpcError::Protocol`] when bytes in
    /// one codec would have to be re-encoded in another.
    pub fn to_bytes(&self, codec: Codec) -> Result<Bytes, IpcError> {
        match &self.0 {
            Repr::Value(value) => value.encode(codec),
            Repr::Shared(shared) => shared.encoded(codec),
            Repr::Encoded {
                codec: have,
                bytes,
                context: None,
                ..
            } if have.values_like(codec) => Ok(bytes.clone()),
            Repr::Encoded {
                context: Some(_), ..
            } => Err(forwarded_ports()),
            Repr::Encoded { codec: have, .. } => Err(codec_mismatch(*have, codec)),
        }
    }

    /// Appends the payload's encoding in `codec` to a frame being encoded (typed values are
    /// encoded straight into it; large encoded bytes are referenced, not copied).
    pub(crate) fn write_to(&self, codec: Codec, out: &mut FrameBuf) -> Result<(), IpcError> {
        match &self.0 {
            Repr::Value(value) => value.write_to(codec, out),
            Repr::Shared(shared) => {
                out.put_bytes(&shared.encoded(codec)?);
                Ok(())
            }
            Repr::Encoded {
                codec: have,
                bytes,
                context: None,
                ..
            } if have.values_like(codec) => {
                out.put_bytes(bytes);
                Ok(())
            }
            Repr::Encoded {
                context: Some(_), ..
            } => Err(forwarded_ports()),
            Repr::Encoded { codec: have, .. } => Err(codec_mismatch(*have, codec)),
        }
    }

    /// Whether the payload holds the value itself rather than bytes.
    pub fn is_typed(&self) -> bool {
        !matches!(self.0, Repr::Encoded { .. })
    }
}

fn codec_mismatch(have: Codec, want: Codec) -> IpcError {
    IpcError::Protocol {
        reason: format!(
            "cannot forward {} bytes on a {} connection",
            have.name(),
            want.name()
        ),
    }
}

/// Bytes that name ports of the connection they came in on mean nothing on another.
fn forwarded_ports() -> IpcError {
    IpcError::Encode {
        reason: "a received payload that transferred ports cannot be forwarded as it is: decode \
                 it and send the value"
            .into(),
    }
}

fn type_mismatch<T>(found: &str) -> String {
    format!(
        "expected a `{}`, found a `{found}` (two channel descriptors disagree on this channel's types)",
        type_name::<T>()
    )
}

impl fmt::Debug for Payload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Repr::Value(v) => write!(f, "Payload::Value({})", v.type_name()),
            Repr::Shared(v) => write!(f, "Payload::Shared({})", v.value.type_name()),
            Repr::Encoded { codec, bytes, .. } => {
                write!(
                    f,
                    "Payload::Encoded({}, {} bytes)",
                    codec.name(),
                    bytes.len()
                )
            }
        }
    }
}

/// The arguments of a channel with no parameters: a positional array of length zero
/// (`[]` in JSON, nothing at all in the binary codec).
///
/// # Examples
///
/// ```
/// use ipc_runtime::{Codec, NoArgs};
///
/// assert_eq!(&Codec::Json.encode(&NoArgs).unwrap()[..], b"[]");
/// let _: NoArgs = Codec::Json.decode(b"[]").unwrap();
/// assert!(Codec::Json.decode::<NoArgs>(b"[1]").is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NoArgs;

impl Serialize for NoArgs {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeTuple;
        serializer.serialize_tuple(0)?.end()
    }
}

impl<'de> serde::Deserialize<'de> for NoArgs {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = NoArgs;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an empty argument list")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<NoArgs, A::Error> {
                match seq.next_element::<serde::de::IgnoredAny>()? {
                    None => Ok(NoArgs),
                    Some(_) => Err(serde::de::Error::invalid_length(1, &self)),
                }
            }
        }
        deserializer.deserialize_tuple(0, Visitor)
    }
}
