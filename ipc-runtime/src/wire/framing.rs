//! Length-prefixed framing for byte streams: a 4-byte big-endian length, then the frame.
//!
//! Reading is tokio-util's `LengthDelimitedCodec`; the wrapper only checks the announced length
//! before any of the frame is buffered, so an oversized frame is refused with its size (and no
//! memory is spent on it).
//!
//! Writing is [`FrameWriter`]: tokio-util's `FramedWrite` copies every frame into its buffer,
//! which for a 1 MiB payload was a tenth of the round trip. Small frames are still gathered in
//! one buffer (a burst goes out in one write); large ones are written from their own memory.

use std::collections::VecDeque;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::{Buf, BufMut, Bytes, BytesMut};
use futures_util::Sink;
use tokio::io::AsyncWrite;
use tokio_util::codec::{Decoder, LengthDelimitedCodec};

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

/// An encoded frame: one buffer, or parts to write in order (large blobs referenced where they sit
/// instead of copied into the frame, see `wire::FrameBuf`).
#[derive(Debug, Clone)]
pub(crate) enum FrameBytes {
    /// A small frame's own buffer (a frame writer copies it into its write buffer; making it a
    /// `Bytes` first would cost an allocation).
    Whole(Vec<u8>),
    Parts(Vec<Bytes>),
}

impl FrameBytes {
    /// The frame's length in bytes.
    pub(crate) fn len(&self) -> usize {
        match self {
            FrameBytes::Whole(bytes) => bytes.len(),
            FrameBytes::Parts(parts) => parts.iter().map(Bytes::len).sum(),
        }
    }

    /// The frame in one buffer (parts are copied together; for message transports).
    pub(crate) fn into_contiguous(self) -> Bytes {
        match self {
            FrameBytes::Whole(bytes) => Bytes::from(bytes),
            FrameBytes::Parts(parts) => {
                let mut whole = BytesMut::with_capacity(parts.iter().map(Bytes::len).sum());
                for part in parts {
                    whole.put_slice(&part);
                }
                whole.freeze()
            }
        }
    }
}

impl From<Bytes> for FrameBytes {
    fn from(bytes: Bytes) -> Self {
        FrameBytes::Parts(vec![bytes])
    }
}

/// Frames (and frame parts) larger than this are written from their own memory instead of being
/// copied into the write buffer.
const COPY_AT_MOST: usize = 16 * 1024;

/// Once this much waits to be written, `poll_ready` writes before taking more.
const BACKPRESSURE: usize = 128 * 1024;

/// At most this many buffers go into one vectored write.
const MAX_SLICES: usize = 32;

/// A sink of frames onto a byte stream, each written as a 4-byte big-endian length and the frame.
pub(crate) struct FrameWriter<W> {
    io: W,
    /// What goes out before `buffer`, in order: sealed parts of the buffer and large frames.
    queued: VecDeque<Bytes>,
    /// Small frames (and the length prefixes of large ones) after everything in `queued`.
    buffer: BytesMut,
    /// Bytes waiting in `queued` and `buffer`.
    waiting: usize,
}

impl<W: AsyncWrite + Unpin> FrameWriter<W> {
    pub(crate) fn new(io: W) -> Self {
        FrameWriter {
            io,
            queued: VecDeque::new(),
            buffer: BytesMut::with_capacity(8 * 1024),
            waiting: 0,
        }
    }

    /// Appends one part of a frame: copied when small, else queued as it is.
    fn put_part(&mut self, part: Bytes) {
        if part.len() <= COPY_AT_MOST {
            self.buffer.put_slice(&part);
        } else {
            self.queued.push_back(self.buffer.split().freeze());
            self.queued.push_back(part);
        }
    }

    /// Writes everything waiting (not flushing `io` itself).
    fn poll_write_out(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.waiting > 0 {
            let mut slices = [IoSlice::new(&[]); MAX_SLICES];
            let mut count = 0;
            for part in self.queued.iter().take(MAX_SLICES - 1) {
                slices[count] = IoSlice::new(part);
                count += 1;
            }
            if !self.buffer.is_empty() && count < MAX_SLICES {
                slices[count] = IoSlice::new(&self.buffer);
                count += 1;
            }
            // One buffer (the usual small frames) goes out with a plain write: a vectored write
            // costs the kernel an iovec import for nothing.
            let io = Pin::new(&mut self.io);
            let written = if count == 1 {
                ready!(io.poll_write(cx, &slices[0]))?
            } else {
                ready!(io.poll_write_vectored(cx, &slices[..count]))?
            };
            if written == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.consume(written);
        }
        Poll::Ready(Ok(()))
    }

    /// Drops the first `written` bytes of what is waiting.
    fn consume(&mut self, mut written: usize) {
        self.waiting -= written;
        while written > 0 {
            match self.queued.front_mut() {
                Some(part) if part.len() <= written => {
                    written -= part.len();
                    self.queued.pop_front();
                }
                Some(part) => {
                    part.advance(written);
                    return;
                }
                None => {
                    self.buffer.advance(written);
                    return;
                }
            }
        }
    }
}

impl<W: AsyncWrite + Unpin> Sink<FrameBytes> for FrameWriter<W> {
    type Error = FramingError;

    fn poll_ready(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        if self.waiting >= BACKPRESSURE {
            ready!(self.poll_write_out(cx))?;
        }
        Poll::Ready(Ok(()))
    }

    fn start_send(mut self: Pin<&mut Self>, frame: FrameBytes) -> Result<(), Self::Error> {
        let len = frame.len();
        let size = u32::try_from(len).map_err(|_| FramingError::TooLarge {
            size: len,
            limit: u32::MAX as usize,
        })?;
        let this = &mut *self;
        this.buffer.put_u32(size);
        this.waiting += 4 + len;
        match frame {
            FrameBytes::Whole(bytes) if bytes.len() <= COPY_AT_MOST => {
                this.buffer.put_slice(&bytes)
            }
            FrameBytes::Whole(bytes) => this.put_part(Bytes::from(bytes)),
            FrameBytes::Parts(parts) => parts.into_iter().for_each(|part| this.put_part(part)),
        }
        Ok(())
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        ready!(self.poll_write_out(cx))?;
        Poll::Ready(Ok(ready!(Pin::new(&mut self.io).poll_flush(cx))?))
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        ready!(self.as_mut().poll_flush(cx))?;
        Poll::Ready(Ok(ready!(Pin::new(&mut self.io).poll_shutdown(cx))?))
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

    /// A writer that takes at most `step` bytes per write, to exercise partial writes.
    struct Trickle {
        written: Vec<u8>,
        step: usize,
    }

    impl AsyncWrite for Trickle {
        fn poll_write(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            let n = buf.len().min(self.step);
            self.written.extend_from_slice(&buf[..n]);
            Poll::Ready(Ok(n))
        }
        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
        fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    #[tokio::test]
    async fn written_frames_read_back_in_order_through_partial_writes() {
        use futures_util::SinkExt;
        let frames: Vec<Bytes> = [3usize, 0, COPY_AT_MOST + 1, 5, 200_000, 1]
            .iter()
            .enumerate()
            .map(|(i, &len)| Bytes::from(vec![i as u8; len]))
            .collect();
        for step in [1, 7, 4096, usize::MAX] {
            let mut writer = FrameWriter::new(Trickle {
                written: Vec::new(),
                step,
            });
            for frame in &frames {
                writer.feed(frame.clone().into()).await.unwrap();
            }
            // A frame in parts reads back as one.
            let parts = vec![frames[4].clone(), frames[0].clone(), frames[2].clone()];
            writer.feed(FrameBytes::Parts(parts.clone())).await.unwrap();
            writer.flush().await.unwrap();
            let mut src = BytesMut::from(&writer.io.written[..]);
            let mut codec = FrameCodec::new(usize::MAX);
            for frame in &frames {
                assert_eq!(
                    codec.decode(&mut src).unwrap().unwrap(),
                    frame[..],
                    "step {step}"
                );
            }
            let whole = FrameBytes::Parts(parts).into_contiguous();
            assert_eq!(codec.decode(&mut src).unwrap().unwrap(), whole[..]);
            assert!(src.is_empty());
        }
    }
}
