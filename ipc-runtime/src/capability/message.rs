//! What crosses a capability's port (`docs/PROTOCOL.md` §7.3).
//!
//! Both directions are maps tagged by `t`. They are read by hand rather than through serde's
//! internally tagged enums, which buffer the whole map into an intermediate tree before they
//! look at the tag: here every field's type is known from its name alone, so each is decoded in
//! place, in whatever order the map holds them.

use std::fmt;
use std::marker::PhantomData;
use std::ops::Range;

use serde::de::{self, DeserializeOwned, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Serialize};

use crate::wire::msgpack;
use crate::wire::{Payload, WireError};

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

impl<Reply> FromObject<Reply> {
    /// Call `id` failed in the framework with `error`.
    pub(crate) fn failed(id: u64, error: &crate::error::IpcError) -> Self {
        FromObject::Error {
            id,
            error: Box::new(error.into()),
        }
    }
}

impl<Call: DeserializeOwned + 'static> ToObject<Call> {
    /// Decodes a message from the holder. A call encoded as this side writes one is read by
    /// hand down to its `call` ([`msgpack::tagged_map`]); anything else goes through serde.
    pub(crate) fn from_payload(message: Payload) -> Result<Self, String> {
        match tagged(&message, b"call", b"call") {
            Some((id, call)) => Ok(ToObject::Call {
                id,
                call: part(message, call)?.take()?,
            }),
            None => message.take(),
        }
    }
}

impl<Reply: DeserializeOwned + 'static> FromObject<Reply> {
    /// Decodes a message from the object. A reply encoded as this side writes one is read by
    /// hand down to its `reply` ([`msgpack::tagged_map`]); anything else goes through serde.
    pub(crate) fn from_payload(message: Payload) -> Result<Self, String> {
        match tagged(&message, b"reply", b"reply") {
            Some((id, reply)) => Ok(FromObject::Reply {
                id,
                reply: part(message, reply)?.take()?,
            }),
            None => message.take(),
        }
    }
}

/// The id and the body's place of a MessagePack message tagged `tag`, read by hand.
fn tagged(message: &Payload, tag: &[u8], body: &[u8]) -> Option<(u64, Range<usize>)> {
    msgpack::tagged_map(message.messagepack()?, tag, body)
}

fn part(message: Payload, range: Range<usize>) -> Result<Payload, String> {
    message
        .into_part(range)
        .ok_or_else(|| "a message's body lies outside it".to_string())
}

/// The fields of either direction's map.
enum Field {
    Tag,
    Id,
    Call,
    Reply,
    Error,
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
        struct Message<Call>(PhantomData<Call>);
        impl<'de, Call: Deserialize<'de>> Visitor<'de> for Message<Call> {
            type Value = ToObject<Call>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a capability call or cancel (a map tagged by `t`)")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
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
        deserializer.deserialize_map(Message(PhantomData))
    }
}

impl<'de, Reply: Deserialize<'de>> Deserialize<'de> for FromObject<Reply> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Message<Reply>(PhantomData<Reply>);
        impl<'de, Reply: Deserialize<'de>> Visitor<'de> for Message<Reply> {
            type Value = FromObject<Reply>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a capability's answer (a map tagged by `t`)")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
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
        deserializer.deserialize_map(Message(PhantomData))
    }
}

#[cfg(test)]
mod tests {
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

    /// What `from_payload` makes of a message encoded as MessagePack `bytes` (the binary codec).
    fn from_packed<T, F: FnOnce(Payload) -> Result<T, String>>(
        bytes: &[u8],
        read: F,
    ) -> Result<T, String> {
        read(Payload::encoded(
            crate::wire::Codec::Binary,
            bytes::Bytes::copy_from_slice(bytes),
        ))
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

    #[test]
    fn messages_read_by_hand_read_as_serde_reads_them() {
        use serde_json::json;
        // As this side writes them: read by hand, the same values as serde's.
        let call = rmp_serde::to_vec_named(&ToObject::Call {
            id: 1 << 40,
            call: (7u32, "x".to_string()),
        })
        .unwrap();
        assert!(crate::wire::msgpack::tagged_map(&call, b"call", b"call").is_some());
        let read = from_packed(&call, ToObject::<(u32, String)>::from_payload).unwrap();
        assert!(
            matches!(read, ToObject::Call { id, call } if id == 1 << 40 && call == (7, "x".into()))
        );
        for id in [0, 127, 200, 60_000, 70_000, 1 << 40, u64::MAX] {
            let call = rmp_serde::to_vec_named(&ToObject::Call {
                id,
                call: (1u32, String::new()),
            })
            .unwrap();
            let read = from_packed(&call, ToObject::<(u32, String)>::from_payload).unwrap();
            assert!(
                matches!(read, ToObject::Call { id: read, .. } if read == id),
                "{id}"
            );
        }
        let reply = rmp_serde::to_vec_named(&FromObject::Reply {
            id: 9,
            reply: vec![1u8, 2],
        })
        .unwrap();
        assert!(crate::wire::msgpack::tagged_map(&reply, b"reply", b"reply").is_some());
        let read = from_packed(&reply, FromObject::<Vec<u8>>::from_payload).unwrap();
        assert!(matches!(read, FromObject::Reply { id: 9, reply } if reply == [1, 2]));

        // Other shapes are left to serde, with serde's outcome: keys in another order, an
        // unknown key, a repeated key, another tag, a key or tag that is no short string, an id
        // that is no unsigned integer, a body that is not one value.
        let shapes = [
            packed(&[
                ("id", json!(3)),
                ("call", json!([5, "y"])),
                ("t", json!("call")),
            ]),
            packed(&[
                ("call", json!([5, "y"])),
                ("t", json!("call")),
                ("id", json!(3)),
            ]),
            packed(&[
                ("t", json!("call")),
                ("id", json!(3)),
                ("call", json!([5, "y"])),
                ("x", json!(1)),
            ]),
            packed(&[("t", json!("call")), ("id", json!(3)), ("id", json!(4))]),
            packed(&[
                ("t", json!("cancel")),
                ("id", json!(3)),
                ("call", json!([5, "y"])),
            ]),
            packed(&[
                ("t", json!("call")),
                ("id", json!(-3)),
                ("call", json!([5, "y"])),
            ]),
            packed(&[
                ("t", json!("call")),
                ("id", json!(3.0)),
                ("call", json!([5, "y"])),
            ]),
            packed(&[("t", json!("call")), ("id", json!(3)), ("call", json!([5]))]),
            packed(&[("t", json!("call")), ("id", json!(3))]),
        ];
        for shape in shapes {
            let by_serde =
                rmp_serde::from_slice::<ToObject<(u32, String)>>(&shape).map_err(|e| e.to_string());
            let read = from_packed(&shape, ToObject::<(u32, String)>::from_payload);
            match (&by_serde, &read) {
                (Ok(ToObject::Call { id: a, call: x }), Ok(ToObject::Call { id: b, call: y })) => {
                    assert_eq!((a, x), (b, y));
                }
                (Ok(ToObject::Cancel { id: a }), Ok(ToObject::Cancel { id: b })) => {
                    assert_eq!(a, b)
                }
                (Err(_), Err(_)) => {}
                other => panic!("{shape:?}: serde and by hand differ: {other:?}"),
            }
        }
        // A body that runs past the end, or trails other bytes, is refused.
        let mut cut = call.clone();
        cut.pop();
        assert!(from_packed(&cut, ToObject::<(u32, String)>::from_payload).is_err());
        let mut trailing = call;
        trailing.push(0x01);
        assert!(from_packed(&trailing, ToObject::<(u32, String)>::from_payload).is_err());
    }
}
