//! The JSON codec's frames: one JSON object per frame, `"t"` naming its type.

use bytes::Bytes;
use serde::Serialize;
use serde::de::{self, DeserializeOwned, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

use super::codec::Codec;
use super::fields::{self, FieldWriter, RawField, RawFrame, interpret};
use super::frame::{Frame, FrameBuf, FrameError, OutFrame};
use crate::error::IpcError;

pub(super) fn encode(frame: &OutFrame<'_>, out: &mut FrameBuf) -> Result<(), IpcError> {
    let mut object = ObjectWriter { out, first: true };
    fields::encode(frame, &mut object)?;
    object.out.push(b'}');
    Ok(())
}

/// Writes one JSON object, member after member.
struct ObjectWriter<'o> {
    out: &'o mut FrameBuf,
    first: bool,
}

impl FieldWriter for ObjectWriter<'_> {
    const CODEC: Codec = Codec::Json;

    fn key(&mut self, key: &str) {
        // The protocol's keys are plain ASCII names: nothing to escape.
        self.out.push(if self.first { b'{' } else { b',' });
        self.first = false;
        self.out.push(b'"');
        self.out.extend_from_slice(key.as_bytes());
        self.out.extend_from_slice(b"\":");
    }

    fn str_value(&mut self, value: &str) {
        // Serializing a &str to JSON cannot fail.
        let _ = serde_json::to_writer(&mut *self.out, value);
    }

    fn uint_value(&mut self, value: u64) {
        use std::io::Write;
        // Writing to a Vec cannot fail.
        let _ = write!(self.out, "{value}");
    }

    fn ids_value(&mut self, ids: &[u64]) {
        self.out.push(b'[');
        for (i, id) in ids.iter().enumerate() {
            if i > 0 {
                self.out.push(b',');
            }
            self.uint_value(*id);
        }
        self.out.push(b']');
    }

    fn serde_value<T: Serialize>(&mut self, value: &T) -> Result<(), IpcError> {
        serde_json::to_writer(&mut *self.out, value).map_err(|e| IpcError::Encode {
            reason: e.to_string(),
        })
    }

    fn out(&mut self) -> &mut FrameBuf {
        self.out
    }
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
