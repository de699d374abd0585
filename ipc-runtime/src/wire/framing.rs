//! Length-prefixed framing for byte streams: a 4-byte big-endian length, then the frame.
//!
//! Reading is [`FrameReader`]: the announced length is checked before any of the frame is
//! buffered, so an oversized frame is refused with its size (and no memory is spent on it);
//! chunk frames are reassembled into messages as they are read.
//!
//! Writing is [`FrameWriter`]: tokio-util's `FramedWrite` copies every frame into its buffer,
//! which for a 1 MiB payload was a tenth of the round trip. Small frames are still gathered in
//! one buffer (a burst goes out in one write); large ones are written from their own memory.

use std::collections::VecDeque;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::{Buf, BufMut, Bytes, BytesMut};
use futures_util::{Sink, Stream};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_util::io::poll_read_buf;

use super::chunk::{Assembled, CHUNK_TAG, ChunkError, ChunkHeader, HEADER_LEN, Reassembly};
use super::growing::{Growing, KEEP_FOR_REUSE_AT_MOST};
use crate::util::held::{Held, Hold, OverLimit};

impl From<ChunkError> for FramingError {
    fn from(error: ChunkError) -> Self {
        match error {
            ChunkError::OverBudget { size, limit } => FramingError::OverBudget { size, limit },
            other => FramingError::Chunk(other),
        }
    }
}

impl From<OverLimit> for FramingError {
    fn from(over: OverLimit) -> Self {
        FramingError::OverBudget {
            size: over.size,
            limit: over.limit,
        }
    }
}

/// Why a stream stopped yielding messages (all but `MessageTooLarge` end the stream: it cannot
/// be resynchronized).
#[derive(Debug, thiserror::Error)]
pub(crate) enum FramingError {
    #[error("frame of {size} bytes exceeds the limit of {limit} bytes")]
    TooLarge { size: usize, limit: usize },
    #[error(
        "the peer wrote text where a frame belongs ({text:?}): stdout carries the protocol, so a \
         renderer on stdio must write its logs to stderr"
    )]
    Text { text: String },
    /// A chunked message above the limit; its chunks were skipped and the stream goes on.
    #[error("message of {size} bytes exceeds the limit of {limit} bytes")]
    MessageTooLarge { size: usize, limit: usize },
    #[error("malformed chunk: {0}")]
    Chunk(ChunkError),
    /// Holding the frame or message begun would take main over its limit for unfinished ones.
    #[error("{size} bytes would be held for unfinished messages, above the limit of {limit} bytes")]
    OverBudget { size: usize, limit: usize },
    /// A frame (or chunked message) begun was not finished in time.
    #[error("a frame stalled: it was not finished within {after:?} of its start")]
    Stalled { after: std::time::Duration },
    #[error("truncated frame: the stream ended inside a frame")]
    Truncated,
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
}

/// Frame bodies at least this long are read straight into their own buffer (not through the
/// shared read buffer, which would copy them).
const DIRECT_AT_LEAST: usize = 64 * 1024;

/// How much the shared read buffer asks the stream for at a time.
const READ_AHEAD: usize = 16 * 1024;

/// The least room the shared read buffer offers a read before it asks for more memory.
const READ_AT_LEAST: usize = 4 * 1024;

/// Reads the messages of a byte stream: length-prefixed frames, chunk frames reassembled
/// (`chunk`). Small frames come out of one read buffer (many per read); large frame bodies and
/// chunk data are read straight into the buffer of their message, which is reused once the
/// message it held is dropped.
pub(crate) struct FrameReader<R> {
    io: R,
    max_frame: usize,
    /// Bytes read but not yet taken (prefixes, small frames, the start of large ones).
    buffer: BytesMut,
    /// The buffer of large whole frames (reused: see `chunk::Reassembly::spare`).
    large: BytesMut,
    chunks: Reassembly,
    state: ReadState,
    held: Held,
    /// The bytes of the large frame being read, counted while it is partial.
    large_hold: Option<Hold>,
    /// When the frame being read began (set only once it had to wait for more bytes).
    frame_started: Option<tokio::time::Instant>,
    stall: StallTimer,
}

/// The deadline of what a peer has begun and not finished (a frame, chunked messages): armed
/// only while something begun waits for more bytes, so frames that come whole never touch a
/// Tokio timer.
pub(crate) struct StallTimer {
    /// How long a frame (or chunked message) may take once begun; `None`: as long as it takes.
    timeout: Option<std::time::Duration>,
    deadline: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl StallTimer {
    pub(crate) fn new(timeout: Option<std::time::Duration>) -> Self {
        StallTimer {
            timeout,
            deadline: None,
        }
    }

    /// Called when reading has to wait, with when the oldest unfinished thing began: `Ready`
    /// once it is older than the timeout.
    pub(crate) fn poll(
        &mut self,
        cx: &mut Context<'_>,
        oldest: Option<tokio::time::Instant>,
    ) -> Poll<FramingError> {
        let (Some(timeout), Some(started)) = (self.timeout, oldest) else {
            self.deadline = None;
            return Poll::Pending;
        };
        let at = started + timeout;
        match &mut self.deadline {
            Some(sleep) if sleep.deadline() == at => {}
            slot => *slot = Some(Box::pin(tokio::time::sleep_until(at))),
        }
        match self.deadline.as_mut().map(|sleep| sleep.as_mut().poll(cx)) {
            Some(Poll::Ready(())) => Poll::Ready(FramingError::Stalled { after: timeout }),
            _ => Poll::Pending,
        }
    }
}

#[derive(Clone, Copy)]
enum ReadState {
    /// Waiting for a length prefix.
    Prefix,
    /// A frame of `len` bytes follows; its first byte says whether it is a chunk.
    Start { len: usize },
    /// A small frame, read through `buffer`.
    Body { len: usize },
    /// A large frame, read into `large`.
    Large { len: usize },
    /// A chunk frame's header, then `len - HEADER_LEN` bytes of data.
    ChunkHeader { len: usize },
    /// Chunk data of message `id` still to read.
    ChunkData { id: u32, remaining: usize },
}

impl<R: AsyncRead + Unpin> FrameReader<R> {
    /// A reader of frames up to `max_frame` bytes and messages up to `max_message` bytes, that
    /// counts the bytes of messages it holds partial in `held`.
    pub(crate) fn new(io: R, max_frame: usize, max_message: usize, held: Held) -> Self {
        FrameReader {
            io,
            max_frame,
            buffer: BytesMut::with_capacity(READ_AHEAD),
            large: BytesMut::new(),
            chunks: Reassembly::new(max_message, held.clone()),
            state: ReadState::Prefix,
            held,
            large_hold: None,
            frame_started: None,
            stall: StallTimer::new(None),
        }
    }

    /// Fails the stream when a frame or chunked message begun is not finished within `timeout`
    /// of its start (a peer that sends half a frame and waits holds nothing for long).
    pub(crate) fn with_frame_timeout(mut self, timeout: Option<std::time::Duration>) -> Self {
        self.stall = StallTimer::new(timeout);
        self
    }

    /// Whether something begun waits for more bytes: a frame in the middle, or partial messages.
    fn partway(&self) -> bool {
        !matches!(self.state, ReadState::Prefix) || !self.buffer.is_empty()
    }

    /// Called when reading has to wait: the deadline of what is begun.
    fn poll_stall(&mut self, cx: &mut Context<'_>) -> Poll<FramingError> {
        if self.partway() {
            self.frame_started
                .get_or_insert_with(tokio::time::Instant::now);
        } else {
            self.frame_started = None;
        }
        let oldest = match (self.frame_started, self.chunks.oldest()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.stall.poll(cx, oldest)
    }

    /// Reads more into `buffer` until it holds `want` bytes. `Ok(false)`: the stream ended first.
    fn poll_fill(&mut self, cx: &mut Context<'_>, want: usize) -> Poll<io::Result<bool>> {
        while self.buffer.len() < want {
            let missing = want - self.buffer.len();
            // Frames split off the buffer share its memory until they are dropped (a reply
            // waits in its call's slot while the next frame is read): reading on into the
            // space left keeps one allocation for many frames; a new one is made only when
            // little is left.
            if self.buffer.capacity() - self.buffer.len() < missing.max(READ_AT_LEAST) {
                self.buffer.reserve(missing.max(READ_AHEAD));
            }
            if ready!(poll_read_buf(Pin::new(&mut self.io), cx, &mut self.buffer))? == 0 {
                return Poll::Ready(Ok(false));
            }
        }
        Poll::Ready(Ok(true))
    }

    /// Takes the next `n` bytes of a frame body into `into` (or drops them): first what `buffer`
    /// holds already, then straight from the stream. Progress is kept in `n` across polls;
    /// `Ok(false)`: the stream ended first. `into` grows as bytes arrive (`wire::growing`).
    fn poll_take(
        io: &mut R,
        buffer: &mut BytesMut,
        cx: &mut Context<'_>,
        mut into: Option<Growing<'_>>,
        n: &mut usize,
    ) -> Poll<Result<bool, FramingError>> {
        let ahead = (*n).min(buffer.len());
        if ahead > 0 {
            let taken = buffer.split_to(ahead);
            if let Some(into) = into.as_mut() {
                into.append(&taken)?;
            }
            *n -= ahead;
        }
        let mut scratch = BytesMut::new();
        while *n > 0 {
            let read = match into.as_mut() {
                Some(into) => {
                    into.make_room()?;
                    let room = (*n).min(into.buffer.capacity() - into.buffer.len());
                    ready!(poll_read_buf(
                        Pin::new(&mut *io),
                        cx,
                        &mut (&mut *into.buffer).limit(room)
                    ))?
                }
                None => {
                    scratch.clear();
                    scratch.reserve((*n).min(READ_AHEAD));
                    let mut limited = (&mut scratch).limit((*n).min(READ_AHEAD));
                    ready!(poll_read_buf(Pin::new(&mut *io), cx, &mut limited))?
                }
            };
            if read == 0 {
                return Poll::Ready(Ok(false));
            }
            *n -= read;
        }
        Poll::Ready(Ok(true))
    }

    fn poll_message(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes, FramingError>>> {
        loop {
            match self.state {
                ReadState::Prefix => {
                    if !ready!(self.poll_fill(cx, 4))? {
                        return Poll::Ready(if self.buffer.is_empty() {
                            None
                        } else {
                            Some(Err(FramingError::Truncated))
                        });
                    }
                    let prefix = [
                        self.buffer[0],
                        self.buffer[1],
                        self.buffer[2],
                        self.buffer[3],
                    ];
                    let len = u32::from_be_bytes(prefix) as usize;
                    if len > self.max_frame {
                        return Poll::Ready(Some(Err(too_large_or_text(
                            &self.buffer,
                            len,
                            self.max_frame,
                        ))));
                    }
                    self.buffer.advance(4);
                    self.state = ReadState::Start { len };
                }
                ReadState::Start { len } => {
                    if len == 0 {
                        self.state = ReadState::Prefix;
                        return Poll::Ready(Some(Ok(Bytes::new())));
                    }
                    if !ready!(self.poll_fill(cx, 1))? {
                        return Poll::Ready(Some(Err(FramingError::Truncated)));
                    }
                    self.state = if self.buffer[0] == CHUNK_TAG {
                        ReadState::ChunkHeader { len }
                    } else if len < DIRECT_AT_LEAST {
                        ReadState::Body { len }
                    } else {
                        // Nothing is reserved for the announced length: `large` grows as the
                        // frame's bytes arrive.
                        self.large_hold = Some(self.held.empty_hold());
                        self.large.clear();
                        ReadState::Large { len }
                    };
                }
                ReadState::Body { len } => {
                    if !ready!(self.poll_fill(cx, len))? {
                        return Poll::Ready(Some(Err(FramingError::Truncated)));
                    }
                    self.state = ReadState::Prefix;
                    return Poll::Ready(Some(Ok(self.buffer.split_to(len).freeze())));
                }
                ReadState::Large { len } => {
                    let mut rest = len - self.large.len();
                    let hold = self
                        .large_hold
                        .get_or_insert_with(|| self.held.empty_hold());
                    let done = ready!(Self::poll_take(
                        &mut self.io,
                        &mut self.buffer,
                        cx,
                        Some(Growing {
                            buffer: &mut self.large,
                            hold,
                            total: len,
                        }),
                        &mut rest,
                    ))?;
                    if !done {
                        return Poll::Ready(Some(Err(FramingError::Truncated)));
                    }
                    self.state = ReadState::Prefix;
                    self.large_hold = None;
                    let frame = self.large.split().freeze();
                    if frame.len() > KEEP_FOR_REUSE_AT_MOST {
                        // Not kept for the next frame: the memory goes when the frame does.
                        self.large = BytesMut::new();
                    }
                    return Poll::Ready(Some(Ok(frame)));
                }
                ReadState::ChunkHeader { len } => {
                    if len < HEADER_LEN {
                        return Poll::Ready(Some(Err(ChunkError::Short(len).into())));
                    }
                    if !ready!(self.poll_fill(cx, HEADER_LEN))? {
                        return Poll::Ready(Some(Err(FramingError::Truncated)));
                    }
                    let header = ChunkHeader::parse(&self.buffer[..HEADER_LEN])?;
                    self.buffer.advance(HEADER_LEN);
                    let data = len - HEADER_LEN;
                    self.chunks.begin(header, data)?;
                    self.state = ReadState::ChunkData {
                        id: header.id,
                        remaining: data,
                    };
                }
                ReadState::ChunkData { id, mut remaining } => {
                    let into = self.chunks.buffer_of(id);
                    let done =
                        Self::poll_take(&mut self.io, &mut self.buffer, cx, into, &mut remaining);
                    self.state = ReadState::ChunkData { id, remaining };
                    if !ready!(done)? {
                        return Poll::Ready(Some(Err(FramingError::Truncated)));
                    }
                    self.state = ReadState::Prefix;
                    match self.chunks.end(id) {
                        None => {}
                        Some(Assembled::Message(message)) => return Poll::Ready(Some(Ok(message))),
                        Some(Assembled::Refused { size, limit }) => {
                            return Poll::Ready(Some(Err(FramingError::MessageTooLarge {
                                size,
                                limit,
                            })));
                        }
                    }
                }
            }
        }
    }
}

impl<R: AsyncRead + Unpin> Stream for FrameReader<R> {
    type Item = Result<Bytes, FramingError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        match this.poll_message(cx) {
            Poll::Pending => this.poll_stall(cx).map(|stalled| Some(Err(stalled))),
            Poll::Ready(item) => {
                // The next frame's time starts when it has to wait.
                this.frame_started = None;
                Poll::Ready(item)
            }
        }
    }
}

/// The error for a length prefix above the limit: a peer that wrote text where a frame belongs
/// (a renderer printing to the stdout that carries the protocol) is told so.
fn too_large_or_text(buffered: &[u8], size: usize, limit: usize) -> FramingError {
    let printable = |b: &u8| b.is_ascii_graphic() || matches!(b, b' ' | b'\t' | b'\n' | b'\r');
    if buffered.len() >= 4 && buffered[..4].iter().all(printable) {
        let text: String = buffered
            .iter()
            .take(60)
            .take_while(|b| printable(b))
            .map(|&b| char::from(b))
            .collect();
        return FramingError::Text { text };
    }
    FramingError::TooLarge { size, limit }
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
                this.buffer.put_slice(&bytes);
                super::frame::reuse(bytes);
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
    use futures_util::{SinkExt, StreamExt};

    use super::*;
    use crate::wire::chunk;

    /// A reader that hands out at most `step` bytes per read, to exercise partial reads.
    struct Trickle {
        data: Vec<u8>,
        at: usize,
        step: usize,
    }

    impl AsyncRead for Trickle {
        fn poll_read(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &mut tokio::io::ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            let n = buf
                .remaining()
                .min(self.step)
                .min(self.data.len() - self.at);
            let at = self.at;
            buf.put_slice(&self.data[at..at + n]);
            self.at += n;
            Poll::Ready(Ok(()))
        }
    }

    fn reader(data: Vec<u8>, step: usize, max_frame: usize) -> FrameReader<Trickle> {
        FrameReader::new(
            Trickle { data, at: 0, step },
            max_frame,
            1 << 24,
            Held::default(),
        )
    }

    async fn read_all(mut reader: FrameReader<Trickle>) -> Vec<Result<Bytes, String>> {
        let mut out = Vec::new();
        while let Some(item) = reader.next().await {
            let end = item.is_err();
            out.push(item.map_err(|e| e.to_string()));
            if end {
                break;
            }
        }
        out
    }

    #[tokio::test]
    async fn refuses_oversized_frames_from_the_header_alone() {
        let out = read_all(reader(vec![0, 0, 0, 9, 1, 2], 64, 8)).await;
        assert_eq!(
            out,
            vec![Err("frame of 9 bytes exceeds the limit of 8 bytes".into())]
        );
    }

    #[tokio::test]
    async fn truncated_frame_at_eof() {
        for data in [vec![0u8, 0, 0, 4, 1, 2], vec![0, 0], vec![0, 0, 0, 200, 9]] {
            let out = read_all(reader(data, 1, 1024)).await;
            assert!(
                matches!(out.last(), Some(Err(e)) if e.contains("truncated")),
                "{out:?}"
            );
        }
        assert!(read_all(reader(Vec::new(), 1, 8)).await.is_empty());
    }

    #[tokio::test]
    async fn text_where_a_frame_belongs_is_named() {
        let out = read_all(reader(b"debug: starting up\n".to_vec(), 64, 1024)).await;
        let [Err(error)] = &out[..] else {
            panic!("{out:?}")
        };
        assert!(error.contains("debug: starting up"), "{error}");
        assert!(error.contains("stderr"), "{error}");
    }

    /// A writer that takes at most `step` bytes per write, to exercise partial writes.
    struct Sink {
        written: Vec<u8>,
        step: usize,
    }

    impl AsyncWrite for Sink {
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

    /// Lengths and checksums: readable when a comparison fails.
    fn summary(frames: &[Result<Bytes, String>]) -> Vec<Result<(usize, u64), String>> {
        frames
            .iter()
            .map(|f| {
                f.clone().map(|b| {
                    let sum = b.iter().enumerate().fold(0u64, |acc, (i, &x)| {
                        acc.wrapping_mul(31).wrapping_add(x as u64 ^ i as u64)
                    });
                    (b.len(), sum)
                })
            })
            .collect()
    }

    #[tokio::test]
    async fn written_frames_and_chunked_messages_read_back_in_order() {
        let frames: Vec<Bytes> = [3usize, 0, COPY_AT_MOST + 1, 5, 200_000, 1]
            .iter()
            .enumerate()
            .map(|(i, &len)| Bytes::from((0..len).map(|j| (i + j) as u8 | 1).collect::<Vec<_>>()))
            .collect();
        let big = Bytes::from(
            (0..300_000)
                .map(|j| (j % 250) as u8 + 1)
                .collect::<Vec<_>>(),
        );
        for step in [1, 7, 4096, usize::MAX] {
            let mut writer = FrameWriter::new(Sink {
                written: Vec::new(),
                step,
            });
            for frame in &frames {
                writer.feed(frame.clone().into()).await.unwrap();
            }
            // A frame in parts reads back as one.
            let parts = vec![frames[4].clone(), frames[0].clone(), frames[2].clone()];
            writer.feed(FrameBytes::Parts(parts.clone())).await.unwrap();
            // A message longer than a frame goes in chunks, interleaved with a small frame.
            let mut chunks = chunk::split(big.clone().into(), 5, 100_000).into_iter();
            writer.feed(chunks.next().unwrap()).await.unwrap();
            writer.feed(frames[3].clone().into()).await.unwrap();
            for chunk in chunks {
                writer.feed(chunk).await.unwrap();
            }
            writer.flush().await.unwrap();
            let read_step = if step == usize::MAX {
                1 << 20
            } else {
                step.max(3)
            };
            let out = read_all(reader(writer.io.written.clone(), read_step, 250_000)).await;
            let mut expected: Vec<Result<Bytes, String>> = frames.iter().cloned().map(Ok).collect();
            expected.push(Ok(FrameBytes::Parts(parts.clone()).into_contiguous()));
            expected.push(Ok(frames[3].clone()));
            expected.push(Ok(big.clone()));
            assert_eq!(summary(&out), summary(&expected), "step {step}");
        }
    }

    #[tokio::test]
    async fn large_frame_buffers_are_reused_once_dropped() {
        let mut writer = FrameWriter::new(Sink {
            written: Vec::new(),
            step: usize::MAX,
        });
        for i in 0..3u8 {
            writer
                .feed(Bytes::from(vec![i + 1; 1 << 20]).into())
                .await
                .unwrap();
        }
        writer.flush().await.unwrap();
        let mut frames = reader(writer.io.written.clone(), 1 << 16, 1 << 21);
        let first = frames.next().await.unwrap().unwrap();
        let at = first.as_ptr();
        drop(first);
        let second = frames.next().await.unwrap().unwrap();
        assert_eq!(second.as_ptr(), at, "the dropped frame's memory is reused");
        // Still held: the next frame gets memory of its own.
        let third = frames.next().await.unwrap().unwrap();
        assert_ne!(third.as_ptr(), second.as_ptr());
        assert!(third.iter().all(|&b| b == 3) && second.iter().all(|&b| b == 2));
    }

    /// A peer that announces a large frame or message and sends little of it makes main hold
    /// (and allocate) about what it sent, not what it announced.
    #[tokio::test]
    async fn announced_lengths_allocate_nothing_until_bytes_come() {
        let held = Held::with_limit(usize::MAX);
        let (mut peer, main_end) = tokio::io::duplex(1 << 20);
        let mut reader = FrameReader::new(main_end, 4 << 20, 64 << 20, held.clone());
        // A frame of 4 MiB announced, 100 bytes of it sent.
        let mut bytes = (4u32 << 20).to_be_bytes().to_vec();
        bytes.extend_from_slice(&[b'{'; 100]);
        tokio::io::AsyncWriteExt::write_all(&mut peer, &bytes)
            .await
            .unwrap();
        let polled = futures_util::poll!(reader.next());
        assert!(polled.is_pending());
        // At most twice what was sent, or one step of growth.
        assert!(
            held.bytes() <= 2 * 100 + super::super::growing::GROW_AT_LEAST,
            "{} bytes held",
            held.bytes()
        );
        drop(reader);
        assert_eq!(held.bytes(), 0);

        // Sixteen chunked messages of 64 MiB announced, one byte of each sent.
        let (mut peer, main_end) = tokio::io::duplex(1 << 20);
        let mut reader = FrameReader::new(main_end, 4 << 20, 64 << 20, held.clone());
        for id in 0..16u32 {
            let header = chunk::ChunkHeader {
                id,
                total: 64 << 20,
                offset: 0,
            };
            let mut body = header.encode().to_vec();
            body.push(b'{');
            let mut frame = u32::try_from(body.len()).unwrap().to_be_bytes().to_vec();
            frame.extend_from_slice(&body);
            tokio::io::AsyncWriteExt::write_all(&mut peer, &frame)
                .await
                .unwrap();
        }
        let polled = futures_util::poll!(reader.next());
        assert!(polled.is_pending());
        assert!(
            held.bytes() <= 16 * (2 + super::super::growing::GROW_AT_LEAST),
            "{} bytes held for 16 bytes sent",
            held.bytes()
        );
        drop(reader);
        assert_eq!(held.bytes(), 0);
    }
}
