//! Entry points for the fuzz targets in `fuzz/`: the decoders and readers that take a peer's
//! bytes, each with an oracle the target checks.

use std::borrow::Cow;

use crate::transport::frames::Outgoing;
use crate::transport::message::{Failure, PortMessage, ToMain, ToRenderer};
use crate::util::held::Held;
use crate::wire::{self, Codec, Frame, FrameReader, OutFrame, Outcome, Payload, ReplyBody};

/// Decodes `bytes` as a frame of `codec`; when it decodes, encodes the frame again and decodes
/// that: the two decodings must agree (`Err` says how they differ). Frames that do not decode are
/// fine (`Ok`): the decoder said no.
///
/// # Errors
///
/// The oracle failed: a frame that decoded did not survive an encode and a decode.
pub fn frame_round_trip(codec: Codec, bytes: &[u8]) -> Result<(), String> {
    let Ok(first) = wire::decode(bytes::Bytes::copy_from_slice(bytes), codec) else {
        return Ok(());
    };
    let Some(out) = out_frame(&first, codec) else {
        return Ok(());
    };
    let encoded = match out {
        Encodable::Renderer(message) => message.encode(codec, usize::MAX),
        Encodable::Main(message) => message.encode(codec, usize::MAX),
        Encodable::Frame(frame) => wire::encode(&frame.0, codec).map_err(|e| (None, e)),
    }
    .map_err(|(_, error)| format!("a decoded frame did not encode: {error}"))?;
    let again = wire::decode(encoded.into_contiguous(), codec)
        .map_err(|error| format!("a re-encoded frame did not decode: {}", error.reason))?;
    let (a, b) = (comparable(&first, codec), comparable(&again, codec));
    if a != b {
        return Err(format!("decoded {a}, then {b}"));
    }
    Ok(())
}

/// What a frame decodes to, without the fields its encoder cannot write back (a `sender` is the
/// bridge's own, `to` does not exist on the binary codec, and a transfer list is written from the port
/// references met while a live payload encodes, which an already-encoded payload has none of).
fn comparable(frame: &Frame, codec: Codec) -> String {
    match frame {
        Frame::Invoke {
            id,
            channel,
            args,
            timeout_ms,
            ..
        } => format!("invoke {id} {channel:?} {args:?} {timeout_ms:?}"),
        Frame::Send { channel, args, .. } => format!("send {channel:?} {args:?}"),
        Frame::Event {
            channel, args, to, ..
        } => format!("event {channel:?} {args:?} {:?}", windows_named(*to, codec)),
        Frame::Lag {
            channel,
            missed,
            to,
        } => format!("lag {channel:?} {missed} {:?}", windows_named(*to, codec)),
        Frame::Goodbye { reason, to } => {
            format!("goodbye {reason:?} {:?}", windows_named(*to, codec))
        }
        Frame::Reply { id, body, .. } => format!("reply {id} {body:?}"),
        Frame::Port { port, data, .. } => format!("port {port} {data:?}"),
        other => format!("{other:?}"),
    }
}

fn windows_named(to: Option<u64>, codec: Codec) -> Option<u64> {
    if codec == Codec::Binary { None } else { to }
}

struct Owned(OutFrame<'static>);

enum Encodable {
    Renderer(ToRenderer),
    Main(ToMain),
    Frame(Owned),
}

/// The message (or frame) that encodes to `frame` again.
fn out_frame(frame: &Frame, codec: Codec) -> Option<Encodable> {
    let payload = |bytes: &bytes::Bytes| Payload::encoded(codec, bytes.clone());
    Some(match frame {
        Frame::Hello(_) | Frame::Detach { .. } => return None,
        Frame::Invoke {
            id,
            channel,
            args,
            timeout_ms,
            ..
        } => Encodable::Main(ToMain::Invoke {
            id: *id,
            channel: Cow::Owned(channel.clone()),
            args: payload(args),
            timeout: timeout_ms.map(std::time::Duration::from_millis),
            sender: None,
        }),
        Frame::Cancel { id } => Encodable::Main(ToMain::Cancel { id: *id }),
        Frame::Send { channel, args, .. } => Encodable::Main(ToMain::Send {
            channel: Cow::Owned(channel.clone()),
            args: payload(args),
            sender: None,
        }),
        Frame::Reply { id, body, .. } => Encodable::Renderer(ToRenderer::Reply {
            id: *id,
            window: None,
            result: match body {
                ReplyBody::Ok(value) => Ok(payload(value)),
                ReplyBody::App(error) => Err(Failure::App(payload(error))),
                // An error object goes through `IpcError`, which keeps what its variant has:
                // compared as the wire error it encodes to, below.
                ReplyBody::Error(error) => {
                    return Some(Encodable::Frame(Owned(OutFrame::Reply {
                        id: *id,
                        body: ReplyBody::Error(error.clone()),
                    })));
                }
            },
        }),
        Frame::Event {
            channel, args, to, ..
        } => Encodable::Renderer(ToRenderer::Event {
            channel: Cow::Owned(channel.clone()),
            payload: payload(args),
            to: *to,
            except: None,
        }),
        Frame::Error { id, error } => Encodable::Frame(Owned(OutFrame::Error {
            id: *id,
            error: error.clone(),
        })),
        Frame::Goodbye { reason, to } => Encodable::Renderer(ToRenderer::Goodbye {
            reason: reason.clone(),
            to: *to,
        }),
        Frame::Lag {
            channel,
            missed,
            to,
        } => Encodable::Renderer(ToRenderer::Lag {
            channel: Cow::Owned(channel.clone()),
            missed: *missed,
            to: *to,
            except: None,
        }),
        Frame::Port { port, data, .. } => Encodable::Main(ToMain::Port(PortMessage::Data {
            port: *port,
            data: payload(data),
        })),
        Frame::Credit { port, n } => {
            Encodable::Main(ToMain::Port(PortMessage::Credit { port: *port, n: *n }))
        }
        Frame::Close {
            port,
            reason,
            outcome,
        } => Encodable::Main(ToMain::Port(PortMessage::Close {
            port: *port,
            reason: reason.clone(),
            outcome: match outcome {
                Outcome::Done => Outcome::Done,
                Outcome::App(value) => Outcome::App(payload(value)),
                // Decoded frames are borrowed here, so the error is cloned.
                Outcome::Error(error) => Outcome::Error(error.clone()),
            },
        })),
        Frame::Ping { id } => Encodable::Frame(Owned(OutFrame::Ping { id: *id })),
        Frame::Pong { id } => Encodable::Frame(Owned(OutFrame::Pong { id: *id })),
    })
}

/// Decodes the first frame of a connection as main does (a hello, or an error refusing it).
pub fn handshake(bytes: &[u8]) {
    let _ = wire::decode_handshake(bytes);
}

/// Checks a MessagePack value as argument decoding does before serde sees it.
///
/// # Errors
///
/// Why the value is refused.
pub fn msgpack_check(bytes: &[u8]) -> Result<(), String> {
    wire::msgpack::check(bytes)
}

/// The messages a byte stream carries, read with reads of at most `step` bytes each, with frames
/// of at most `max_frame` bytes and messages of at most `max_message` (chunks reassembled). The
/// stream's error, if it has one, ends the list (as `Err` with its text).
pub fn read_messages(
    bytes: &[u8],
    step: usize,
    max_frame: usize,
    max_message: usize,
) -> Vec<Result<Vec<u8>, String>> {
    use futures_util::StreamExt;
    let reader = Steps {
        data: bytes.to_vec(),
        at: 0,
        step: step.max(1),
    };
    let mut frames = FrameReader::new(reader, max_frame, max_message, Held::default());
    let mut out = Vec::new();
    let waker = std::task::Waker::noop();
    let mut cx = std::task::Context::from_waker(waker);
    loop {
        match frames.poll_next_unpin(&mut cx) {
            std::task::Poll::Ready(Some(Ok(message))) => out.push(Ok(message.to_vec())),
            std::task::Poll::Ready(Some(Err(error))) => {
                let fatal = !matches!(error, wire::FramingError::MessageTooLarge { .. });
                out.push(Err(error.to_string()));
                if fatal {
                    return out;
                }
            }
            std::task::Poll::Ready(None) => return out,
            // The reader below never waits: it always has bytes or is at its end.
            std::task::Poll::Pending => return out,
        }
    }
}

/// A reader that hands out at most `step` bytes per read.
struct Steps {
    data: Vec<u8>,
    at: usize,
    step: usize,
}

impl tokio::io::AsyncRead for Steps {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let n = buf
            .remaining()
            .min(self.step)
            .min(self.data.len() - self.at);
        let at = self.at;
        buf.put_slice(&self.data[at..at + n]);
        self.at += n;
        std::task::Poll::Ready(Ok(()))
    }
}

/// Reads `bytes` as a message on a capability's port, as the binary codec and as JSON carry it:
/// the object's reading of a call (by hand where the message is written as every peer writes it,
/// the method judged before its arguments decode) must agree with serde's alone, and so must the
/// holder's reading of an answer.
///
/// # Errors
///
/// How the two readings differ.
pub fn capability_message(bytes: &[u8]) -> Result<(), String> {
    use crate::capability::message::{both_ways, probe::Probe};
    let bytes = bytes::Bytes::copy_from_slice(bytes);
    for codec in [Codec::Binary, Codec::Json] {
        both_ways::<Probe>(|| Payload::encoded(codec, bytes.clone()))
            .map_err(|differ| format!("{codec:?}: {differ}"))?;
    }
    Ok(())
}
