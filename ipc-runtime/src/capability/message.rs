//! What crosses a capability's port (`docs/PROTOCOL.md` §7.3).
//!
//! Both directions are maps tagged by `t`. They are read by hand rather than through serde's
//! internally tagged enums, which buffer the whole map into an intermediate tree before they
//! look at the tag: here every field's type is known from its name alone, so each is decoded in
//! place, in whatever order the map holds them.

use std::fmt;
use std::marker::PhantomData;
use std::ops::Range;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Serialize};

use super::Capability;
use crate::error::IpcError;
use crate::wire::payload::WrittenByHand;
use crate::wire::{Codec, FrameBuf, Payload, WireError, msgpack};

/// From the holder to the object.
#[derive(Debug, Serialize)]
#[serde(tag = "t", rename_all = "lowercase")]
pub(crate) enum ToObject<Call> {
    /// A method call: `call` names the method and carries its arguments. `id` is the holder's,
    /// unique among its calls in flight on this handle.
    Call { id: u64, call: Call },
    /// The holder no longer waits for call `id`: the object drops its handler's future.
    Cancel { id: u64 },
}

/// From the object to the holder.
#[derive(Debug, Serialize)]
#[serde(tag = "t", rename_all = "lowercase")]
pub(crate) enum FromObject<Reply> {
    /// Call `id`'s outcome (the method's `Ok` or its application error).
    Reply { id: u64, reply: Reply },
    /// Call `id` failed in the framework (its handler panicked, too many calls in flight, a
    /// repeated id).
    Error { id: u64, error: Box<WireError> },
}

/// A call's or a reply's body (`{Trait}Call`, `{Trait}Reply`), written as MessagePack by hand
/// around the values serde writes: exactly what serde's derive writes for it
/// (`{"m": method, "args": [...]}`, `{"m": method, "outcome": {"Ok" | "Err": value}}`), a few
/// bytes copied instead of a token at a time through serde. Generated.
#[doc(hidden)]
pub trait MessageBody: Serialize {
    /// Appends the body to `out`.
    ///
    /// # Errors
    ///
    /// [`IpcError::Encode`] when a value inside cannot be encoded.
    fn write_body(&self, out: &mut BodyWriter<'_>) -> Result<(), IpcError>;
}

/// Where a [`MessageBody`] is written (a frame being encoded).
#[doc(hidden)]
pub struct BodyWriter<'a>(&'a mut FrameBuf);

impl BodyWriter<'_> {
    /// `{"m": method, "args": args}`.
    ///
    /// # Errors
    ///
    /// [`IpcError::Encode`] when `args` cannot be encoded.
    pub fn call<A: Serialize + ?Sized>(&mut self, method: &str, args: &A) -> Result<(), IpcError> {
        self.head(method, b"args");
        Codec::Binary.encode_into(args, &mut *self.0)
    }

    /// `{"m": method, "outcome": {"Ok": value}}`, or `{"Err": error}` for an error.
    ///
    /// # Errors
    ///
    /// [`IpcError::Encode`] when the value cannot be encoded.
    pub fn reply<T: Serialize, E: Serialize>(
        &mut self,
        method: &str,
        outcome: &Result<T, E>,
    ) -> Result<(), IpcError> {
        self.head(method, b"outcome");
        match outcome {
            Ok(value) => {
                self.0.extend_from_slice(&[0x81, 0xa2, b'O', b'k']);
                Codec::Binary.encode_into(value, &mut *self.0)
            }
            Err(error) => {
                self.0.extend_from_slice(&[0x81, 0xa3, b'E', b'r', b'r']);
                Codec::Binary.encode_into(error, &mut *self.0)
            }
        }
    }

    /// `{"m": method, key: ` (the value follows).
    fn head<const N: usize>(&mut self, method: &str, key: &[u8; N]) {
        self.0.extend_from_slice(&[0x82, 0xa1, b'm']);
        msgpack::write_str(self.0, method);
        self.0.push(0xa0 | N as u8);
        self.0.extend_from_slice(key);
    }
}

impl<Call: MessageBody + Send + 'static> WrittenByHand for ToObject<Call> {
    fn write_messagepack(&self, out: &mut FrameBuf) -> Result<(), IpcError> {
        match self {
            ToObject::Call { id, call } => {
                tagged_head(out, b"call", *id);
                call.write_body(&mut BodyWriter(out))
            }
            ToObject::Cancel { id } => {
                out.extend_from_slice(&[0x82, 0xa1, b't', 0xa6]);
                out.extend_from_slice(b"cancel");
                out.extend_from_slice(&[0xa2, b'i', b'd']);
                let (id, len) = msgpack::uint_bytes(*id);
                out.extend_from_slice(&id[..len]);
                Ok(())
            }
        }
    }
}

impl<Reply: MessageBody + Send + 'static> WrittenByHand for FromObject<Reply> {
    fn write_messagepack(&self, out: &mut FrameBuf) -> Result<(), IpcError> {
        match self {
            FromObject::Reply { id, reply } => {
                tagged_head(out, b"reply", *id);
                reply.write_body(&mut BodyWriter(out))
            }
            // Rare: not worth a second writer.
            FromObject::Error { .. } => Codec::Binary.encode_into(self, out),
        }
    }
}

/// Writes the head of `{"t": kind, "id": id, kind: …}` (as serde's derive writes a variant of
/// an internally tagged enum, and [`msgpack::tagged_map`] reads it), up to the body's value.
fn tagged_head<const N: usize>(out: &mut FrameBuf, kind: &[u8; N], id: u64) {
    // Gathered in copies of known sizes and appended at once: one growth check and one copy
    // of unknown length, not one of each per piece.
    let mut head = [0u8; 32];
    // `kind` is a fixed name of a few letters (`call`, `reply`): a `fixstr`.
    let marker = 0xa0 | N as u8;
    head[..4].copy_from_slice(&[0x83, 0xa1, b't', marker]);
    head[4..4 + N].copy_from_slice(kind);
    head[4 + N..7 + N].copy_from_slice(&[0xa2, b'i', b'd']);
    let (id, id_len) = msgpack::uint_bytes(id);
    head[7 + N..16 + N].copy_from_slice(&id);
    let at = 7 + N + id_len;
    head[at] = marker;
    head[at + 1..at + 1 + N].copy_from_slice(kind);
    out.extend_from_slice(&head[..at + 1 + N]);
}

impl<Reply> FromObject<Reply> {
    /// Call `id` failed in the framework with `error`.
    pub(crate) fn failed(id: u64, error: &IpcError) -> Self {
        FromObject::Error {
            id,
            error: Box::new(error.into()),
        }
    }
}

/// How deep a call's arguments sit in its message (in the message's map, in the call's): the
/// nesting they may have is what the message may have below that, as when serde reads it whole.
const ARGS_LEVEL: u8 = 2;
/// How deep a reply's value sits in its message (in the message's map, the reply's, the
/// outcome's).
const VALUE_LEVEL: u8 = 3;

/// A message from the holder, as the object acts on it.
#[derive(Debug)]
pub(crate) enum Arrived<Call> {
    /// A call to run.
    Call { id: u64, call: Call },
    /// The holder no longer waits for call `id`.
    Cancel { id: u64 },
    /// A call answered without running: the holder may not call its method, the capability has
    /// no such method, or the arguments are not the method's.
    Refused { id: u64, error: IpcError },
}

/// Decodes a message from the holder, judging each call's method with `admit` (the object's
/// policy for its holder) before its arguments are decoded. A call written as every peer of
/// this project writes one is read by hand down to its arguments ([`msgpack::tagged_map`],
/// [`msgpack::method_map`], [`Capability::call_of`]); anything else as serde reads it. Both
/// ways give the same outcome.
///
/// # Errors
///
/// What the decoder said, for a message that is no call or cancel, or a call whose id or
/// method cannot be read (it cannot be answered).
pub(crate) fn to_object<C: Capability>(
    message: Payload,
    admit: impl Fn(&str) -> Result<(), IpcError>,
) -> Result<Arrived<C::Call>, String> {
    if let Some((bytes, id, body)) = tagged(&message, b"call")
        && let Some((method, args)) = msgpack::method_map(bytes, body, b"args")
    {
        match admit(method) {
            // Refused without decoding the arguments, once they are found to be one whole
            // value (as serde finds the message before it refuses).
            Err(error) => {
                if whole(&bytes[args]) {
                    return Ok(Arrived::Refused { id, error });
                }
            }
            // The arguments are taken from the message's bytes, not from a payload of the body
            // made first (each payload of the frame's bytes is one more count on memory other
            // threads count).
            Ok(()) => match message
                .part(args.clone(), ARGS_LEVEL)
                .and_then(|part| C::call_of(method, part))
            {
                Some(Ok(call)) => return Ok(Arrived::Call { id, call }),
                // Arguments of another shape than the method's, in a message that is one
                // whole value: answered as serde would answer it, without reading it again.
                Some(Err(reason)) if whole(&bytes[args.clone()]) => {
                    return Ok(Arrived::Refused {
                        id,
                        error: unanswerable::<C>(method, reason),
                    });
                }
                // A method the capability does not have, in a message that is one whole value:
                // answered as serde would answer it, without the two reads serde would make.
                None if whole(&bytes[args]) => {
                    if let Some(error) = no_such_method::<C>(method) {
                        return Ok(Arrived::Refused { id, error });
                    }
                }
                _ => {}
            },
        }
        // Arguments that are not one whole value, or a method the generated reader does not
        // know (a capability not generated by the macro): serde reads the message again, names
        // what is wrong, and finds whether the call can be answered.
    }
    by_serde::<C>(message, admit)
}

/// Whether a call's arguments (read by hand out of its message) are one whole MessagePack value,
/// nested within what the message may nest below them: the message is then one whole value too.
fn whole(args: &[u8]) -> bool {
    msgpack::check_within(args, msgpack::MAX_DEPTH - usize::from(ARGS_LEVEL)).is_ok()
}

/// [`to_object`] as serde reads the message. A call that does not decode whole is read again
/// for its id and method alone: when those read, it is answered as the hand reader answers it.
fn by_serde<C: Capability>(
    message: Payload,
    admit: impl Fn(&str) -> Result<(), IpcError>,
) -> Result<Arrived<C::Call>, String> {
    let Some(read) = message.decode::<ToObject<C::Call>>() else {
        // A value sent in this process is what it is: nothing to read a second way.
        return judged::<C>(message.take(), &admit);
    };
    let reason = match judged::<C>(read, &admit) {
        Ok(arrived) => return Ok(arrived),
        Err(reason) => reason,
    };
    // The call again, its body reduced to the method's name.
    let Some(Ok(ToObject::Call { id, call })) = message.decode::<ToObject<Method>>() else {
        return Err(reason);
    };
    let error = match admit(&call.m) {
        Ok(()) => unanswerable::<C>(&call.m, reason),
        Err(refused) => refused,
    };
    Ok(Arrived::Refused { id, error })
}

/// A message serde read, as the object acts on it: a call judged by `admit`.
fn judged<C: Capability>(
    read: Result<ToObject<C::Call>, String>,
    admit: &impl Fn(&str) -> Result<(), IpcError>,
) -> Result<Arrived<C::Call>, String> {
    Ok(match read? {
        ToObject::Call { id, call } => match admit(C::method(&call)) {
            Ok(()) => Arrived::Call { id, call },
            Err(error) => Arrived::Refused { id, error },
        },
        ToObject::Cancel { id } => Arrived::Cancel { id },
    })
}

/// A call's body reduced to its method's name: what an answer to a call that does not decode
/// needs.
struct Method {
    m: String,
}

impl<'de> Deserialize<'de> for Method {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        map_of(deserializer)
    }
}

impl<'de> FromMap<'de> for Method {
    const EXPECTING: &'static str = "a call's method and arguments (a map)";

    fn from_map<A: MapAccess<'de>>(mut map: A) -> Result<Method, A::Error> {
        let mut m = None::<String>;
        while let Some(field) = map.next_key()? {
            match field {
                Field::Method => once(&mut m, "m", &mut map)?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Method {
            m: m.ok_or_else(|| de::Error::missing_field("m"))?,
        })
    }
}

/// The error a call of `method` whose arguments did not decode (`reason`) is answered with:
/// `bad_arguments` for one of the capability's methods, `no_handler` for any other name.
fn unanswerable<C: Capability>(method: &str, reason: String) -> IpcError {
    no_such_method::<C>(method).unwrap_or_else(|| IpcError::BadArguments {
        channel: ipc_schema::naming::channel_name(C::NAME, method),
        reason,
    })
}

/// `no_handler` for a call of `method` (its wire name), when the capability has no such method.
fn no_such_method<C: Capability>(method: &str) -> Option<IpcError> {
    let channel = ipc_schema::naming::channel_name(C::NAME, method);
    C::contract()
        .method(&channel)
        .is_none()
        .then_some(IpcError::NoHandler { channel })
}

/// Decodes a message from the object. A reply written as every peer of this project writes one
/// is read by hand down to its value ([`msgpack::outcome`], [`Capability::reply_of`]); anything
/// else as serde reads it.
pub(crate) fn from_object<C: Capability>(message: Payload) -> Result<FromObject<C::Reply>, String> {
    let Some((bytes, id, body)) = tagged(&message, b"reply") else {
        return message.take();
    };
    let by_hand =
        msgpack::method_map(bytes, body.clone(), b"outcome").and_then(|(method, outcome)| {
            let (ok, value) = msgpack::outcome(bytes, outcome)?;
            C::reply_of(method, ok, message.part(value, VALUE_LEVEL)?)
        });
    let reply = match by_hand {
        Some(reply) => reply?,
        None => part(&message, body)?.take()?,
    };
    Ok(FromObject::Reply { id, reply })
}

/// A MessagePack message of `kind` read by hand: its bytes, its id and its body's place.
fn tagged<'a, const N: usize>(
    message: &'a Payload,
    kind: &[u8; N],
) -> Option<(&'a [u8], u64, Range<usize>)> {
    let bytes = message.messagepack()?;
    let (id, body) = msgpack::tagged_map(bytes, kind)?;
    Some((bytes, id, body))
}

/// The payload of `message`'s bytes at `range` (a place read in them, so always within).
fn part(message: &Payload, range: Range<usize>) -> Result<Payload, String> {
    message
        .part(range, 1)
        .ok_or_else(|| "a message's body lies outside it".to_string())
}

/// The fields of either direction's map.
enum Field {
    Tag,
    Id,
    Call,
    Reply,
    Error,
    /// A call's method (in its body).
    Method,
    /// A field this version does not know: skipped.
    Other,
}

impl<'de> Deserialize<'de> for Field {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Names;
        impl Visitor<'_> for Names {
            type Value = Field;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a field name")
            }

            fn visit_str<E: de::Error>(self, name: &str) -> Result<Field, E> {
                self.visit_bytes(name.as_bytes())
            }

            // A key of another kind (MessagePack maps may have integer keys) is no field of
            // ours: skipped, as an unknown name is.
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Field, E> {
                Ok(Field::Other)
            }

            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Field, E> {
                Ok(Field::Other)
            }

            fn visit_bytes<E: de::Error>(self, name: &[u8]) -> Result<Field, E> {
                Ok(match name {
                    b"t" => Field::Tag,
                    b"id" => Field::Id,
                    b"call" => Field::Call,
                    b"reply" => Field::Reply,
                    b"error" => Field::Error,
                    b"m" => Field::Method,
                    _ => Field::Other,
                })
            }
        }
        deserializer.deserialize_identifier(Names)
    }
}

/// The message kinds (`t`) from the holder.
#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum ToTag {
    Call,
    Cancel,
}

/// The message kinds (`t`) from the object.
#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum FromTag {
    Reply,
    Error,
}

/// A field read once: a second one of the same name is an error, as serde's derive says.
fn once<'de, A: MapAccess<'de>, T: Deserialize<'de>>(
    slot: &mut Option<T>,
    name: &'static str,
    map: &mut A,
) -> Result<(), A::Error> {
    if slot.is_some() {
        return Err(de::Error::duplicate_field(name));
    }
    *slot = Some(map.next_value()?);
    Ok(())
}

impl<'de, Call: Deserialize<'de>> Deserialize<'de> for ToObject<Call> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        map_of(deserializer)
    }
}

impl<'de, Call: Deserialize<'de>> FromMap<'de> for ToObject<Call> {
    const EXPECTING: &'static str = "a capability call or cancel (a map tagged by `t`)";

    fn from_map<A: MapAccess<'de>>(mut map: A) -> Result<Self, A::Error> {
        let (mut tag, mut id, mut call) = (None::<ToTag>, None, None);
        while let Some(field) = map.next_key()? {
            match field {
                Field::Tag => once(&mut tag, "t", &mut map)?,
                Field::Id => once(&mut id, "id", &mut map)?,
                Field::Call => once(&mut call, "call", &mut map)?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let tag = tag.ok_or_else(|| de::Error::missing_field("t"))?;
        let id = id.ok_or_else(|| de::Error::missing_field("id"))?;
        Ok(match tag {
            ToTag::Call => ToObject::Call {
                id,
                call: call.ok_or_else(|| de::Error::missing_field("call"))?,
            },
            ToTag::Cancel => ToObject::Cancel { id },
        })
    }
}

impl<'de, Reply: Deserialize<'de>> Deserialize<'de> for FromObject<Reply> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        map_of(deserializer)
    }
}

impl<'de, Reply: Deserialize<'de>> FromMap<'de> for FromObject<Reply> {
    const EXPECTING: &'static str = "a capability's answer (a map tagged by `t`)";

    fn from_map<A: MapAccess<'de>>(mut map: A) -> Result<Self, A::Error> {
        let (mut tag, mut id, mut reply, mut error) = (None::<FromTag>, None, None, None);
        while let Some(field) = map.next_key()? {
            match field {
                Field::Tag => once(&mut tag, "t", &mut map)?,
                Field::Id => once(&mut id, "id", &mut map)?,
                Field::Reply => once(&mut reply, "reply", &mut map)?,
                Field::Error => once::<_, Box<WireError>>(&mut error, "error", &mut map)?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let tag = tag.ok_or_else(|| de::Error::missing_field("t"))?;
        let id = id.ok_or_else(|| de::Error::missing_field("id"))?;
        Ok(match tag {
            FromTag::Reply => FromObject::Reply {
                id,
                reply: reply.ok_or_else(|| de::Error::missing_field("reply"))?,
            },
            FromTag::Error => FromObject::Error {
                id,
                error: error.ok_or_else(|| de::Error::missing_field("error"))?,
            },
        })
    }
}

/// A value read from a map entry by entry, as each of the messages above is.
trait FromMap<'de>: Sized {
    /// What the map is, for an error.
    const EXPECTING: &'static str;

    fn from_map<A: MapAccess<'de>>(map: A) -> Result<Self, A::Error>;
}

/// Deserializes a `T` from a map.
fn map_of<'de, D: Deserializer<'de>, T: FromMap<'de>>(deserializer: D) -> Result<T, D::Error> {
    struct Entries<T>(PhantomData<T>);
    impl<'de, T: FromMap<'de>> Visitor<'de> for Entries<T> {
        type Value = T;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(T::EXPECTING)
        }

        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
            T::from_map(map)
        }
    }
    deserializer.deserialize_map(Entries(PhantomData))
}

/// What reading a message came to, comparable across the two ways: a call as its JSON, a refusal
/// as its error's code and channel.
#[cfg(any(test, feature = "fuzzing"))]
fn outcome<Call: Serialize>(read: &Result<Arrived<Call>, String>) -> String {
    match read {
        Ok(Arrived::Call { id, call }) => format!(
            "call {id} {}",
            serde_json::to_string(call).unwrap_or_else(|e| format!("(no JSON: {e})"))
        ),
        Ok(Arrived::Cancel { id }) => format!("cancel {id}"),
        Ok(Arrived::Refused { id, error }) => {
            let wire = WireError::from(error);
            format!("refused {id} {} {:?}", wire.code, wire.channel)
        }
        Err(_) => "undecodable".into(),
    }
}

/// Reads the message `message` gives both as the object does ([`to_object`]) and by serde
/// alone, and as the holder does ([`from_object`]) and by serde alone, judging calls with
/// [`probe::admit`]: each pair must agree (the unit tests and the `capability` fuzz target).
///
/// # Errors
///
/// How the two readings of a pair differ.
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) fn both_ways<C: Capability>(message: impl Fn() -> Payload) -> Result<(), String> {
    let read = outcome(&to_object::<C>(message(), probe::admit));
    let by_serde = outcome(&by_serde::<C>(message(), probe::admit));
    if read != by_serde {
        return Err(format!(
            "a call read by hand as {read}, by serde as {by_serde}"
        ));
    }
    let answer = |read: Result<FromObject<C::Reply>, String>| match read {
        Ok(answer) => serde_json::to_string(&answer).unwrap_or_else(|e| format!("(no JSON: {e})")),
        Err(_) => "undecodable".into(),
    };
    let read = answer(from_object::<C>(message()));
    let by_serde = answer(message().take());
    if read != by_serde {
        return Err(format!(
            "an answer read by hand as {read}, by serde as {by_serde}"
        ));
    }
    Ok(())
}

/// A capability to read messages of, in tests and fuzzing.
#[cfg(any(test, feature = "fuzzing"))]
#[allow(
    dead_code,
    reason = "only its messages are read: nothing serves or calls it"
)]
pub(crate) mod probe {
    use crate::error::IpcError;

    /// A capability to read messages of.
    #[ipc_macros::channels(namespace = "probe", capability, crate = "crate")]
    pub(crate) trait Probe {
        /// Two arguments.
        async fn pair(&self, n: u32, text: String) -> Vec<u8>;
        /// Fallible.
        async fn risky(&self) -> Result<u32, String>;
        /// As deep as it comes.
        async fn nest(&self, nest: Nest) -> Nest;
        /// Refused to everyone, like `risky`; its argument counts its decodings.
        async fn guarded(&self, counted: Counted) -> u32;
    }

    thread_local! {
        /// How many [`Counted`] values this thread decoded.
        pub(crate) static DECODED: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
    }

    /// A number that counts its decodings (on this thread): what a refused call must not cost.
    #[ipc_macros::data(crate = "crate")]
    #[derive(Debug, serde::Serialize)]
    pub(crate) struct Counted(pub(crate) u32);

    impl<'de> serde::Deserialize<'de> for Counted {
        fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            DECODED.set(DECODED.get() + 1);
            u32::deserialize(deserializer).map(Counted)
        }
    }

    /// Lists of lists.
    #[ipc_macros::data(crate = "crate")]
    #[derive(Debug, serde::Serialize, serde::Deserialize)]
    pub(crate) struct Nest(pub(crate) Vec<Nest>);

    /// Refuses `risky` and `guarded` (as a policy would), admits the rest.
    pub(crate) fn admit(method: &str) -> Result<(), IpcError> {
        if method == "risky" || method == "guarded" {
            return Err(IpcError::Forbidden {
                channel: format!("probe:{method}"),
                reason: "not for you".into(),
                rule: None,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::probe::{Probe, ProbeCall, ProbeReply};
    use super::*;

    #[test]
    fn messages_read_in_any_field_order_and_refuse_what_is_not_theirs() {
        let call: ToObject<Vec<u32>> =
            serde_json::from_str(r#"{"call":[1,2],"extra":{"x":1},"id":7,"t":"call"}"#).unwrap();
        assert!(matches!(call, ToObject::Call { id: 7, call } if call == [1, 2]));
        let cancel: ToObject<Vec<u32>> = serde_json::from_str(r#"{"t":"cancel","id":3}"#).unwrap();
        assert!(matches!(cancel, ToObject::Cancel { id: 3 }));
        // An integer key (MessagePack) is skipped like an unknown name.
        let mut packed = rmp_serde::to_vec_named(&ToObject::<Vec<u32>>::Cancel { id: 4 }).unwrap();
        packed[0] += 1; // one more entry in the fixmap: 7 => true
        packed.extend([0x07, 0xc3]);
        let cancel: ToObject<Vec<u32>> = rmp_serde::from_slice(&packed).unwrap();
        assert!(matches!(cancel, ToObject::Cancel { id: 4 }));
        let reply: FromObject<String> =
            serde_json::from_str(r#"{"t":"reply","id":1,"reply":"ok"}"#).unwrap();
        assert!(matches!(reply, FromObject::Reply { id: 1, reply } if reply == "ok"));

        for (bad, says) in [
            (r#"{"t":"launch","id":1}"#, "unknown variant `launch`"),
            (
                r#"{"t":"reply","id":1}"#,
                "unknown variant `reply`, expected `call` or `cancel`",
            ),
            (r#"{"t":"call","id":1}"#, "missing field `call`"),
            (r#"{"id":1,"call":[]}"#, "missing field `t`"),
            (r#"{"t":"cancel"}"#, "missing field `id`"),
            (r#"{"t":"cancel","id":1,"id":2}"#, "duplicate field `id`"),
            (r#"[1,2]"#, "a capability call or cancel"),
        ] {
            let error = serde_json::from_str::<ToObject<Vec<u32>>>(bad).unwrap_err();
            assert!(error.to_string().contains(says), "{bad}: {error}");
        }
        let error =
            serde_json::from_str::<FromObject<String>>(r#"{"t":"call","id":1}"#).unwrap_err();
        assert!(
            error.to_string().contains("unknown variant `call`"),
            "{error}"
        );
    }

    /// A message encoded as MessagePack `bytes` (the binary codec).
    fn arrived(bytes: &[u8]) -> Payload {
        Payload::encoded(
            crate::wire::Codec::Binary,
            bytes::Bytes::copy_from_slice(bytes),
        )
    }

    /// A map as `rmp_serde` writes `entries` (keys and values given as JSON).
    fn packed(entries: &[(&str, serde_json::Value)]) -> Vec<u8> {
        let mut out = vec![0x80 + u8::try_from(entries.len()).unwrap()];
        for (key, value) in entries {
            out.push(0xa0 + u8::try_from(key.len()).unwrap());
            out.extend(key.as_bytes());
            out.extend(rmp_serde::to_vec_named(value).unwrap());
        }
        out
    }

    /// The call read by hand and by serde: the same outcome.
    fn read_both_ways(bytes: &[u8]) -> Result<Arrived<ProbeCall>, String> {
        if let Err(differ) = both_ways::<Probe>(|| arrived(bytes)) {
            panic!("{bytes:?}: {differ}");
        }
        to_object::<Probe>(arrived(bytes), probe::admit)
    }

    #[test]
    fn messages_read_by_hand_read_as_serde_reads_them() {
        use serde_json::json;
        // As this side writes them: read by hand, the same values as serde's.
        for id in [0, 127, 200, 60_000, 70_000, 1 << 40, u64::MAX] {
            let call = ToObject::Call {
                id,
                call: ProbeCall::pair((7, "x".into())),
            };
            let bytes = rmp_serde::to_vec_named(&call).unwrap();
            // Read by hand all the way to the arguments.
            let (_, body) = crate::wire::msgpack::tagged_map(&bytes, b"call").unwrap();
            let (method, _) = crate::wire::msgpack::method_map(&bytes, body, b"args").unwrap();
            assert_eq!(method, "pair");
            let read = read_both_ways(&bytes).unwrap();
            assert!(
                matches!(read, Arrived::Call { id: read, call: ProbeCall::pair((7, ref x)) } if read == id && x == "x")
            );
        }
        for reply in [
            ProbeReply::pair(Ok(vec![1, 2])),
            ProbeReply::risky(Ok(5)),
            ProbeReply::risky(Err("no".into())),
        ] {
            let bytes = rmp_serde::to_vec_named(&FromObject::Reply { id: 9, reply }).unwrap();
            // Read by hand all the way to the value.
            let (_, body) = crate::wire::msgpack::tagged_map(&bytes, b"reply").unwrap();
            let (_, outcome) = crate::wire::msgpack::method_map(&bytes, body, b"outcome").unwrap();
            assert!(crate::wire::msgpack::outcome(&bytes, outcome).is_some());
            let by_serde = rmp_serde::from_slice::<FromObject<ProbeReply>>(&bytes).unwrap();
            let read = from_object::<Probe>(arrived(&bytes)).unwrap();
            assert_eq!(
                rmp_serde::to_vec_named(&read).unwrap(),
                rmp_serde::to_vec_named(&by_serde).unwrap()
            );
        }

        // The generated readers know their methods, and leave other names to serde.
        let args = rmp_serde::to_vec_named(&(7u32, "x")).unwrap();
        assert!(matches!(
            <Probe as Capability>::call_of("pair", arrived(&args)),
            Some(Ok(ProbeCall::pair((7, _))))
        ));
        assert!(<Probe as Capability>::call_of("launch", arrived(&args)).is_none());
        assert!(matches!(
            <Probe as Capability>::call_of("risky", arrived(&args)),
            Some(Err(_))
        ));
        let five = rmp_serde::to_vec_named(&5u32).unwrap();
        assert!(matches!(
            <Probe as Capability>::reply_of("risky", true, arrived(&five)),
            Some(Ok(ProbeReply::risky(Ok(5))))
        ));
        assert!(matches!(
            <Probe as Capability>::reply_of("risky", false, arrived(&five)),
            Some(Err(_))
        ));
        assert!(<Probe as Capability>::reply_of("launch", true, arrived(&five)).is_none());

        // Other shapes are left to serde, with serde's outcome: keys in another order, an
        // unknown key, a repeated key, another tag, an id that is no unsigned integer, another
        // method, arguments of another shape, a body that is not one value.
        let args = json!({"m": "pair", "args": [5, "y"]});
        let shapes = [
            packed(&[
                ("id", json!(3)),
                ("call", args.clone()),
                ("t", json!("call")),
            ]),
            packed(&[
                ("call", args.clone()),
                ("t", json!("call")),
                ("id", json!(3)),
            ]),
            packed(&[
                ("t", json!("call")),
                ("id", json!(3)),
                ("call", args.clone()),
                ("x", json!(1)),
            ]),
            packed(&[("t", json!("call")), ("id", json!(3)), ("id", json!(4))]),
            packed(&[
                ("t", json!("cancel")),
                ("id", json!(3)),
                ("call", args.clone()),
            ]),
            packed(&[
                ("t", json!("call")),
                ("id", json!(-3)),
                ("call", args.clone()),
            ]),
            packed(&[
                ("t", json!("call")),
                ("id", json!(3.0)),
                ("call", args.clone()),
            ]),
            packed(&[
                ("t", json!("call")),
                ("id", json!(3)),
                ("call", json!({"args": [5, "y"], "m": "pair"})),
            ]),
            packed(&[
                ("t", json!("call")),
                ("id", json!(3)),
                ("call", json!({"m": "launch", "args": []})),
            ]),
            packed(&[
                ("t", json!("call")),
                ("id", json!(3)),
                ("call", json!({"m": "pair", "args": [5]})),
            ]),
            packed(&[
                ("t", json!("call")),
                ("id", json!(3)),
                ("call", json!({"m": "risky", "args": []})),
            ]),
            packed(&[
                ("t", json!("call")),
                ("id", json!(3)),
                ("call", json!({"m": "pair", "args": [5, "y"], "z": 0})),
            ]),
            packed(&[("t", json!("call")), ("id", json!(3))]),
        ];
        for shape in shapes {
            let _ = read_both_ways(&shape);
        }

        // A call whose id and method read is answered, however its arguments are: refused
        // when the holder may not call the method (judged before the arguments are decoded),
        // else `bad_arguments`, or `no_handler` for a method the capability does not have.
        // The hand reader and serde agree on each, whatever the order of the keys.
        let call = |method: &str, args: serde_json::Value| {
            [
                packed(&[
                    ("t", json!("call")),
                    ("id", json!(3)),
                    ("call", json!({"m": method, "args": args})),
                ]),
                packed(&[
                    ("call", json!({"args": args, "m": method})),
                    ("id", json!(3)),
                    ("t", json!("call")),
                ]),
            ]
        };
        for (method, args, said) in [
            (
                "risky",
                json!([]),
                "refused 3 forbidden Some(\"probe:risky\")",
            ),
            (
                "risky",
                json!({"no": 1}),
                "refused 3 forbidden Some(\"probe:risky\")",
            ),
            (
                "pair",
                json!([5]),
                "refused 3 bad_arguments Some(\"probe:pair\")",
            ),
            (
                "pair",
                json!("x"),
                "refused 3 bad_arguments Some(\"probe:pair\")",
            ),
            (
                "launch",
                json!([]),
                "refused 3 no_handler Some(\"probe:launch\")",
            ),
            (
                "pair",
                json!([5, "y"]),
                r#"call 3 {"m":"pair","args":[5,"y"]}"#,
            ),
        ] {
            for bytes in call(method, args.clone()) {
                assert_eq!(outcome(&read_both_ways(&bytes)), said, "{method} {args}");
            }
            // And from a peer that writes JSON (always read by serde).
            let json = serde_json::to_vec(
                &json!({"t": "call", "id": 3, "call": {"m": method, "args": args}}),
            )
            .unwrap();
            let read = to_object::<Probe>(
                Payload::encoded(crate::wire::Codec::Json, json.into()),
                probe::admit,
            );
            assert_eq!(outcome(&read), said, "{method} {args}");
        }
        // A refused call written as every peer writes it is refused before its arguments are
        // decoded; one written otherwise is refused too, once serde has read it.
        let guarded = ProbeCall::guarded((probe::Counted(7),));
        let canonical = rmp_serde::to_vec_named(&ToObject::Call {
            id: 5,
            call: guarded,
        })
        .unwrap();
        let before = probe::DECODED.get();
        let read = to_object::<Probe>(arrived(&canonical), probe::admit);
        assert_eq!(
            outcome(&read),
            "refused 5 forbidden Some(\"probe:guarded\")"
        );
        assert_eq!(
            probe::DECODED.get(),
            before,
            "the refused call's arguments were decoded"
        );
        let reordered = packed(&[
            ("id", json!(5)),
            ("call", json!({"m": "guarded", "args": [7]})),
            ("t", json!("call")),
        ]);
        assert_eq!(outcome(&read_both_ways(&reordered)), outcome(&read));

        // Integer keys are skipped, as an unknown name is: a call without an `id` of its own is
        // not answerable, and a call with one more integer key is answered as without it.
        let with_integer_key = |entries: &[(&str, serde_json::Value)], key: u8, value: u8| {
            let mut bytes = packed(entries);
            bytes[0] += 1;
            bytes.extend([key, value]);
            bytes
        };
        let no_id = with_integer_key(
            &[
                ("t", json!("call")),
                ("call", json!({"m": "pair", "args": [5]})),
            ],
            1,
            3,
        );
        assert_eq!(outcome(&read_both_ways(&no_id)), "undecodable");
        let extra = with_integer_key(
            &[
                ("t", json!("call")),
                ("id", json!(3)),
                ("call", json!({"m": "pair", "args": [5]})),
            ],
            1,
            4,
        );
        assert_eq!(
            outcome(&read_both_ways(&extra)),
            "refused 3 bad_arguments Some(\"probe:pair\")"
        );

        // A call whose method cannot be read is not answerable.
        for body in [json!({"args": []}), json!({"m": 5, "args": []}), json!([1])] {
            let bytes = packed(&[("t", json!("call")), ("id", json!(3)), ("call", body)]);
            assert!(read_both_ways(&bytes).is_err());
        }
        // A body that runs past the end, or trails other bytes, is refused.
        let call = rmp_serde::to_vec_named(&ToObject::Call {
            id: 1,
            call: ProbeCall::pair((1, String::new())),
        })
        .unwrap();
        let mut cut = call.clone();
        cut.pop();
        assert!(to_object::<Probe>(arrived(&cut), probe::admit).is_err());
        let mut trailing = call;
        trailing.push(0x01);
        assert!(to_object::<Probe>(arrived(&trailing), probe::admit).is_err());

        // Nesting is limited for the whole message, as serde reads it, not from the arguments
        // (or an answer's value) down: arguments that nest within the limit in a message that
        // does not are no more readable by hand than by serde, and a refused call with them no
        // more answerable.
        let nested = |depth: usize, head: &[u8]| {
            let mut bytes = head.to_vec();
            bytes.extend(std::iter::repeat_n(0x91, depth - 1));
            bytes.push(0x90);
            bytes
        };
        let call_head = |method: &str| {
            let mut head = packed(&[("t", json!("call")), ("id", json!(3))]);
            head[0] += 1;
            head.extend([0xa4, b'c', b'a', b'l', b'l', 0x82, 0xa1, b'm']);
            head.push(0xa0 + u8::try_from(method.len()).unwrap());
            head.extend(method.as_bytes());
            head.extend([0xa4, b'a', b'r', b'g', b's']);
            head
        };
        let reply_head = {
            let mut head = packed(&[("t", json!("reply")), ("id", json!(3))]);
            head[0] += 1;
            head.extend([0xa5, b'r', b'e', b'p', b'l', b'y', 0x82, 0xa1, b'm', 0xa4]);
            head.extend(b"nest");
            head.extend([
                0xa7, b'o', b'u', b't', b'c', b'o', b'm', b'e', 0x81, 0xa2, b'O', b'k',
            ]);
            head
        };
        let limit = crate::wire::msgpack::MAX_DEPTH;
        let mut deepest = [None; 3];
        for depth in 1..=limit {
            let reads = [
                read_both_ways(&nested(depth, &call_head("risky"))).is_ok(),
                read_both_ways(&nested(depth, &call_head("nest"))).is_ok(),
                {
                    let reply = nested(depth, &reply_head);
                    if let Err(differ) = both_ways::<Probe>(|| arrived(&reply)) {
                        panic!("a reply nesting {depth} deep: {differ}");
                    }
                    from_object::<Probe>(arrived(&reply)).is_ok()
                },
            ];
            for (deepest, read) in deepest.iter_mut().zip(reads) {
                if read {
                    *deepest = Some(depth);
                }
            }
        }
        // The call's arguments sit in two maps, the reply's value in three.
        assert_eq!(deepest, [Some(limit - 1), Some(limit - 1), Some(limit - 2)]);
    }
}

#[cfg(test)]
mod written_by_hand {
    use super::probe::{ProbeCall, ProbeReply};
    use super::*;

    /// What a payload of `message` writes into a MessagePack frame.
    fn written<T: WrittenByHand>(message: T) -> Vec<u8> {
        let mut out = FrameBuf::new();
        Payload::written_by_hand(message)
            .write_to(Codec::Binary, &mut out)
            .unwrap();
        out.to_vec()
    }

    #[test]
    fn messages_written_by_hand_are_what_serde_writes() {
        // Every width an id can take, at its edges.
        let ids = msgpack::WIDTH_EDGES;
        for id in ids {
            let call = ToObject::Call {
                id,
                call: ProbeCall::pair((id as u32, "text".into())),
            };
            let serde = rmp_serde::to_vec_named(&call).unwrap();
            assert_eq!(written(call), serde, "call {id}");
            let cancel = ToObject::<ProbeCall>::Cancel { id };
            let serde = rmp_serde::to_vec_named(&cancel).unwrap();
            assert_eq!(written(cancel), serde, "cancel {id}");
            for reply in [
                ProbeReply::pair(Ok(vec![1, 2, 3])),
                ProbeReply::risky(Ok(id as u32)),
                ProbeReply::risky(Err("no".into())),
            ] {
                let reply = FromObject::Reply { id, reply };
                let serde = rmp_serde::to_vec_named(&reply).unwrap();
                assert_eq!(written(reply), serde, "reply {id}");
            }
            let error = FromObject::<ProbeReply>::failed(
                id,
                &IpcError::Disconnected {
                    reason: "gone".into(),
                },
            );
            let serde = rmp_serde::to_vec_named(&error).unwrap();
            assert_eq!(written(error), serde, "error {id}");
        }
    }

    #[test]
    fn a_message_written_by_hand_is_taken_as_itself_and_written_by_serde_as_json() {
        let call = || ToObject::Call {
            id: 9,
            call: ProbeCall::pair((1, "a".into())),
        };
        let taken = Payload::written_by_hand(call())
            .take::<ToObject<ProbeCall>>()
            .unwrap();
        assert!(
            matches!(taken, ToObject::Call { id: 9, call: ProbeCall::pair((1, text)) } if text == "a")
        );
        let mut out = FrameBuf::new();
        Payload::written_by_hand(call())
            .write_to(Codec::Json, &mut out)
            .unwrap();
        assert_eq!(out.to_vec(), serde_json::to_vec(&call()).unwrap());
    }
}
