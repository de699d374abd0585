//! Frames: the protocol's messages as bytes, and the handshake's hello (see `docs/PROTOCOL.md`).
//!
//! A frame is the body of one length-prefixed record on a byte stream (or one WebSocket
//! message). The handshake frames are always JSON; after it, frames use the negotiated codec
//! (`json`, `binary`, `msgpack`). Payloads (arguments, results, application errors) are spliced into frames
//! as already-encoded bytes and sliced out of received frames without copying, so a value is
//! encoded once and decoded once, straight into its declared type.

use std::collections::BTreeMap;
use std::time::Duration;

use bytes::{Buf, Bytes};
use serde::{Deserialize, Serialize};

use super::codec::Codec;
use super::framing::FrameBytes;
use super::payload::Payload;
use super::{binary, json, msgpack_frame};
use crate::error::IpcError;

/// Who, behind a bridge connection, made a call (an Electron bridge multiplexes many windows
/// over one connection and names the window in each frame).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct SenderInfo {
    /// The window's id on the bridge (Electron's `webContents.id`).
    pub(crate) id: u64,
    /// The calling frame's URL.
    #[serde(default)]
    pub(crate) url: Option<String>,
    /// The calling frame's origin.
    #[serde(default)]
    pub(crate) origin: Option<String>,
    /// Whether the calling frame is its window's main frame (not an iframe); absent from
    /// bridges that do not say.
    #[serde(default)]
    pub(crate) main_frame: Option<bool>,
}

/// A decoded frame. Payload fields hold the still-encoded bytes.
#[derive(Debug)]
pub(crate) enum Frame {
    #[allow(dead_code)] // decoded only by the handshake, kept so every frame type has a variant
    Hello(Hello),
    Invoke {
        id: u64,
        channel: String,
        args: Bytes,
        timeout_ms: Option<u64>,
        sender: Option<SenderInfo>,
        /// The ports the arguments transfer.
        ports: Vec<u64>,
    },
    Reply {
        id: u64,
        body: ReplyBody<Bytes>,
        ports: Vec<u64>,
    },
    Cancel {
        id: u64,
    },
    Send {
        channel: String,
        args: Bytes,
        sender: Option<SenderInfo>,
        ports: Vec<u64>,
    },
    Event {
        channel: String,
        args: Bytes,
        to: Option<u64>,
        ports: Vec<u64>,
    },
    /// A message on a port.
    Port {
        port: u64,
        data: Bytes,
        ports: Vec<u64>,
    },
    /// More messages the peer may send on a port.
    Credit {
        port: u64,
        n: u64,
    },
    /// A port closes.
    Close {
        port: u64,
        reason: Option<String>,
        outcome: Outcome<Bytes>,
    },
    Detach {
        sender: u64,
    },
    Error {
        id: Option<u64>,
        error: WireError,
    },
    Goodbye {
        reason: String,
        /// Behind a bridge: the one window main disconnected.
        to: Option<u64>,
    },
    Lag {
        channel: String,
        missed: u64,
        to: Option<u64>,
    },
    Ping {
        id: u64,
    },
    Pong {
        id: u64,
    },
}

impl Frame {
    /// The frame's type, as `t` names it on the JSON codec.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Frame::Hello(_) => "hello",
            Frame::Invoke { .. } => "invoke",
            Frame::Reply { .. } => "reply",
            Frame::Cancel { .. } => "cancel",
            Frame::Send { .. } => "send",
            Frame::Event { .. } => "event",
            Frame::Detach { .. } => "detach",
            Frame::Error { .. } => "error",
            Frame::Goodbye { .. } => "goodbye",
            Frame::Lag { .. } => "lag",
            Frame::Ping { .. } => "ping",
            Frame::Pong { .. } => "pong",
            Frame::Port { .. } => "port",
            Frame::Credit { .. } => "credit",
            Frame::Close { .. } => "close",
        }
    }
}

/// How a port closed: done (a stream finished, a port closed), with the application's error (a
/// stream's `E`), or with a framework error.
#[derive(Debug)]
pub(crate) enum Outcome<P> {
    Done,
    App(P),
    /// Boxed: errors are rare, and every frame would otherwise carry their size.
    Error(Box<WireError>),
}

impl<P> Outcome<P> {
    /// The same outcome with its application value mapped.
    pub(crate) fn map<Q>(self, f: impl FnOnce(P) -> Q) -> Outcome<Q> {
        match self {
            Outcome::Done => Outcome::Done,
            Outcome::App(value) => Outcome::App(f(value)),
            Outcome::Error(error) => Outcome::Error(error),
        }
    }
}

/// What a reply carries.
#[derive(Debug)]
pub(crate) enum ReplyBody<P> {
    Ok(P),
    App(P),
    /// Boxed, as in [`Outcome`].
    Error(Box<WireError>),
}

/// A frame to write; payloads are borrowed so they can be encoded straight into the frame.
pub(crate) enum OutFrame<'a> {
    Invoke {
        id: u64,
        channel: &'a str,
        args: &'a Payload,
        timeout_ms: Option<u64>,
        to: Option<u64>,
    },
    Reply {
        id: u64,
        body: ReplyBody<&'a Payload>,
    },
    Cancel {
        id: u64,
        to: Option<u64>,
    },
    Port {
        port: u64,
        data: &'a Payload,
    },
    Credit {
        port: u64,
        n: u64,
    },
    Close {
        port: u64,
        reason: Option<&'a str>,
        outcome: Outcome<&'a Payload>,
    },
    Send {
        channel: &'a str,
        args: &'a Payload,
    },
    Event {
        channel: &'a str,
        args: &'a Payload,
        to: Option<u64>,
        /// Windows a bridge withholds the event from (empty: none).
        except: &'a [u64],
    },
    Error {
        id: Option<u64>,
        error: WireError,
    },
    Goodbye {
        reason: &'a str,
        to: Option<u64>,
    },
    Lag {
        channel: &'a str,
        missed: u64,
        to: Option<u64>,
        /// Windows a bridge withholds the notice from (empty: none).
        except: &'a [u64],
    },
    Ping {
        id: u64,
    },
    Pong {
        id: u64,
    },
}

/// The first frame each side sends (always JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Hello {
    /// Always `"hello"` on the wire.
    pub(crate) t: String,
    pub(crate) protocol: u32,
    /// `"renderer"` or `"main"`.
    pub(crate) role: String,
    pub(crate) codec: String,
    /// Namespace to contract hash, for every contract the sender was built with.
    #[serde(default)]
    pub(crate) contracts: BTreeMap<String, String>,
    /// The renderer's label (renderer to main).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) label: Option<String>,
    /// The id main assigned (main to renderer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) renderer: Option<u64>,
    /// The largest frame the sender accepts, in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) max_frame: Option<u64>,
    /// The largest message the sender accepts, in bytes (in chunks when above `max_frame`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) max_message: Option<u64>,
    /// Messages the other side may send on each port before it gets credit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) port_window: Option<u64>,
    /// The most ports the sender keeps open on the connection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) max_ports: Option<u64>,
}

/// A framework error on the wire: a stable `code`, a human `message`, and the data of the
/// matching [`IpcError`] variant in optional fields.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub(crate) struct WireError {
    pub(crate) code: String,
    pub(crate) message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) channel: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) limit: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) size: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) after_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) ours: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) theirs: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) rule: Option<String>,
}

impl From<&IpcError> for WireError {
    fn from(error: &IpcError) -> Self {
        let mut wire = WireError {
            code: error.code().to_string(),
            message: error.to_string(),
            ..WireError::default()
        };
        match error {
            IpcError::NoHandler { channel } | IpcError::Cancelled { channel } => {
                wire.channel = Some(channel.clone());
            }
            IpcError::BadArguments { channel, reason } | IpcError::BadReply { channel, reason } => {
                wire.channel = Some(channel.clone());
                wire.reason = Some(reason.clone());
            }
            IpcError::Forbidden {
                channel,
                reason,
                rule,
            } => {
                wire.channel = Some(channel.clone());
                wire.reason = Some(reason.clone());
                wire.rule = rule.clone();
            }
            IpcError::HandlerPanicked { channel, message } => {
                wire.channel = Some(channel.clone());
                wire.reason = Some(message.clone());
            }
            IpcError::Timeout { channel, after } => {
                wire.channel = Some(channel.clone());
                wire.after_ms = Some(u64::try_from(after.as_millis()).unwrap_or(u64::MAX));
            }
            IpcError::Disconnected { reason }
            | IpcError::Protocol { reason }
            | IpcError::Encode { reason } => wire.reason = Some(reason.clone()),
            IpcError::TooLarge { size, limit } => {
                wire.size = Some(*size as u64);
                wire.limit = Some(*limit as u64);
            }
            IpcError::TooManyInFlight { limit }
            | IpcError::TooManyConnections { limit }
            | IpcError::TooManyPorts { limit } => wire.limit = Some(*limit as u64),
            IpcError::VersionMismatch { ours, theirs } => {
                wire.ours = Some(ours.clone());
                wire.theirs = Some(theirs.clone());
            }
            IpcError::Revoked { capability, reason } => {
                wire.channel = Some(capability.clone());
                wire.reason = Some(reason.clone());
            }
        }
        wire
    }
}

impl From<WireError> for IpcError {
    fn from(wire: WireError) -> Self {
        let channel = wire.channel.clone().unwrap_or_default();
        let reason = wire.reason.clone().unwrap_or_else(|| wire.message.clone());
        let as_usize = |n: Option<u64>| n.map_or(0, |n| usize::try_from(n).unwrap_or(usize::MAX));
        match wire.code.as_str() {
            "no_handler" => IpcError::NoHandler { channel },
            "bad_arguments" => IpcError::BadArguments { channel, reason },
            "bad_reply" => IpcError::BadReply { channel, reason },
            "cancelled" => IpcError::Cancelled { channel },
            "timeout" => IpcError::Timeout {
                channel,
                after: Duration::from_millis(wire.after_ms.unwrap_or(0)),
            },
            "disconnected" => IpcError::Disconnected { reason },
            "handler_panicked" => IpcError::HandlerPanicked {
                channel,
                message: reason,
            },
            "too_large" => IpcError::TooLarge {
                size: as_usize(wire.size),
                limit: as_usize(wire.limit),
            },
            "too_many_in_flight" => IpcError::TooManyInFlight {
                limit: as_usize(wire.limit),
            },
            "too_many_connections" => IpcError::TooManyConnections {
                limit: as_usize(wire.limit),
            },
            "too_many_ports" => IpcError::TooManyPorts {
                limit: as_usize(wire.limit),
            },
            "forbidden" => IpcError::Forbidden {
                channel,
                reason,
                rule: wire.rule,
            },
            "version_mismatch" => IpcError::VersionMismatch {
                ours: wire.ours.unwrap_or_default(),
                theirs: wire.theirs.unwrap_or_default(),
            },
            "encode" => IpcError::Encode { reason },
            "revoked" => IpcError::Revoked {
                capability: channel,
                reason,
            },
            "protocol" => IpcError::Protocol { reason },
            other => IpcError::Protocol {
                reason: format!("peer reported `{other}`: {}", wire.message),
            },
        }
    }
}

/// Why a received frame could not be decoded. `id` is set when the frame's call id could still
/// be read and `kind` when its type could, so the receiver can answer the right call: main
/// replies to a malformed `invoke`, a renderer fails the call of a malformed `reply`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FrameError {
    pub(crate) id: Option<u64>,
    pub(crate) kind: Option<&'static str>,
    pub(crate) reason: String,
}

impl FrameError {
    pub(crate) fn new(reason: impl Into<String>) -> Self {
        FrameError {
            id: None,
            kind: None,
            reason: reason.into(),
        }
    }

    /// The call this error should be reported to, if the frame was of `kind`.
    pub(crate) fn call_of(&self, kind: &str) -> Option<u64> {
        self.id.filter(|_| self.kind == Some(kind))
    }
}

/// Encodes a frame in `codec`.
pub(crate) fn encode(frame: &OutFrame<'_>, codec: Codec) -> Result<FrameBytes, IpcError> {
    let mut out = FrameBuf::new();
    match codec {
        Codec::Json => json::encode(frame, &mut out)?,
        Codec::Binary => binary::encode(frame, &mut out)?,
        Codec::MessagePack => msgpack_frame::encode(frame, &mut out)?,
    }
    Ok(out.finish())
}

thread_local! {
    /// A small frame's buffer, once a frame writer copied it out: the next frame encoded on
    /// this thread is written into it (a call encodes its frame and writes it in one go).
    static SPARE: std::cell::Cell<Vec<u8>> = const { std::cell::Cell::new(Vec::new()) };
}

/// Keeps a small frame's buffer for the next frame encoded on this thread.
pub(crate) fn reuse(mut buffer: Vec<u8>) {
    if buffer.capacity() <= REUSE_AT_MOST {
        buffer.clear();
        SPARE.set(buffer);
    }
}

/// Buffers up to this size are kept for the next frame: larger ones would hold memory idle, and
/// a small frame written into a kept buffer holds all of it while it waits in a queue.
const REUSE_AT_MOST: usize = 1024;

/// Blobs at least this large are referenced by a frame being encoded, not copied into it.
const SPLICE_AT_LEAST: usize = 64 * 1024;

/// A frame being encoded. Large blobs (a payload already in bytes, or an [`ipc_runtime::Bytes`]
/// value the binary codec writes raw) are not copied in: the frame keeps a reference to them at
/// their offset, and the writer sends the pieces with one vectored write.
///
/// [`ipc_runtime::Bytes`]: crate::Bytes
pub(crate) struct FrameBuf {
    head: Vec<u8>,
    /// `(offset in head, blob)`, in order.
    splices: Vec<(usize, Bytes)>,
}

impl FrameBuf {
    /// Puts `prefix` before everything written so far.
    pub(crate) fn prepend(&mut self, prefix: &[u8]) {
        self.head.splice(0..0, prefix.iter().copied());
        for (offset, _) in &mut self.splices {
            *offset += prefix.len();
        }
    }

    /// Writes `payload` in `codec` and returns the port ids it transferred.
    pub(crate) fn put_payload(
        &mut self,
        payload: &Payload,
        codec: Codec,
    ) -> Result<Vec<u64>, IpcError> {
        let (written, ports) = super::transfer::collect(|| payload.write_to(codec, self));
        written.map(|()| ports)
    }

    pub(crate) fn new() -> Self {
        let spare = SPARE.take();
        FrameBuf {
            head: if spare.capacity() == 0 {
                Vec::with_capacity(64)
            } else {
                spare
            },
            splices: Vec::new(),
        }
    }

    /// Appends `bytes`: referenced when large, else copied.
    pub(crate) fn put_bytes(&mut self, bytes: &Bytes) {
        if bytes.len() >= SPLICE_AT_LEAST {
            self.splices.push((self.head.len(), bytes.clone()));
        } else {
            self.head.extend_from_slice(bytes);
        }
    }

    fn finish(self) -> FrameBytes {
        if self.splices.is_empty() {
            return FrameBytes::Whole(self.head);
        }
        let head = Bytes::from(self.head);
        let mut parts = Vec::with_capacity(2 * self.splices.len() + 1);
        let mut at = 0;
        for (offset, blob) in self.splices {
            if offset > at {
                parts.push(head.slice(at..offset));
            }
            parts.push(blob);
            at = offset;
        }
        if at < head.len() {
            parts.push(head.slice(at..));
        }
        FrameBytes::Parts(parts)
    }
}

impl std::ops::Deref for FrameBuf {
    type Target = Vec<u8>;
    fn deref(&self) -> &Vec<u8> {
        &self.head
    }
}

impl std::ops::DerefMut for FrameBuf {
    fn deref_mut(&mut self) -> &mut Vec<u8> {
        &mut self.head
    }
}

impl FrameBuf {
    #[inline]
    fn put(&mut self, buf: &[u8]) {
        // A serializer writing out a large `ipc_runtime::Bytes` hands over exactly the slice the
        // value offered (see `blob::take_offer`): reference it instead of copying.
        if buf.len() >= SPLICE_AT_LEAST {
            if let Some(blob) = super::blob::take_offer(buf) {
                self.splices.push((self.head.len(), blob));
                return;
            }
        }
        // Encoders write a marker byte at a time: no copy routine for those.
        if let [byte] = buf {
            self.head.push(*byte);
        } else {
            self.head.extend_from_slice(buf);
        }
    }
}

impl std::io::Write for FrameBuf {
    #[inline]
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.put(buf);
        Ok(buf.len())
    }

    #[inline]
    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.put(buf);
        Ok(())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Decodes a frame received in `codec`.
pub(crate) fn decode(frame: Bytes, codec: Codec) -> Result<Frame, FrameError> {
    match codec {
        Codec::Json => json::decode(frame),
        Codec::Binary => binary::decode(frame),
        Codec::MessagePack => msgpack_frame::decode(frame),
    }
}

/// Encodes a hello (always JSON).
pub(crate) fn encode_hello(hello: &Hello) -> Bytes {
    Bytes::from(serde_json::to_vec(hello).unwrap_or_default())
}

/// Encodes an error frame outside any call (always JSON, usable before the codec is agreed).
pub(crate) fn encode_handshake_error(error: &IpcError) -> Bytes {
    let mut out = FrameBuf::new();
    let wire = WireError::from(error);
    let frame = OutFrame::Error {
        id: None,
        error: wire,
    };
    match json::encode(&frame, &mut out) {
        Ok(()) => out.finish().into_contiguous(),
        Err(_) => Bytes::new(),
    }
}

/// Decodes the first frame of a connection: a hello, or an error refusing it.
pub(crate) fn decode_handshake(frame: &[u8]) -> Result<Result<Hello, IpcError>, FrameError> {
    let value: serde_json::Value = serde_json::from_slice(frame)
        .map_err(|e| FrameError::new(format!("invalid JSON in handshake: {e}")))?;
    match value.get("t").and_then(|t| t.as_str()) {
        Some("hello") => serde_json::from_value(value)
            .map(Ok)
            .map_err(|e| FrameError::new(format!("malformed hello: {e}"))),
        Some("error") => {
            let error = value.get("error").cloned().unwrap_or_default();
            let wire: WireError = serde_json::from_value(error)
                .map_err(|e| FrameError::new(format!("malformed error frame: {e}")))?;
            Ok(Err(wire.into()))
        }
        Some(other) => Err(FrameError::new(format!(
            "expected a hello frame first, got `{other}`"
        ))),
        None => Err(FrameError::new("expected a hello frame first")),
    }
}

/// Slices `inner` (a subslice of `outer`'s bytes) out of `outer` without copying.
pub(super) fn slice_of(outer: &Bytes, inner: &[u8]) -> Bytes {
    outer.slice_ref(inner)
}

/// The last `len` bytes of `outer`, as `outer` itself moved on: where a frame's payload is its
/// tail, no new reference to the frame's memory is taken and the frame's own let go (two atomic
/// operations on a counter the connection's read buffer shares with every frame read from it).
pub(super) fn tail_of(outer: Bytes, len: usize) -> Bytes {
    let mut tail = outer;
    tail.advance(tail.len() - len);
    tail
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every code of the protocol's error table reads back as the error it names, and that error
    /// writes the same code: the wire mapping and `ipc_schema::naming::FRAMEWORK_ERROR_CODES`
    /// (what the JavaScript side knows) cannot drift apart.
    #[test]
    fn every_framework_error_code_round_trips() {
        for &code in ipc_schema::naming::FRAMEWORK_ERROR_CODES {
            let wire = WireError {
                code: code.to_string(),
                message: "m".into(),
                channel: Some("c".into()),
                reason: Some("r".into()),
                limit: Some(1),
                size: Some(2),
                after_ms: Some(3),
                ours: Some("o".into()),
                theirs: Some("t".into()),
                rule: Some("#[policy(native)]".into()),
            };
            let error = IpcError::from(wire);
            assert_eq!(error.code(), code);
            assert_eq!(WireError::from(&error).code, code);
        }
    }
}
