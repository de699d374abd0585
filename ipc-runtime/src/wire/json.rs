//! The JSON codec's frames: one JSON object per frame, `"t"` naming its type.

use bytes::Bytes;
use serde::de::{self, DeserializeOwned, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

use super::codec::Codec;
use super::fields::{RawField, RawFrame, interpret};
use super::frame::{Frame, FrameBuf, FrameError, OutFrame, Outcome, ReplyBody};
use crate::error::IpcError;

pub(super) fn encode(frame: &OutFrame<'_>, out: &mut FrameBuf) -> Result<(), IpcError> {
    match frame {
        OutFrame::Invoke {
            id,
            channel,
            args,
            timeout_ms,
            to,
        } => {
            out.extend_from_slice(br#"{"t":"invoke","id":"#);
            write_u64(out, *id);
            out.extend_from_slice(br#","ch":"#);
            write_str(out, channel);
            if let Some(ms) = timeout_ms {
                out.extend_from_slice(br#","timeout_ms":"#);
                write_u64(out, *ms);
            }
            write_to(out, *to);
            out.extend_from_slice(br#","args":"#);
            let ports = out.put_payload(args, Codec::Json)?;
            write_ports(out, &ports);
        }
        OutFrame::Reply { id, body } => {
            out.extend_from_slice(br#"{"t":"reply","id":"#);
            write_u64(out, *id);
            match body {
                ReplyBody::Ok(value) => {
                    out.extend_from_slice(br#","ok":"#);
                    let ports = out.put_payload(value, Codec::Json)?;
                    write_ports(out, &ports);
                }
                ReplyBody::App(error) => {
                    out.extend_from_slice(br#","app":"#);
                    let ports = out.put_payload(error, Codec::Json)?;
                    write_ports(out, &ports);
                }
                ReplyBody::Error(error) => {
                    out.extend_from_slice(br#","error":"#);
                    write_json(out, error)?;
                }
            }
        }
        OutFrame::Cancel { id, to } => {
            out.extend_from_slice(br#"{"t":"cancel","id":"#);
            write_u64(out, *id);
            write_to(out, *to);
        }
        OutFrame::Send { channel, args } => {
            out.extend_from_slice(br#"{"t":"send","ch":"#);
            write_str(out, channel);
            out.extend_from_slice(br#","args":"#);
            let ports = out.put_payload(args, Codec::Json)?;
            write_ports(out, &ports);
        }
        OutFrame::Event {
            channel,
            args,
            to,
            except,
        } => {
            out.extend_from_slice(br#"{"t":"event","ch":"#);
            write_str(out, channel);
            write_to(out, *to);
            write_ids(out, "except", except);
            out.extend_from_slice(br#","args":"#);
            let ports = out.put_payload(args, Codec::Json)?;
            write_ports(out, &ports);
        }
        OutFrame::Port { port, data } => {
            out.extend_from_slice(br#"{"t":"port","port":"#);
            write_u64(out, *port);
            out.extend_from_slice(br#","data":"#);
            let ports = out.put_payload(data, Codec::Json)?;
            write_ports(out, &ports);
        }
        OutFrame::Credit { port, n } => {
            out.extend_from_slice(br#"{"t":"credit","port":"#);
            write_u64(out, *port);
            out.extend_from_slice(br#","n":"#);
            write_u64(out, *n);
        }
        OutFrame::Close {
            port,
            reason,
            outcome,
        } => {
            out.extend_from_slice(br#"{"t":"close","port":"#);
            write_u64(out, *port);
            if let Some(reason) = reason {
                out.extend_from_slice(br#","reason":"#);
                write_str(out, reason);
            }
            match outcome {
                Outcome::Done => {}
                // A stream's error value cannot transfer ports: a close opens nothing.
                Outcome::App(error) => {
                    out.extend_from_slice(br#","app":"#);
                    error.write_to(Codec::Json, out)?;
                }
                Outcome::Error(error) => {
                    out.extend_from_slice(br#","error":"#);
                    write_json(out, error)?;
                }
            }
        }
        OutFrame::Error { id, error } => {
            out.extend_from_slice(br#"{"t":"error""#);
            if let Some(id) = id {
                out.extend_from_slice(br#","id":"#);
                write_u64(out, *id);
            }
            out.extend_from_slice(br#","error":"#);
            write_json(out, error)?;
        }
        OutFrame::Goodbye { reason, to } => {
            out.extend_from_slice(br#"{"t":"goodbye","#);
            if let Some(to) = to {
                out.extend_from_slice(br#""to":"#);
                write_u64(out, *to);
                out.push(b',');
            }
            out.extend_from_slice(br#""reason":"#);
            write_str(out, reason);
        }
        OutFrame::Ping { id } => {
            out.extend_from_slice(br#"{"t":"ping","id":"#);
            write_u64(out, *id);
        }
        OutFrame::Pong { id } => {
            out.extend_from_slice(br#"{"t":"pong","id":"#);
            write_u64(out, *id);
        }
        OutFrame::Lag {
            channel,
            missed,
            to,
            except,
        } => {
            out.extend_from_slice(br#"{"t":"lag","ch":"#);
            write_str(out, channel);
            write_to(out, *to);
            write_ids(out, "except", except);
            out.extend_from_slice(br#","missed":"#);
            write_u64(out, *missed);
        }
    }
    out.push(b'}');
    Ok(())
}

/// `,"to":N` when a window is named.
fn write_to(out: &mut FrameBuf, to: Option<u64>) {
    if let Some(to) = to {
        out.extend_from_slice(br#","to":"#);
        write_u64(out, to);
    }
}

/// `,"ports":[…]` when the payload just written transferred ports.
fn write_ports(out: &mut FrameBuf, ports: &[u64]) {
    write_ids(out, "ports", ports);
}

/// `,"<key>":[…]` when `ids` is not empty.
fn write_ids(out: &mut FrameBuf, key: &str, ids: &[u64]) {
    if ids.is_empty() {
        return;
    }
    out.extend_from_slice(b",\"");
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(b"\":[");
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_u64(out, *id);
    }
    out.push(b']');
}

fn write_u64(out: &mut FrameBuf, n: u64) {
    use std::io::Write;
    // Writing to a Vec cannot fail.
    let _ = write!(out, "{n}");
}

fn write_str(out: &mut FrameBuf, s: &str) {
    // Serializing a &str to JSON cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

fn write_json<T: serde::Serialize>(out: &mut FrameBuf, value: &T) -> Result<(), IpcError> {
    serde_json::to_writer(&mut *out, value).map_err(|e| IpcError::Encode {
        reason: e.to_string(),
    })
}

impl<'a> RawField<'a> for &'a RawValue {
    fn is_null(self) -> bool {
        self.get() == "null"
    }

    fn parse<T: DeserializeOwned>(self) -> Result<T, String> {
        serde_json::from_str(self.get()).map_err(|e| e.to_string())
    }

    fn encoded(self) -> &'a [u8] {
        self.get().as_bytes()
    }
}

/// A frame's top-level fields as raw JSON.
struct JsonFields<'a>(RawFrame<&'a RawValue>);

impl<'de> serde::Deserialize<'de> for JsonFields<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FrameVisitor;
        impl<'de> Visitor<'de> for FrameVisitor {
            type Value = JsonFields<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a frame object")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<JsonFields<'de>, M::Error> {
                let mut frame = RawFrame::default();
                while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    let raw: &'de RawValue = map.next_value()?;
                    frame.set(&key, raw).map_err(de::Error::custom)?;
                }
                Ok(JsonFields(frame))
            }
        }
        deserializer.deserialize_map(FrameVisitor)
    }
}

pub(super) fn decode(bytes: Bytes) -> Result<Frame, FrameError> {
    let JsonFields(raw) = serde_json::from_slice(&bytes)
        .map_err(|e| FrameError::new(format!("invalid JSON frame: {e}")))?;
    interpret(raw, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_of(frame: &'static str) -> FrameError {
        decode(Bytes::from_static(frame.as_bytes())).unwrap_err()
    }

    #[test]
    fn a_malformed_invoke_with_an_id_names_its_call() {
        assert_eq!(error_of(r#"{"t":"invoke","id":5,"args":[]}"#).id, Some(5));
    }

    #[test]
    fn an_unknown_type_with_an_id_is_not_taken_for_a_call() {
        let error = error_of(r#"{"t":"bogus","id":3}"#);
        assert_eq!(error.id, None);
        assert!(error.reason.contains("bogus"), "{}", error.reason);
        assert_eq!(error_of(r#"{"t":"hello","id":3}"#).id, None);
    }
}
