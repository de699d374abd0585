//! The fields of the frame vocabulary (`docs/PROTOCOL.md` §4), shared by the codecs whose frames
//! are maps of named fields: JSON objects and MessagePack maps. Out: `encode` says which fields a
//! frame has, in which order, and a codec's [`FieldWriter`] writes them. In: each codec finds the
//! top-level fields of a frame (`RawFrame`, still encoded); `interpret` makes the frame of them.

use bytes::Bytes;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::codec::Codec;
use super::frame::{
    Frame, FrameBuf, FrameError, OutFrame, Outcome, ReplyBody, SenderInfo, WireError, slice_of,
};
use super::payload::Payload;
use crate::error::IpcError;

/// How one codec writes a frame's named fields (a JSON object's members, a MessagePack map's
/// entries). Keys are the protocol's own ASCII names.
pub(super) trait FieldWriter {
    /// The codec of the payloads inside the frame.
    const CODEC: Codec;
    /// Starts a field named `key` (its value is written next).
    fn key(&mut self, key: &str);
    fn str_value(&mut self, value: &str);
    fn uint_value(&mut self, value: u64);
    fn ids_value(&mut self, ids: &[u64]);
    fn serde_value<T: Serialize>(&mut self, value: &T) -> Result<(), IpcError>;
    fn out(&mut self) -> &mut FrameBuf;

    fn str(&mut self, key: &str, value: &str) {
        self.key(key);
        self.str_value(value);
    }

    fn uint(&mut self, key: &str, value: u64) {
        self.key(key);
        self.uint_value(value);
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
            self.ids_value(ids);
        }
    }

    /// `key: payload`, then `ports: [...]` when the payload transferred ports.
    fn payload(&mut self, key: &str, payload: &Payload) -> Result<(), IpcError> {
        self.key(key);
        let ports = self.out().put_payload(payload, Self::CODEC)?;
        self.ids("ports", &ports);
        Ok(())
    }

    fn value<T: Serialize>(&mut self, key: &str, value: &T) -> Result<(), IpcError> {
        self.key(key);
        self.serde_value(value)
    }
}

/// Writes `frame`'s fields with `w`: the one place that says which fields each frame has.
pub(super) fn encode<W: FieldWriter>(frame: &OutFrame<'_>, w: &mut W) -> Result<(), IpcError> {
    match frame {
        OutFrame::Invoke {
            id,
            channel,
            args,
            timeout_ms,
            to,
        } => {
            w.str("t", "invoke");
            w.uint("id", *id);
            w.str("ch", channel);
            w.uint_if("timeout_ms", *timeout_ms);
            w.uint_if("to", *to);
            w.payload("args", args)?;
        }
        OutFrame::Reply { id, body } => {
            w.str("t", "reply");
            w.uint("id", *id);
            match body {
                ReplyBody::Ok(value) => w.payload("ok", value)?,
                ReplyBody::App(error) => w.payload("app", error)?,
                ReplyBody::Error(error) => w.value("error", error)?,
            }
        }
        OutFrame::Cancel { id, to } => {
            w.str("t", "cancel");
            w.uint("id", *id);
            w.uint_if("to", *to);
        }
        OutFrame::Send { channel, args } => {
            w.str("t", "send");
            w.str("ch", channel);
            w.payload("args", args)?;
        }
        OutFrame::Event {
            channel,
            args,
            to,
            except,
        } => {
            w.str("t", "event");
            w.str("ch", channel);
            w.uint_if("to", *to);
            w.ids("except", except);
            w.payload("args", args)?;
        }
        OutFrame::Port { port, data } => {
            w.str("t", "port");
            w.uint("port", *port);
            w.payload("data", data)?;
        }
        OutFrame::Credit { port, n } => {
            w.str("t", "credit");
            w.uint("port", *port);
            w.uint("n", *n);
        }
        OutFrame::Close {
            port,
            reason,
            outcome,
        } => {
            w.str("t", "close");
            w.uint("port", *port);
            if let Some(reason) = reason {
                w.str("reason", reason);
            }
            match outcome {
                Outcome::Done => {}
                // A stream's error value cannot transfer ports: a close opens nothing.
                Outcome::App(error) => {
                    w.key("app");
                    error.write_to(W::CODEC, w.out())?;
                }
                Outcome::Error(error) => w.value("error", error)?,
            }
        }
        OutFrame::Error { id, error } => {
            w.str("t", "error");
            w.uint_if("id", *id);
            w.value("error", error)?;
        }
        OutFrame::Goodbye { reason, to } => {
            w.str("t", "goodbye");
            w.uint_if("to", *to);
            w.str("reason", reason);
        }
        OutFrame::Ping { id } => {
            w.str("t", "ping");
            w.uint("id", *id);
        }
        OutFrame::Pong { id } => {
            w.str("t", "pong");
            w.uint("id", *id);
        }
        OutFrame::Lag {
            channel,
            missed,
            to,
            except,
        } => {
            w.str("t", "lag");
            w.str("ch", channel);
            w.uint_if("to", *to);
            w.ids("except", except);
            w.uint("missed", *missed);
        }
    }
    Ok(())
}

/// One top-level field of a received frame, still encoded.
pub(super) trait RawField<'a>: Copy {
    /// Whether the field is present as `null` (which counts as absent where a field is optional).
    fn is_null(self) -> bool;
    /// The field decoded as a `T`.
    fn parse<T: DeserializeOwned>(self) -> Result<T, String>;
    /// The field's encoded bytes, within the frame (a payload is sliced out as it is).
    fn encoded(self) -> &'a [u8];
}

/// Every top-level field of a frame the vocabulary knows, each as its codec found it (a present
/// `null` stays `Some`).
pub(super) struct RawFrame<F> {
    pub(super) t: Option<F>,
    pub(super) id: Option<F>,
    pub(super) ch: Option<F>,
    pub(super) args: Option<F>,
    pub(super) timeout_ms: Option<F>,
    pub(super) ok: Option<F>,
    pub(super) app: Option<F>,
    pub(super) error: Option<F>,
    pub(super) reason: Option<F>,
    pub(super) sender: Option<F>,
    pub(super) to: Option<F>,
    pub(super) missed: Option<F>,
    pub(super) ports: Option<F>,
    pub(super) port: Option<F>,
    pub(super) data: Option<F>,
    pub(super) n: Option<F>,
}

impl<F> Default for RawFrame<F> {
    fn default() -> Self {
        RawFrame {
            t: None,
            id: None,
            ch: None,
            args: None,
            timeout_ms: None,
            ok: None,
            app: None,
            error: None,
            reason: None,
            sender: None,
            to: None,
            missed: None,
            ports: None,
            port: None,
            data: None,
            n: None,
        }
    }
}

impl<F> RawFrame<F> {
    /// Records field `key`.
    ///
    /// # Errors
    ///
    /// The field given twice. Unknown fields are ignored, so peers can add optional ones.
    pub(super) fn set(&mut self, key: &str, value: F) -> Result<(), String> {
        let slot = match key {
            "t" => &mut self.t,
            "id" => &mut self.id,
            "ch" => &mut self.ch,
            "args" => &mut self.args,
            "timeout_ms" => &mut self.timeout_ms,
            "ok" => &mut self.ok,
            "app" => &mut self.app,
            "error" => &mut self.error,
            "reason" => &mut self.reason,
            "sender" => &mut self.sender,
            "to" => &mut self.to,
            "missed" => &mut self.missed,
            "ports" => &mut self.ports,
            "port" => &mut self.port,
            "data" => &mut self.data,
            "n" => &mut self.n,
            _ => return Ok(()),
        };
        if slot.is_some() {
            return Err(format!("duplicate field `{key}`"));
        }
        *slot = Some(value);
        Ok(())
    }
}

/// The frame `raw`'s fields make (`bytes` is the whole frame, which payloads are sliced from).
pub(super) fn interpret<'a, F: RawField<'a>>(
    raw: RawFrame<F>,
    bytes: &Bytes,
) -> Result<Frame, FrameError> {
    let id = match raw.id {
        Some(id) => Some(
            id.parse::<u64>()
                .map_err(|_| FrameError::new("`id` must be a non-negative integer"))?,
        ),
        None => None,
    };
    let t: String = match raw.t {
        Some(t) => t.parse().map_err(|_| FrameError {
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
    let string = |field: Option<F>, name: &str| -> Result<String, FrameError> {
        let raw = field.ok_or_else(|| fail(format!("`{t}` frame needs `{name}`")))?;
        raw.parse()
            .map_err(|_| fail(format!("`{name}` must be a string")))
    };
    let payload = |field: Option<F>, name: &str| -> Result<Bytes, FrameError> {
        let raw = field.ok_or_else(|| fail(format!("`{t}` frame needs `{name}`")))?;
        Ok(slice_of(bytes, raw.encoded()))
    };
    let sender = |field: Option<F>| -> Result<Option<SenderInfo>, FrameError> {
        match field {
            Some(raw) if !raw.is_null() => raw
                .parse()
                .map(Some)
                .map_err(|e| fail(format!("malformed `sender`: {e}"))),
            _ => Ok(None),
        }
    };
    let to = || -> Result<Option<u64>, FrameError> {
        match raw.to {
            Some(to) if !to.is_null() => to
                .parse()
                .map(Some)
                .map_err(|_| fail("`to` must be a non-negative integer".into())),
            _ => Ok(None),
        }
    };
    let ports = || -> Result<Vec<u64>, FrameError> {
        match raw.ports {
            Some(ports) if !ports.is_null() => ports
                .parse()
                .map_err(|_| fail("`ports` must be an array of port ids".into())),
            _ => Ok(Vec::new()),
        }
    };
    let port = || -> Result<u64, FrameError> {
        match raw.port {
            Some(port) => port
                .parse()
                .map_err(|_| fail("`port` must be a non-negative integer".into())),
            None => Err(fail(format!("`{t}` frame needs `port`"))),
        }
    };
    // Only a frame with a payload can transfer ports (as on the binary codec): a list anywhere
    // else would name ports that nothing opens.
    let transfers = matches!(t.as_str(), "invoke" | "reply" | "send" | "event" | "port");
    if !transfers && raw.ports.is_some_and(|ports| !ports.is_null()) {
        return Err(fail(format!("a `{t}` frame transfers no ports")));
    }
    let frame = match t.as_str() {
        "invoke" => Frame::Invoke {
            id: need_id()?,
            channel: string(raw.ch, "ch")?,
            args: payload(raw.args, "args")?,
            timeout_ms: match raw.timeout_ms {
                Some(ms) if !ms.is_null() => Some(
                    ms.parse()
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
                (Some(ok), None, None) => ReplyBody::Ok(slice_of(bytes, ok.encoded())),
                (None, Some(app), None) => ReplyBody::App(slice_of(bytes, app.encoded())),
                (None, None, Some(error)) => ReplyBody::Error(Box::new(
                    error
                        .parse::<WireError>()
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
                Some(n) => n
                    .parse()
                    .map_err(|_| fail("`n` must be a non-negative integer".into()))?,
                None => return Err(fail("`credit` frame needs `n`".into())),
            },
        },
        "close" => Frame::Close {
            port: port()?,
            reason: match raw.reason {
                Some(reason) if !reason.is_null() => Some(
                    reason
                        .parse()
                        .map_err(|_| fail("`reason` must be a string".into()))?,
                ),
                _ => None,
            },
            outcome: match (raw.app, raw.error) {
                (None, None) => Outcome::Done,
                (Some(app), None) => Outcome::App(slice_of(bytes, app.encoded())),
                (None, Some(error)) => Outcome::Error(Box::new(
                    error
                        .parse::<WireError>()
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
                Some(missed) => missed
                    .parse()
                    .map_err(|_| fail("`missed` must be a non-negative integer".into()))?,
                None => return Err(fail("`lag` frame needs `missed`".into())),
            },
            to: to()?,
        },
        "detach" => Frame::Detach {
            sender: match raw.sender {
                Some(sender) => sender
                    .parse()
                    .map_err(|_| fail("`sender` must be a non-negative integer".into()))?,
                None => return Err(fail("`detach` frame needs `sender`".into())),
            },
        },
        "error" => Frame::Error {
            id,
            error: match raw.error {
                Some(error) => error
                    .parse()
                    .map_err(|e| fail(format!("malformed `error`: {e}")))?,
                None => return Err(fail("`error` frame needs `error`".into())),
            },
        },
        "goodbye" => Frame::Goodbye {
            reason: raw.reason.and_then(|r| r.parse().ok()).unwrap_or_default(),
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
