//! Length-prefixed framing for byte streams: a 4-byte big-endian length, then the frame.
//!
//! Built on tokio-util's `LengthDelimitedCodec`; the wrapper only checks the announced length
//! before any of the frame is buffered, so an oversized frame is refused with its size (and no
//! memory is spent on it).

use bytes::{Bytes, BytesMut};
use tokio_util::codec::{Decoder, Encoder, LengthDelimitedCodec};

/// Default largest frame: 4 MiB.
pub const DEFAULT_MAX_FRAME: usize = 4 * 1024 * 1024;

/// Why a byte stream stopped yielding frames.
#[derive(Debug, thiserror::Error)]
pub(crate) enum FramingError {
    #[error("frame of {size} bytes exceeds the limit of {limit} bytes")]
    TooLarge { size: usize, limit: usize },
    #[error("truncated frame: the stream ended inside a frame")]
    Truncated,
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
}

/// The codec of one connection's byte stream.
pub(crate) struct FrameCodec {
    inner: LengthDelimitedCodec,
    max: usize,
    /// The inner codec has consumed a length prefix and waits for that frame's body, so the
    /// buffer does not start with a prefix.
    in_body: bool,
}

impl FrameCodec {
    pub(crate) fn new(max: usize) -> Self {
        FrameCodec {
            inner: LengthDelimitedCodec::builder()
                .length_field_length(4)
                .big_endian()
                .max_frame_length(max)
                .new_codec(),
            max,
            in_body: false,
        }
    }
}

impl Decoder for FrameCodec {
    type Item = BytesMut;
    type Error = FramingError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<BytesMut>, FramingError> {
        if !self.in_body {
            if let Some(header) = src.get(..4) {
                let size =
                    u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as usize;
                if size > self.max {
                    return Err(FramingError::TooLarge {
                        size,
                        limit: self.max,
                    });
                }
            }
        }
        let before = src.len();
        let frame = self.inner.decode(src)?;
        if frame.is_some() {
            self.in_body = false;
        } else if src.len() < before {
            self.in_body = true;
        }
        Ok(frame)
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<BytesMut>, FramingError> {
        match self.decode(src)? {
            Some(frame) => Ok(Some(frame)),
            None if src.is_empty() => Ok(None),
            None => Err(FramingError::Truncated),
        }
    }
}

impl Encoder<Bytes> for FrameCodec {
    type Error = FramingError;

    fn encode(&mut self, frame: Bytes, dst: &mut BytesMut) -> Result<(), FramingError> {
        if frame.len() > self.max {
            return Err(FramingError::TooLarge {
                size: frame.len(),
                limit: self.max,
            });
        }
        Ok(self.inner.encode(frame, dst)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_oversized_frames_from_the_header_alone() {
        let mut codec = FrameCodec::new(8);
        let mut src = BytesMut::from(&[0u8, 0, 0, 9][..]);
        assert!(matches!(
            codec.decode(&mut src),
            Err(FramingError::TooLarge { size: 9, limit: 8 })
        ));
    }

    #[test]
    fn truncated_frame_at_eof() {
        let mut codec = FrameCodec::new(8);
        let mut src = BytesMut::from(&[0u8, 0, 0, 4, 1, 2][..]);
        assert!(matches!(
            codec.decode_eof(&mut src),
            Err(FramingError::Truncated)
        ));
    }

    #[test]
    fn body_bytes_are_not_mistaken_for_a_prefix() {
        let mut codec = FrameCodec::new(8);
        let mut src = BytesMut::from(&[0u8, 0, 0, 3, 0xff][..]);
        assert!(codec.decode(&mut src).unwrap().is_none());
        src.extend_from_slice(&[0xff, 0xff]);
        assert_eq!(
            &codec.decode(&mut src).unwrap().unwrap()[..],
            &[0xff, 0xff, 0xff]
        );
    }

    #[test]
    fn round_trip() {
        let mut codec = FrameCodec::new(8);
        let mut buf = BytesMut::new();
        codec.encode(Bytes::from_static(b"abc"), &mut buf).unwrap();
        assert_eq!(&buf[..], &[0, 0, 0, 3, b'a', b'b', b'c']);
        assert_eq!(&codec.decode(&mut buf).unwrap().unwrap()[..], b"abc");
    }
}
