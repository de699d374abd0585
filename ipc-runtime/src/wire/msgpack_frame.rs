//! The MessagePack codec's frames: the JSON codec's vocabulary (`docs/PROTOCOL.md` §4), each
//! frame one MessagePack map of the same named fields, with payloads as MessagePack values (the
//! binary codec's: named struct fields, `bin` for [`Bytes`](crate::Bytes)). What JavaScript
//! peers speak: a frame is an object to them, as on JSON, but bytes stay bytes and nothing is
//! text.

use bytes::Bytes;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::codec::Codec;
use super::fields::{RawField, RawFrame, interpret};
use super::frame::{Frame, FrameBuf, FrameError, OutFrame, Outcome, ReplyBody};
use super::msgpack;
use super::payload::Payload;
use crate::error::IpcError;

pub(super) fn encode(frame: &OutFrame<'_>, out: &mut FrameBuf) -> Result<(), IpcError> {
    let mut map = MapWriter::start(out);
    match frame {
        OutFrame::Invoke {
            id,
            channel,
            args,
            timeout_ms,
            to,
        } => {
            map.str("t", "invoke");
            map.uint("id", *id);
            map.str("ch", channel);
            if let Some(ms) = timeout_ms {
                map.uint("timeout_ms", *ms);
            }
            map.uint_if("to", *to);
            map.payload("args", args)?;
        }
        OutFrame::Reply { id, body } => {
            map.str("t", "reply");
            map.uint("id", *id);
            match body {
                ReplyBody::Ok(value) => map.payload("ok", value)?,
                ReplyBody::App(error) => map.payload("app", error)?,
                ReplyBody::Error(error) => map.value("error", error)?,
            }
        }
        OutFrame::Cancel { id, to } => {
            map.str("t", "cancel");
            map.uint("id", *id);
            map.uint_if("to", *to);
        }
        OutFrame::Send { channel, args } => {
            map.str("t", "send");
            map.str("ch", channel);
            map.payload("args", args)?;
        }
        OutFrame::Event {
            channel,
            args,
            to,
            except,
        } => {
            map.str("t", "event");
            map.str("ch", channel);
            map.uint_if("to", *to);
            map.ids("except", except);
            map.payload("args", args)?;
        }
        OutFrame::Port { port, data } => {
            map.str("t", "port");
            map.uint("port", *port);
            map.payload("data", data)?;
        }
        OutFrame::Credit { port, n } => {
            map.str("t", "credit");
            map.uint("port", *port);
            map.uint("n", *n);
        }
        OutFrame::Close {
            port,
            reason,
            outcome,
        } => {
            map.str("t", "close");
            map.uint("port", *port);
            if let Some(reason) = reason {
                map.str("reason", reason);
            }
            match outcome {
                Outcome::Done => {}
                // A stream's error value cannot transfer ports: a close opens nothing.
                Outcome::App(error) => {
                    map.key("app");
                    error.write_to(Codec::MessagePack, map.out)?;
                }
                Outcome::Error(error) => map.value("error", error)?,
            }
        }
        OutFrame::Error { id, error } => {
            map.str("t", "error");
            map.uint_if("id", *id);
            map.value("error", error)?;
        }
        OutFrame::Goodbye { reason, to } => {
            map.str("t", "goodbye");
            map.uint_if("to", *to);
            map.str("reason", reason);
        }
        OutFrame::Ping { id } => {
            map.str("t", "ping");
            map.uint("id", *id);
        }
        OutFrame::Pong { id } => {
            map.str("t", "pong");
            map.uint("id", *id);
        }
        OutFrame::Lag {
            channel,
            missed,
            to,
            except,
        } => {
            map.str("t", "lag");
            map.str("ch", channel);
            map.uint_if("to", *to);
            map.ids("except", except);
            map.uint("missed", *missed);
        }
    }
    map.finish();
    Ok(())
}

/// Writes one map: a `map32` header whose count is filled in at the end (so fields can be
/// left out as they come), then key and value after key and value.
struct MapWriter<'o> {
    out: &'o mut FrameBuf,
    start: usize,
    count: u32,
}

impl<'o> MapWriter<'o> {
    fn start(out: &'o mut FrameBuf) -> Self {
        let start = out.len();
        out.extend_from_slice(&[0xdf, 0, 0, 0, 0]);
        MapWriter {
            out,
            start,
            count: 0,
        }
    }

    fn key(&mut self, key: &str) {
        self.count += 1;
        write(self.out, key);
    }

    fn str(&mut self, key: &str, value: &str) {
        self.key(key);
        write(self.out, value);
    }

    fn uint(&mut self, key: &str, value: u64) {
        self.key(key);
        write(self.out, &value);
    }

    fn uint_if(&mut self, key: &str, value: Option<u64>) {
        if let Some(value) = value {
            self.uint(key, value);
        }
    }

    /// `key: [ids]`, when there are any.
    fn ids(&mut self, key: &str, ids: &[u64]) {
        if !ids.is_empty() {
            self.key(key);
            write(self.out, ids);
        }
    }

    /// `key: payload`, then `ports: [...]` when the payload transferred ports.
    fn payload(&mut self, key: &str, payload: &Payload) -> Result<(), IpcError> {
        self.key(key);
        let ports = self.out.put_payload(payload, Codec::MessagePack)?;
        self.ids("ports", &ports);
        Ok(())
    }

    fn value<T: Serialize>(&mut self, key: &str, value: &T) -> Result<(), IpcError> {
        self.key(key);
        rmp_serde::encode::write_named(&mut *self.out, value).map_err(|e| IpcError::Encode {
            reason: e.to_string(),
        })
    }

    fn finish(self) {
        self.out[self.start + 1..self.start + 5].copy_from_slice(&self.count.to_be_bytes());
    }
}

/// Writes a value of the protocol's own (a number, a string, a list of ids), which always
/// encodes.
fn write<T: Serialize + ?Sized>(out: &mut FrameBuf, value: &T) {
    let _ = rmp_serde::encode::write(out, value);
}

/// A top-level field of a MessagePack frame: its value's bytes.
#[derive(Clone, Copy)]
struct Field<'a>(&'a [u8]);

impl<'a> RawField<'a> for Field<'a> {
    fn is_null(self) -> bool {
        self.0 == [0xc0]
    }

    fn parse<T: DeserializeOwned>(self) -> Result<T, String> {
        Codec::MessagePack.decode(self.0)
    }

    fn encoded(self) -> &'a [u8] {
        self.0
    }
}

pub(super) fn decode(bytes: Bytes) -> Result<Frame, FrameError> {
    let invalid = |reason: String| FrameError::new(format!("invalid MessagePack frame: {reason}"));
    let (count, mut at) = map_header(&bytes).ok_or_else(|| invalid("a frame is a map".into()))?;
    let mut raw = RawFrame::default();
    for _ in 0..count {
        let key_end = msgpack::value_end(&bytes, at).map_err(invalid)?;
        let key = key_str(&bytes[at..key_end])
            .ok_or_else(|| invalid(format!("the key at byte {at} is not a string")))?;
        let value_end = msgpack::value_end(&bytes, key_end).map_err(invalid)?;
        raw.set(key, Field(&bytes[key_end..value_end]))
            .map_err(invalid)?;
        at = value_end;
    }
    if at != bytes.len() {
        return Err(invalid(format!(
            "{} trailing bytes after the map",
            bytes.len() - at
        )));
    }
    interpret(raw, &bytes)
}

/// A map's entry count and where its first key starts.
fn map_header(bytes: &[u8]) -> Option<(u64, usize)> {
    match *bytes.first()? {
        marker @ 0x80..=0x8f => Some((u64::from(marker & 0x0f), 1)),
        0xde => Some((
            u64::from(u16::from_be_bytes(bytes.get(1..3)?.try_into().ok()?)),
            3,
        )),
        0xdf => Some((
            u64::from(u32::from_be_bytes(bytes.get(1..5)?.try_into().ok()?)),
            5,
        )),
        _ => None,
    }
}

/// The text of an encoded MessagePack string (`bytes` is exactly one value).
fn key_str(bytes: &[u8]) -> Option<&str> {
    let skip = match *bytes.first()? {
        0xa0..=0xbf => 1,
        0xd9 => 2,
        0xda => 3,
        0xdb => 5,
        _ => return None,
    };
    std::str::from_utf8(bytes.get(skip..)?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame_of(value: &impl Serialize) -> Bytes {
        rmp_serde::to_vec_named(value).unwrap().into()
    }

    #[test]
    fn frames_round_trip_with_raw_bytes() {
        let args = Payload::value((crate::Bytes::from(vec![7u8; 100_000]), "x".to_string()));
        let encoded = super::super::frame::encode(
            &OutFrame::Invoke {
                id: 9,
                channel: "files:put",
                args: &args,
                timeout_ms: Some(250),
                to: None,
            },
            Codec::MessagePack,
        )
        .unwrap()
        .into_contiguous();
        // Bytes travel raw: the frame is barely larger than the blob.
        assert!(encoded.len() < 100_100, "{}", encoded.len());
        match decode(encoded).unwrap() {
            Frame::Invoke {
                id,
                channel,
                args,
                timeout_ms,
                ..
            } => {
                assert_eq!(
                    (id, channel.as_str(), timeout_ms),
                    (9, "files:put", Some(250))
                );
                let (blob, text): (crate::Bytes, String) =
                    Codec::MessagePack.decode(&args).unwrap();
                assert_eq!((blob.len(), text.as_str()), (100_000, "x"));
            }
            other => panic!("decoded {other:?}"),
        }
    }

    #[test]
    fn refuses_what_is_not_a_frame_map() {
        let reason = |bytes: Bytes| decode(bytes).unwrap_err().reason;
        assert!(reason(frame_of(&[1, 2])).contains("a frame is a map"));
        assert!(reason(Bytes::from_static(&[0x81, 0x01, 0x02])).contains("not a string"));
        assert!(reason(Bytes::from_static(&[0x82, 0xa1, b't'])).contains("cut short"));
        assert!(reason(Bytes::from_static(&[0xdf, 0xff, 0xff, 0xff, 0xff])).contains("cut short"));
        assert!(reason(Bytes::from_static(&[0x80, 0x00])).contains("trailing"));
        let twice = [
            0x82, 0xa1, b't', 0xa4, b'p', b'i', b'n', b'g', 0xa1, b't', 0xc0,
        ];
        assert!(reason(Bytes::copy_from_slice(&twice)).contains("duplicate field `t`"));
        // The vocabulary's own checks, as on JSON.
        #[derive(Serialize)]
        struct Invoke<'a> {
            t: &'a str,
            id: u64,
        }
        let missing = decode(frame_of(&Invoke { t: "invoke", id: 5 })).unwrap_err();
        assert_eq!(missing.id, Some(5));
        assert!(missing.reason.contains("needs `ch`"), "{}", missing.reason);
    }
}
