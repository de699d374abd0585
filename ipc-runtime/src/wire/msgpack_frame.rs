//! The MessagePack codec's frames: the JSON codec's vocabulary (`docs/PROTOCOL.md` §4), each
//! frame one MessagePack map of the same named fields, with payloads as MessagePack values (the
//! binary codec's: named struct fields, `bin` for [`Bytes`](crate::Bytes)). What JavaScript
//! peers speak: a frame is an object to them, as on JSON, but bytes stay bytes and nothing is
//! text.

use bytes::Bytes;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::codec::Codec;
use super::fields::{self, FieldWriter, RawField, RawFrame, interpret};
use super::frame::{Frame, FrameBuf, FrameError, OutFrame};
use super::msgpack;
use crate::error::IpcError;

pub(super) fn encode(frame: &OutFrame<'_>, out: &mut FrameBuf) -> Result<(), IpcError> {
    let mut map = MapWriter::start(out);
    fields::encode(frame, &mut map)?;
    map.finish();
    Ok(())
}

/// Writes one map: a `fixmap` header (a frame has fewer than 16 fields) whose count is filled in
/// at the end (so fields can be left out as they come), then key and value after key and value.
struct MapWriter<'o> {
    out: &'o mut FrameBuf,
    start: usize,
    count: u32,
}

impl<'o> MapWriter<'o> {
    fn start(out: &'o mut FrameBuf) -> Self {
        let start = out.len();
        out.push(0x80);
        MapWriter {
            out,
            start,
            count: 0,
        }
    }

    fn finish(self) {
        debug_assert!(self.count < 16, "a frame has fewer than 16 fields");
        self.out[self.start] = 0x80 | self.count as u8;
    }
}

impl FieldWriter for MapWriter<'_> {
    const CODEC: Codec = Codec::MessagePack;

    fn key(&mut self, key: &str) {
        self.count += 1;
        write(self.out, key);
    }

    fn str_value(&mut self, value: &str) {
        write(self.out, value);
    }

    fn uint_value(&mut self, value: u64) {
        write(self.out, &value);
    }

    fn ids_value(&mut self, ids: &[u64]) {
        write(self.out, ids);
    }

    fn serde_value<T: Serialize>(&mut self, value: &T) -> Result<(), IpcError> {
        rmp_serde::encode::write_named(&mut *self.out, value).map_err(|e| IpcError::Encode {
            reason: e.to_string(),
        })
    }

    fn out(&mut self) -> &mut FrameBuf {
        self.out
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
        // The frame's decoder has checked this value's structure and bounds already.
        rmp_serde::from_slice(self.0).map_err(|e| e.to_string())
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
        let (key, key_end) = msgpack::key_str(&bytes, at).ok_or_else(|| {
            invalid(format!(
                "the key at byte {at} is not a string (or is cut short)"
            ))
        })?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::payload::Payload;

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
