//! The binary codec's frames: a one-byte type tag, a postcard-encoded header, then the payload
//! as the rest of the frame.

use bytes::Bytes;
use serde::Serialize;

use super::codec::Codec;
use super::frame::{Frame, FrameBuf, FrameError, OutFrame, Outcome, ReplyBody, WireError, tail_of};
use crate::error::IpcError;

const INVOKE: u8 = 1;
const REPLY_OK: u8 = 2;
const REPLY_APP: u8 = 3;
const REPLY_ERROR: u8 = 4;
const CANCEL: u8 = 5;
const SEND: u8 = 6;
const EVENT: u8 = 7;
const ERROR: u8 = 8;
const GOODBYE: u8 = 9;
const LAG: u8 = 10;
const PING: u8 = 11;
const PONG: u8 = 12;
const TRANSFER: u8 = 13;
const PORT: u8 = 14;
const CREDIT: u8 = 15;
const CLOSE: u8 = 16;

/// `close` outcomes.
const CLOSED: u8 = 0;
const CLOSED_APP: u8 = 1;
const CLOSED_ERROR: u8 = 2;

pub(super) fn encode(frame: &OutFrame<'_>, out: &mut FrameBuf) -> Result<(), IpcError> {
    let ports = encode_frame(frame, out)?;
    // The transfer list goes first, and is known only once the payload is written: rare
    // enough (a frame that hands over a port) that moving the bytes written costs nothing.
    if !ports.is_empty() {
        let mut prefix = vec![TRANSFER];
        postcard::to_io(&ports, &mut prefix).map_err(|e| IpcError::Encode {
            reason: e.to_string(),
        })?;
        out.prepend(&prefix);
    }
    Ok(())
}

/// Writes `frame`; returns the ports its payload transferred.
fn encode_frame(frame: &OutFrame<'_>, out: &mut FrameBuf) -> Result<Vec<u64>, IpcError> {
    let none = || Ok(Vec::new());
    match frame {
        // Bridges (the only receivers of `to`) speak JSON.
        OutFrame::Invoke {
            id,
            channel,
            args,
            timeout_ms,
            ..
        } => {
            out.push(INVOKE);
            by_hand::put_varint(out, *id);
            by_hand::put_str(out, channel);
            by_hand::put_option(out, *timeout_ms);
            out.put_payload(args, Codec::Binary)
        }
        OutFrame::Reply { id, body } => match body {
            ReplyBody::Ok(value) => {
                out.push(REPLY_OK);
                by_hand::put_varint(out, *id);
                out.put_payload(value, Codec::Binary)
            }
            ReplyBody::App(error) => {
                out.push(REPLY_APP);
                by_hand::put_varint(out, *id);
                out.put_payload(error, Codec::Binary)
            }
            ReplyBody::Error(error) => {
                out.push(REPLY_ERROR);
                header(out, &(id, BinaryError::from(&**error)))?;
                none()
            }
        },
        OutFrame::Cancel { id, .. } => {
            out.push(CANCEL);
            header(out, id)?;
            none()
        }
        OutFrame::Send { channel, args } => {
            out.push(SEND);
            header(out, channel)?;
            out.put_payload(args, Codec::Binary)
        }
        // Bridges speak JSON or msgpack; the binary codec has no window routing.
        OutFrame::Event { channel, args, .. } => {
            out.push(EVENT);
            header(out, channel)?;
            out.put_payload(args, Codec::Binary)
        }
        OutFrame::Port { port, data } => {
            out.push(PORT);
            header(out, port)?;
            out.put_payload(data, Codec::Binary)
        }
        OutFrame::Credit { port, n } => {
            out.push(CREDIT);
            header(out, &(port, n))?;
            none()
        }
        OutFrame::Close {
            port,
            reason,
            outcome,
        } => {
            out.push(CLOSE);
            match outcome {
                Outcome::Done => header(out, &(port, CLOSED, reason, None::<BinaryError>))?,
                Outcome::App(error) => {
                    header(out, &(port, CLOSED_APP, reason, None::<BinaryError>))?;
                    // A stream's error value cannot transfer ports: a close opens nothing.
                    error.write_to(Codec::Binary, out)?;
                }
                Outcome::Error(error) => header(
                    out,
                    &(
                        port,
                        CLOSED_ERROR,
                        reason,
                        Some(BinaryError::from(&**error)),
                    ),
                )?,
            }
            none()
        }
        OutFrame::Error { id, error } => {
            out.push(ERROR);
            header(out, &(id, BinaryError::from(error)))?;
            none()
        }
        // Bridges (the only receivers of `to`) speak JSON.
        OutFrame::Goodbye { reason, .. } => {
            out.push(GOODBYE);
            header(out, reason)?;
            none()
        }
        OutFrame::Lag {
            channel, missed, ..
        } => {
            out.push(LAG);
            header(out, &(channel, missed))?;
            none()
        }
        OutFrame::Ping { id } => {
            out.push(PING);
            header(out, id)?;
            none()
        }
        OutFrame::Pong { id } => {
            out.push(PONG);
            header(out, id)?;
            none()
        }
    }
}

/// Frame headers are the protocol's own fixed types, so they use postcard (compact, not
/// self-describing); payloads use the codec.
fn header<T: Serialize + ?Sized>(out: &mut FrameBuf, value: &T) -> Result<(), IpcError> {
    postcard::to_io(value, out)
        .map(drop)
        .map_err(|e| IpcError::Encode {
            reason: e.to_string(),
        })
}

pub(super) fn decode(bytes: Bytes) -> Result<Frame, FrameError> {
    if bytes.first() != Some(&TRANSFER) {
        return decode_frame(bytes);
    }
    let (ports, rest) = postcard::take_from_bytes::<Vec<u64>>(&bytes[1..])
        .map_err(|e| FrameError::new(format!("malformed transfer prefix: {e}")))?;
    if rest.first() == Some(&TRANSFER) {
        return Err(FrameError::new("a transfer prefix cannot carry another"));
    }
    let rest = rest.len();
    let mut frame = decode_frame(tail_of(bytes, rest))?;
    match &mut frame {
        Frame::Invoke { ports: list, .. }
        | Frame::Send { ports: list, .. }
        | Frame::Event { ports: list, .. }
        | Frame::Port { ports: list, .. }
        | Frame::Reply {
            body: ReplyBody::Ok(_) | ReplyBody::App(_),
            ports: list,
            ..
        } => *list = ports,
        other => {
            return Err(FrameError::new(format!(
                "a `{}` frame carries no payload to transfer ports in",
                other.kind()
            )));
        }
    }
    Ok(frame)
}

fn decode_frame(bytes: Bytes) -> Result<Frame, FrameError> {
    let Some((&tag, body)) = bytes.split_first() else {
        return Err(FrameError::new("empty frame"));
    };
    fn take(what: &'static str) -> impl Fn(postcard::Error) -> FrameError {
        move |e| FrameError::new(format!("malformed {what} frame: {e}"))
    }
    let frame = match tag {
        INVOKE => {
            // The id comes first: once it is read, a malformed rest of the header is reported
            // as that call's reply, so the caller does not wait for its deadline.
            let (id, after_id) = postcard::take_from_bytes::<u64>(body).map_err(take("invoke"))?;
            let ((channel, timeout_ms), rest) =
                postcard::take_from_bytes::<(String, Option<u64>)>(after_id).map_err(|e| {
                    FrameError {
                        id: Some(id),
                        kind: Some("invoke"),
                        ..take("invoke")(e)
                    }
                })?;
            let rest = rest.len();
            Frame::Invoke {
                id,
                channel,
                args: tail_of(bytes, rest),
                timeout_ms,
                sender: None,
                ports: Vec::new(),
            }
        }
        REPLY_OK | REPLY_APP => {
            let (id, rest) = match by_hand::take_varint(body) {
                Some(read) => read,
                None => postcard::take_from_bytes::<u64>(body).map_err(take("reply"))?,
            };
            let rest = rest.len();
            let payload = tail_of(bytes, rest);
            let body = if tag == REPLY_OK {
                ReplyBody::Ok(payload)
            } else {
                ReplyBody::App(payload)
            };
            Frame::Reply {
                id,
                body,
                ports: Vec::new(),
            }
        }
        REPLY_ERROR => {
            let (id, error) = exact::<(u64, BinaryError)>(body, "reply")?;
            Frame::Reply {
                id,
                body: ReplyBody::Error(Box::new(error.into())),
                ports: Vec::new(),
            }
        }
        CANCEL => Frame::Cancel {
            id: exact::<u64>(body, "cancel")?,
        },
        SEND | EVENT => {
            let (channel, rest) =
                postcard::take_from_bytes::<String>(body).map_err(take("send"))?;
            let rest = rest.len();
            let args = tail_of(bytes, rest);
            if tag == SEND {
                Frame::Send {
                    channel,
                    args,
                    sender: None,
                    ports: Vec::new(),
                }
            } else {
                Frame::Event {
                    channel,
                    args,
                    to: None,
                    ports: Vec::new(),
                }
            }
        }
        PORT => {
            let (port, rest) = postcard::take_from_bytes::<u64>(body).map_err(take("port"))?;
            let rest = rest.len();
            Frame::Port {
                port,
                data: tail_of(bytes, rest),
                ports: Vec::new(),
            }
        }
        CREDIT => {
            let (port, n) = exact::<(u64, u64)>(body, "credit")?;
            Frame::Credit { port, n }
        }
        CLOSE => {
            let ((port, outcome, reason, error), rest) =
                postcard::take_from_bytes::<(u64, u8, Option<String>, Option<BinaryError>)>(body)
                    .map_err(take("close"))?;
            let rest = rest.len();
            let outcome = match (outcome, error) {
                (CLOSED, None) if rest == 0 => Outcome::Done,
                (CLOSED_APP, None) => Outcome::App(tail_of(bytes, rest)),
                (CLOSED_ERROR, Some(error)) if rest == 0 => Outcome::Error(Box::new(error.into())),
                _ => return Err(FrameError::new("malformed close frame: bad outcome")),
            };
            Frame::Close {
                port,
                reason,
                outcome,
            }
        }
        ERROR => {
            let (id, error) = exact::<(Option<u64>, BinaryError)>(body, "error")?;
            Frame::Error {
                id,
                error: error.into(),
            }
        }
        GOODBYE => Frame::Goodbye {
            reason: exact::<String>(body, "goodbye")?,
            to: None,
        },
        PING => Frame::Ping {
            id: exact::<u64>(body, "ping")?,
        },
        PONG => Frame::Pong {
            id: exact::<u64>(body, "pong")?,
        },
        LAG => {
            let (channel, missed) = exact::<(String, u64)>(body, "lag")?;
            Frame::Lag {
                channel,
                missed,
                to: None,
            }
        }
        other => return Err(FrameError::new(format!("unknown frame type {other}"))),
    };
    Ok(frame)
}

/// The headers of the frames every call makes (an invoke and its reply) in postcard's
/// encoding, written by hand (through serde every field is a visit and every write a call
/// through `io::Write`: 150 instructions of a small call's 17,000), and a reply's id read by
/// hand. The bytes are postcard's (tests compare them); an id the hand reader does not take
/// goes through postcard, which also words the error. (An invoke's header read by hand was no
/// faster than postcard: most of it is the channel's name.)
mod by_hand {
    use super::FrameBuf;

    /// Postcard's varint: seven bits a byte, least significant first, at most ten bytes.
    pub(super) fn put_varint(out: &mut FrameBuf, mut value: u64) {
        while value >= 0x80 {
            out.push((value as u8) | 0x80);
            value >>= 7;
        }
        out.push(value as u8);
    }

    pub(super) fn put_str(out: &mut FrameBuf, text: &str) {
        put_varint(out, text.len() as u64);
        out.extend_from_slice(text.as_bytes());
    }

    pub(super) fn put_option(out: &mut FrameBuf, value: Option<u64>) {
        match value {
            None => out.push(0),
            Some(value) => {
                out.push(1);
                put_varint(out, value);
            }
        }
    }

    /// A varint as postcard reads one (its tenth byte holds one bit at most), and what follows.
    pub(super) fn take_varint(bytes: &[u8]) -> Option<(u64, &[u8])> {
        if let Some((&byte, rest)) = bytes.split_first()
            && byte < 0x80
        {
            return Some((u64::from(byte), rest));
        }
        let mut value = 0u64;
        for (at, &byte) in bytes.iter().enumerate().take(10) {
            value |= u64::from(byte & 0x7f) << (7 * at);
            if byte & 0x80 == 0 {
                return (at < 9 || byte <= 1).then(|| (value, &bytes[at + 1..]));
            }
        }
        None
    }
}

fn exact<T: serde::de::DeserializeOwned>(body: &[u8], what: &str) -> Result<T, FrameError> {
    match postcard::take_from_bytes::<T>(body) {
        Ok((value, [])) => Ok(value),
        Ok((_, rest)) => Err(FrameError::new(format!(
            "malformed {what} frame: {} trailing bytes",
            rest.len()
        ))),
        Err(e) => Err(FrameError::new(format!("malformed {what} frame: {e}"))),
    }
}

/// [`WireError`] with every field in a fixed order: postcard is not self-describing, so optional
/// fields cannot be skipped.
#[derive(serde::Serialize, serde::Deserialize)]
struct BinaryError {
    code: String,
    message: String,
    channel: Option<String>,
    reason: Option<String>,
    limit: Option<u64>,
    size: Option<u64>,
    after_ms: Option<u64>,
    ours: Option<String>,
    theirs: Option<String>,
    rule: Option<String>,
}

impl From<&WireError> for BinaryError {
    fn from(e: &WireError) -> Self {
        BinaryError {
            code: e.code.clone(),
            message: e.message.clone(),
            channel: e.channel.clone(),
            reason: e.reason.clone(),
            limit: e.limit,
            size: e.size,
            after_ms: e.after_ms,
            ours: e.ours.clone(),
            theirs: e.theirs.clone(),
            rule: e.rule.clone(),
        }
    }
}

impl From<BinaryError> for WireError {
    fn from(e: BinaryError) -> Self {
        WireError {
            code: e.code,
            message: e.message,
            channel: e.channel,
            reason: e.reason,
            limit: e.limit,
            size: e.size,
            after_ms: e.after_ms,
            ours: e.ours,
            theirs: e.theirs,
            rule: e.rule,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invoke_cut_after_its_id_names_its_call() {
        // id 300 (varint), then a 20-byte channel name of which 2 bytes arrived.
        let frame = Bytes::from_static(&[INVOKE, 0xac, 0x02, 20, b'p', b'r']);
        let error = decode(frame).unwrap_err();
        assert_eq!(error.id, Some(300));
        assert!(
            error.reason.contains("malformed invoke"),
            "{}",
            error.reason
        );
    }

    /// The hand-written headers are postcard's bytes.
    #[test]
    fn hand_written_headers_are_postcards() {
        let edges = [
            0,
            1,
            0x7f,
            0x80,
            0x3fff,
            0x4000,
            u64::from(u32::MAX),
            u64::MAX >> 1,
            u64::MAX,
        ];
        let channels = ["", "app:echo", &"x".repeat(127), &"y".repeat(128), "été"];
        for id in edges {
            for channel in channels {
                for timeout in [None, Some(0), Some(id)] {
                    let mut ours = FrameBuf::new();
                    by_hand::put_varint(&mut ours, id);
                    by_hand::put_str(&mut ours, channel);
                    by_hand::put_option(&mut ours, timeout);
                    let theirs = postcard::to_stdvec(&(id, channel, timeout)).unwrap();
                    assert_eq!(&ours[..], &theirs[..], "{id} {channel:?} {timeout:?}");
                }
            }
        }
    }

    /// Whatever the hand reader takes, postcard takes too, as the same value; what it leaves,
    /// postcard refuses (so the error is postcard's).
    #[test]
    fn the_hand_reader_agrees_with_postcard() {
        let mut cases: Vec<Vec<u8>> = vec![
            vec![],
            vec![0x80],
            vec![0xff; 10],
            vec![0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
            vec![0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02],
            // Over-long but valid: postcard takes it.
            vec![0x80, 0x00, 0x00, 0x00],
        ];
        for a in 0..=255u8 {
            for b in 0..=255u8 {
                cases.push(vec![a, b]);
                cases.push(vec![0xff, a, b]);
                cases.push(vec![0xff; 8].into_iter().chain([a, b]).collect());
            }
        }
        for body in cases {
            let postcard = postcard::take_from_bytes::<u64>(&body).ok();
            assert_eq!(by_hand::take_varint(&body), postcard, "{body:?}");
        }
    }

    #[test]
    fn an_invoke_without_a_readable_id_names_no_call() {
        let error = decode(Bytes::from_static(&[INVOKE, 0x80])).unwrap_err();
        assert_eq!(error.id, None);
    }
}
