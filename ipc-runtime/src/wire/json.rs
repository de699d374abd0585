//! The JSON codec's frames: one JSON object per frame, `"t"` naming its type.

use bytes::Bytes;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

use super::codec::Codec;
use super::frame::SenderInfo;
use super::frame::{
    Frame, FrameBuf, FrameError, OutFrame, Outcome, ReplyBody, WireError, slice_of,
};
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

/// Every top-level field of a frame, kept as raw JSON (a present `null` stays `Some("null")`).
#[derive(Default)]
struct RawFrame<'a> {
    t: Option<&'a RawValue>,
    id: Option<&'a RawValue>,
    ch: Option<&'a RawValue>,
    args: Option<&'a RawValue>,
    timeout_ms: Option<&'a RawValue>,
    ok: Option<&'a RawValue>,
    app: Option<&'a RawValue>,
    error: Option<&'a RawValue>,
    reason: Option<&'a RawValue>,
    sender: Option<&'a RawValue>,
    to: Option<&'a RawValue>,
    missed: Option<&'a RawValue>,
    ports: Option<&'a RawValue>,
    port: Option<&'a RawValue>,
    data: Option<&'a RawValue>,
    n: Option<&'a RawValue>,
}

impl<'de> serde::Deserialize<'de> for RawFrame<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FrameVisitor;
        impl<'de> Visitor<'de> for FrameVisitor {
            type Value = RawFrame<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a frame object")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<RawFrame<'de>, M::Error> {
                let mut frame = RawFrame::default();
                while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    let raw: &'de RawValue = map.next_value()?;
                    let slot = match key.as_ref() {
                        "t" => &mut frame.t,
                        "id" => &mut frame.id,
                        "ch" => &mut frame.ch,
                        "args" => &mut frame.args,
                        "timeout_ms" => &mut frame.timeout_ms,
                        "ok" => &mut frame.ok,
                        "app" => &mut frame.app,
                        "error" => &mut frame.error,
                        "reason" => &mut frame.reason,
                        "sender" => &mut frame.sender,
                        "to" => &mut frame.to,
                        "missed" => &mut frame.missed,
                        "ports" => &mut frame.ports,
                        "port" => &mut frame.port,
                        "data" => &mut frame.data,
                        "n" => &mut frame.n,
                        // Unknown fields are ignored, so peers can add optional ones.
                        _ => continue,
                    };
                    if slot.is_some() {
                        return Err(de::Error::custom(format!("duplicate field `{key}`")));
                    }
                    *slot = Some(raw);
                }
                Ok(frame)
            }
        }
        deserializer.deserialize_map(FrameVisitor)
    }
}

pub(super) fn decode(bytes: Bytes) -> Result<Frame, FrameError> {
    let raw: RawFrame<'_> = serde_json::from_slice(&bytes)
        .map_err(|e| FrameError::new(format!("invalid JSON frame: {e}")))?;
    let id = match raw.id {
        Some(id) => Some(
            serde_json::from_str::<u64>(id.get())
                .map_err(|_| FrameError::new("`id` must be a non-negative integer"))?,
        ),
        None => None,
    };
    let t: String = match raw.t {
        Some(t) => serde_json::from_str(t.get()).map_err(|_| FrameError {
            id,
            kind: None,
            reason: "`t` must be a string".into(),
        })?,
        None => {
            return Err(FrameError {
                id,
                kind: None,
                reason: "frame has no `t` (type) field".into(),
            });
        }
    };
    let kind = match t.as_str() {
        "invoke" => Some("invoke"),
        "reply" => Some("reply"),
        "cancel" => Some("cancel"),
        "send" => Some("send"),
        "event" => Some("event"),
        "error" => Some("error"),
        "goodbye" => Some("goodbye"),
        "detach" => Some("detach"),
        "lag" => Some("lag"),
        "ping" => Some("ping"),
        "pong" => Some("pong"),
        "port" => Some("port"),
        "credit" => Some("credit"),
        "close" => Some("close"),
        _ => None,
    };
    let fail = |reason: String| FrameError { id, kind, reason };
    let need_id = || id.ok_or_else(|| fail(format!("`{t}` frame needs an `id`")));
    let string = |field: Option<&RawValue>, name: &str| -> Result<String, FrameError> {
        let raw = field.ok_or_else(|| fail(format!("`{t}` frame needs `{name}`")))?;
        serde_json::from_str(raw.get()).map_err(|_| fail(format!("`{name}` must be a string")))
    };
    let payload = |field: Option<&RawValue>, name: &str| -> Result<Bytes, FrameError> {
        let raw = field.ok_or_else(|| fail(format!("`{t}` frame needs `{name}`")))?;
        Ok(slice_of(&bytes, raw.get().as_bytes()))
    };
    let sender = |field: Option<&RawValue>| -> Result<Option<SenderInfo>, FrameError> {
        match field {
            Some(raw) if raw.get() != "null" => serde_json::from_str(raw.get())
                .map(Some)
                .map_err(|e| fail(format!("malformed `sender`: {e}"))),
            _ => Ok(None),
        }
    };
    let to = || -> Result<Option<u64>, FrameError> {
        match raw.to {
            Some(to) if to.get() != "null" => serde_json::from_str(to.get())
                .map(Some)
                .map_err(|_| fail("`to` must be a non-negative integer".into())),
            _ => Ok(None),
        }
    };
    let ports = || -> Result<Vec<u64>, FrameError> {
        match raw.ports {
            Some(ports) if ports.get() != "null" => serde_json::from_str(ports.get())
                .map_err(|_| fail("`ports` must be an array of port ids".into())),
            _ => Ok(Vec::new()),
        }
    };
    let port = || -> Result<u64, FrameError> {
        match raw.port {
            Some(port) => serde_json::from_str(port.get())
                .map_err(|_| fail("`port` must be a non-negative integer".into())),
            None => Err(fail(format!("`{t}` frame needs `port`"))),
        }
    };
    // Only a frame with a payload can transfer ports (as on the binary codec): a list anywhere
    // else would name ports that nothing opens.
    let transfers = matches!(t.as_str(), "invoke" | "reply" | "send" | "event" | "port");
    if !transfers && raw.ports.is_some_and(|ports| ports.get() != "null") {
        return Err(fail(format!("a `{t}` frame transfers no ports")));
    }
    let frame = match t.as_str() {
        "invoke" => Frame::Invoke {
            id: need_id()?,
            channel: string(raw.ch, "ch")?,
            args: payload(raw.args, "args")?,
            timeout_ms: match raw.timeout_ms {
                Some(ms) if ms.get() != "null" => Some(
                    serde_json::from_str(ms.get())
                        .map_err(|_| fail("`timeout_ms` must be a non-negative integer".into()))?,
                ),
                _ => None,
            },
            sender: sender(raw.sender)?,
            ports: ports()?,
        },
        "reply" => {
            let id = need_id()?;
            let body = match (raw.ok, raw.app, raw.error) {
                (Some(ok), None, None) => ReplyBody::Ok(slice_of(&bytes, ok.get().as_bytes())),
                (None, Some(app), None) => ReplyBody::App(slice_of(&bytes, app.get().as_bytes())),
                (None, None, Some(error)) => ReplyBody::Error(Box::new(
                    serde_json::from_str::<WireError>(error.get())
                        .map_err(|e| fail(format!("malformed `error`: {e}")))?,
                )),
                _ => {
                    return Err(fail(
                        "a reply has exactly one of `ok`, `app`, `error`".into(),
                    ));
                }
            };
            let ports = ports()?;
            if matches!(body, ReplyBody::Error(_)) && !ports.is_empty() {
                return Err(fail("an error reply transfers no ports".into()));
            }
            Frame::Reply { id, body, ports }
        }
        "cancel" => Frame::Cancel { id: need_id()? },
        "ping" => Frame::Ping { id: need_id()? },
        "pong" => Frame::Pong { id: need_id()? },
        "send" => Frame::Send {
            channel: string(raw.ch, "ch")?,
            args: payload(raw.args, "args")?,
            sender: sender(raw.sender)?,
            ports: ports()?,
        },
        "event" => Frame::Event {
            channel: string(raw.ch, "ch")?,
            args: payload(raw.args, "args")?,
            to: to()?,
            ports: ports()?,
        },
        "port" => Frame::Port {
            port: port()?,
            data: payload(raw.data, "data")?,
            ports: ports()?,
        },
        "credit" => Frame::Credit {
            port: port()?,
            n: match raw.n {
                Some(n) => serde_json::from_str(n.get())
                    .map_err(|_| fail("`n` must be a non-negative integer".into()))?,
                None => return Err(fail("`credit` frame needs `n`".into())),
            },
        },
        "close" => Frame::Close {
            port: port()?,
            reason: match raw.reason {
                Some(reason) if reason.get() != "null" => Some(
                    serde_json::from_str(reason.get())
                        .map_err(|_| fail("`reason` must be a string".into()))?,
                ),
                _ => None,
            },
            outcome: match (raw.app, raw.error) {
                (None, None) => Outcome::Done,
                (Some(app), None) => Outcome::App(slice_of(&bytes, app.get().as_bytes())),
                (None, Some(error)) => Outcome::Error(Box::new(
                    serde_json::from_str::<WireError>(error.get())
                        .map_err(|e| fail(format!("malformed `error`: {e}")))?,
                )),
                (Some(_), Some(_)) => {
                    return Err(fail("a close has at most one of `app`, `error`".into()));
                }
            },
        },
        "lag" => Frame::Lag {
            channel: string(raw.ch, "ch")?,
            missed: match raw.missed {
                Some(missed) => serde_json::from_str(missed.get())
                    .map_err(|_| fail("`missed` must be a non-negative integer".into()))?,
                None => return Err(fail("`lag` frame needs `missed`".into())),
            },
            to: to()?,
        },
        "detach" => Frame::Detach {
            sender: match raw.sender {
                Some(sender) => serde_json::from_str(sender.get())
                    .map_err(|_| fail("`sender` must be a non-negative integer".into()))?,
                None => return Err(fail("`detach` frame needs `sender`".into())),
            },
        },
        "error" => Frame::Error {
            id,
            error: match raw.error {
                Some(error) => serde_json::from_str(error.get())
                    .map_err(|e| fail(format!("malformed `error`: {e}")))?,
                None => return Err(fail("`error` frame needs `error`".into())),
            },
        },
        "goodbye" => Frame::Goodbye {
            reason: raw
                .reason
                .and_then(|r| serde_json::from_str(r.get()).ok())
                .unwrap_or_default(),
            to: to()?,
        },
        // An `id` on a frame of another type is not known to name a call of the sender's (a
        // reserved type may number something else), so these get an error frame, not a reply
        // to that id: a reply would answer (and fail) an unrelated call in flight.
        "hello" => return Err(FrameError::new("unexpected hello after the handshake")),
        other => return Err(FrameError::new(format!("unknown frame type `{other}`"))),
    };
    Ok(frame)
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
