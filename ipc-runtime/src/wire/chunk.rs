//! Messages larger than a frame travel as chunk frames (`docs/PROTOCOL.md` §1.1): a frame body
//! `0x00, id: u32 BE, total: u32 BE, offset: u32 BE, data`. The same in both codecs, so the
//! reassembled body is simply a frame of the connection's codec.
//!
//! Splitting never copies: a chunk is a header plus slices of the message's own buffers. The
//! receiving side reassembles into one buffer per message, which byte streams fill straight from
//! the socket (see `framing::FrameReader`) and which is reused once the previous message it held
//! is dropped.

use std::collections::HashMap;

use bytes::{BufMut, Bytes, BytesMut};

use super::framing::FrameBytes;
use super::growing::{Growing, KEEP_FOR_REUSE_AT_MOST};
use crate::util::held::{Held, Hold};
use tokio::time::Instant;

/// The first byte of a chunk frame (no frame of either codec starts with it).
pub(crate) const CHUNK_TAG: u8 = 0;

/// Tag, id, total, offset.
pub(crate) const HEADER_LEN: usize = 13;

/// Partial messages a receiver holds per connection, at most.
pub(crate) const MAX_PARTIAL: usize = 16;

/// Why a chunk cannot be taken (the stream cannot be trusted after it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ChunkError {
    #[error("a chunk frame of {0} bytes is shorter than its 13-byte header")]
    Short(usize),
    #[error("a chunk frame carries no data")]
    Empty,
    #[error("chunk of message {id} declares a total of 0 bytes")]
    ZeroTotal { id: u32 },
    #[error(
        "chunk of message {id} starts at offset {offset}, but {expected} bytes of it came so far"
    )]
    OutOfOrder { id: u32, offset: u32, expected: u32 },
    #[error(
        "chunk of message {id} declares a total of {total} bytes, the message started with {first}"
    )]
    TotalChanged { id: u32, total: u32, first: u32 },
    #[error("chunk of message {id} ends at {end}, past its total of {total} bytes")]
    PastTotal { id: u32, end: u64, total: u32 },
    #[error("more than {MAX_PARTIAL} messages are partial at once")]
    TooManyPartial,
    /// Holding this message would take the bytes held for unfinished messages over the limit.
    #[error(
        "main would hold {size} bytes for unfinished messages, above the limit of {limit} bytes"
    )]
    OverBudget { size: usize, limit: usize },
}

/// A chunk frame's header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ChunkHeader {
    pub(crate) id: u32,
    pub(crate) total: u32,
    pub(crate) offset: u32,
}

impl ChunkHeader {
    /// Reads the header at the start of a chunk frame body (`body[0]` is the tag).
    pub(crate) fn parse(body: &[u8]) -> Result<ChunkHeader, ChunkError> {
        if body.len() < HEADER_LEN {
            return Err(ChunkError::Short(body.len()));
        }
        let word =
            |at: usize| u32::from_be_bytes([body[at], body[at + 1], body[at + 2], body[at + 3]]);
        Ok(ChunkHeader {
            id: word(1),
            total: word(5),
            offset: word(9),
        })
    }

    pub(crate) fn encode(self) -> Bytes {
        let mut header = BytesMut::with_capacity(HEADER_LEN);
        header.put_u8(CHUNK_TAG);
        header.put_u32(self.id);
        header.put_u32(self.total);
        header.put_u32(self.offset);
        header.freeze()
    }
}

/// Splits an encoded message into chunk frames of at most `max_frame` bytes each (no copies).
/// `message` must be longer than `max_frame` and at most `u32::MAX` bytes long.
pub(crate) fn split(message: FrameBytes, id: u32, max_frame: usize) -> Vec<FrameBytes> {
    let parts = match message {
        FrameBytes::Whole(bytes) => vec![Bytes::from(bytes)],
        FrameBytes::Parts(parts) => parts,
    };
    let total: usize = parts.iter().map(Bytes::len).sum();
    let room = max_frame.saturating_sub(HEADER_LEN).max(1);
    let mut chunks = Vec::with_capacity(total.div_ceil(room));
    let mut parts = parts.into_iter().filter(|p| !p.is_empty());
    let mut current = parts.next();
    let mut offset = 0usize;
    while offset < total {
        let header = ChunkHeader {
            id,
            total: total as u32,
            offset: offset as u32,
        };
        let mut frame = vec![header.encode()];
        let mut want = room.min(total - offset);
        while want > 0 {
            let Some(part) = current.as_mut() else {
                break;
            };
            let take = want.min(part.len());
            frame.push(part.split_to(take));
            want -= take;
            offset += take;
            if part.is_empty() {
                current = parts.next();
            }
        }
        chunks.push(FrameBytes::Parts(frame));
    }
    chunks
}

/// Where a chunk's data goes.
pub(crate) enum Target<'a> {
    /// Append it here.
    Buffer(Growing<'a>),
    /// The message was refused (too large): read past the data.
    Skip,
}

/// What a finished chunk completed.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Assembled {
    /// A whole message body.
    Message(Bytes),
    /// A message above the size limit, now skipped to its end.
    Refused { size: usize, limit: usize },
}

/// The partial messages of one connection's incoming side.
pub(crate) struct Reassembly {
    partial: HashMap<u32, Partial>,
    max_message: usize,
    /// Where the bytes of partial messages are counted.
    held: Held,
    /// An emptied message buffer, kept so that the next message can reuse its memory once the
    /// message it held is dropped (fresh memory for every large message costs page faults).
    spare: BytesMut,
}

struct Partial {
    total: u32,
    received: u32,
    /// When its first chunk came (a message must be finished in time).
    started: Instant,
    /// `None` while a refused message is skipped.
    data: Option<BytesMut>,
    /// The capacity of `data`, counted while the message is partial.
    hold: Hold,
}

impl Reassembly {
    pub(crate) fn new(max_message: usize, held: Held) -> Self {
        Reassembly {
            partial: HashMap::new(),
            max_message,
            held,
            spare: BytesMut::new(),
        }
    }

    /// Starts (or continues) the message of a chunk whose data is `len` bytes long, and says
    /// where the data goes.
    pub(crate) fn begin(
        &mut self,
        header: ChunkHeader,
        len: usize,
    ) -> Result<Target<'_>, ChunkError> {
        let ChunkHeader { id, total, offset } = header;
        if len == 0 {
            return Err(ChunkError::Empty);
        }
        if total == 0 {
            return Err(ChunkError::ZeroTotal { id });
        }
        let end = u64::from(offset) + len as u64;
        if end > u64::from(total) {
            return Err(ChunkError::PastTotal { id, end, total });
        }
        if !self.partial.contains_key(&id) {
            if offset != 0 {
                return Err(ChunkError::OutOfOrder {
                    id,
                    offset,
                    expected: 0,
                });
            }
            if self.partial.len() >= MAX_PARTIAL {
                return Err(ChunkError::TooManyPartial);
            }
            // Nothing is reserved for the announced total: the buffer grows as chunks arrive.
            let data = (total as usize <= self.max_message).then(|| {
                let mut data = std::mem::take(&mut self.spare);
                data.clear();
                data
            });
            self.partial.insert(
                id,
                Partial {
                    total,
                    received: 0,
                    started: Instant::now(),
                    data,
                    hold: self.held.empty_hold(),
                },
            );
        }
        let partial = self.partial.get_mut(&id).ok_or(ChunkError::Empty)?;
        if partial.total != total {
            return Err(ChunkError::TotalChanged {
                id,
                total,
                first: partial.total,
            });
        }
        if partial.received != offset {
            return Err(ChunkError::OutOfOrder {
                id,
                offset,
                expected: partial.received,
            });
        }
        partial.received += len as u32;
        Ok(match &mut partial.data {
            Some(data) => Target::Buffer(Growing {
                buffer: data,
                hold: &mut partial.hold,
                total: partial.total as usize,
            }),
            None => Target::Skip,
        })
    }

    /// When the oldest partial message began, if there is one.
    pub(crate) fn oldest(&self) -> Option<Instant> {
        self.partial.values().map(|p| p.started).min()
    }

    /// Where the data of message `id` goes, with the hold of its capacity (`None` while a
    /// refused message is skipped).
    pub(crate) fn buffer_of(&mut self, id: u32) -> Option<Growing<'_>> {
        let partial = self.partial.get_mut(&id)?;
        Some(Growing {
            buffer: partial.data.as_mut()?,
            hold: &mut partial.hold,
            total: partial.total as usize,
        })
    }

    /// The chunk of message `id` begun last is all in: the message, if that completed it.
    pub(crate) fn end(&mut self, id: u32) -> Option<Assembled> {
        let partial = self.partial.get(&id)?;
        if partial.received < partial.total {
            return None;
        }
        let partial = self.partial.remove(&id)?;
        Some(match partial.data {
            Some(mut data) => {
                let message = data.split().freeze();
                if message.len() <= KEEP_FOR_REUSE_AT_MOST {
                    self.spare = data;
                }
                Assembled::Message(message)
            }
            None => Assembled::Refused {
                size: partial.total as usize,
                limit: self.max_message,
            },
        })
    }

    /// Takes one whole chunk frame (from a message transport, where frames arrive whole).
    pub(crate) fn accept(&mut self, frame: &[u8]) -> Result<Option<Assembled>, ChunkError> {
        let header = ChunkHeader::parse(frame)?;
        let data = &frame[HEADER_LEN..];
        if let Target::Buffer(mut buffer) = self.begin(header, data.len())? {
            buffer.append(data).map_err(|over| ChunkError::OverBudget {
                size: over.size,
                limit: over.limit,
            })?;
        }
        Ok(self.end(header.id))
    }

    /// Bytes held for partial messages (what a peer that never finishes them costs).
    #[cfg(test)]
    pub(crate) fn held(&self) -> usize {
        self.partial
            .values()
            .map(|p| p.data.as_ref().map_or(0, BytesMut::capacity))
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i % 251) as u8).collect()
    }

    fn frames_of(message: &[u8], id: u32, max_frame: usize) -> Vec<Bytes> {
        // Split from parts of odd sizes, to cross part boundaries inside chunks.
        let parts: Vec<Bytes> = message.chunks(777).map(Bytes::copy_from_slice).collect();
        split(FrameBytes::Parts(parts), id, max_frame)
            .into_iter()
            .map(FrameBytes::into_contiguous)
            .collect()
    }

    #[test]
    fn split_and_reassemble_round_trip() {
        for (len, max_frame) in [(100, 20), (4096, 1000), (10_001, 64), (14, 14)] {
            let original = message(len);
            let frames = frames_of(&original, 7, max_frame);
            assert!(
                frames
                    .iter()
                    .all(|f| f.len() <= max_frame.max(HEADER_LEN + 1))
            );
            let mut reassembly = Reassembly::new(1 << 20, Held::default());
            let mut out = None;
            for (i, frame) in frames.iter().enumerate() {
                let done = reassembly.accept(frame).unwrap();
                assert_eq!(done.is_some(), i == frames.len() - 1);
                out = done;
            }
            assert_eq!(out, Some(Assembled::Message(Bytes::from(original))));
            assert_eq!(reassembly.held(), 0);
        }
    }

    #[test]
    fn interleaved_messages_complete_independently() {
        let a = message(300);
        let b = message(500);
        let fa = frames_of(&a, 1, 100);
        let fb = frames_of(&b, 2, 100);
        let mut reassembly = Reassembly::new(1 << 20, Held::default());
        let mut done = Vec::new();
        for i in 0..fa.len().max(fb.len()) {
            for frames in [&fa, &fb] {
                if let Some(frame) = frames.get(i) {
                    if let Some(m) = reassembly.accept(frame).unwrap() {
                        done.push(m);
                    }
                }
            }
        }
        assert_eq!(
            done,
            vec![
                Assembled::Message(Bytes::from(a)),
                Assembled::Message(Bytes::from(b))
            ]
        );
    }

    #[test]
    fn bad_chunks_are_named() {
        let frames = frames_of(&message(50), 3, 30);
        let mut r = Reassembly::new(1 << 20, Held::default());
        // A message that never started.
        assert!(matches!(
            r.accept(&frames[1]),
            Err(ChunkError::OutOfOrder {
                id: 3,
                expected: 0,
                ..
            })
        ));
        // Out of order within a message.
        r.accept(&frames[0]).unwrap();
        assert!(matches!(
            r.accept(&frames[0]),
            Err(ChunkError::OutOfOrder { .. })
        ));
        assert!(matches!(r.accept(&[0, 0, 0]), Err(ChunkError::Short(3))));
        let header = |total: u32, offset: u32| {
            let mut f = ChunkHeader {
                id: 9,
                total,
                offset,
            }
            .encode()
            .to_vec();
            f.extend_from_slice(&[1, 2, 3]);
            f
        };
        assert!(matches!(
            r.accept(&header(0, 0)),
            Err(ChunkError::ZeroTotal { id: 9 })
        ));
        assert!(matches!(
            r.accept(&header(2, 0)),
            Err(ChunkError::PastTotal { .. })
        ));
        r.accept(&header(10, 0)).unwrap();
        assert!(matches!(
            r.accept(&header(11, 3)),
            Err(ChunkError::TotalChanged { .. })
        ));
    }

    #[test]
    fn too_large_messages_are_skipped_without_holding_them() {
        let frames = frames_of(&message(100), 4, 30);
        let mut r = Reassembly::new(50, Held::default());
        let mut last = None;
        for frame in &frames {
            last = r.accept(frame).unwrap();
            assert_eq!(r.held(), 0);
        }
        assert_eq!(
            last,
            Some(Assembled::Refused {
                size: 100,
                limit: 50
            })
        );
    }

    #[test]
    fn partial_messages_are_bounded() {
        let mut r = Reassembly::new(1 << 20, Held::default());
        for id in 0..MAX_PARTIAL as u32 {
            let frames = frames_of(&message(40), id, 20);
            r.accept(&frames[0]).unwrap();
        }
        let frames = frames_of(&message(40), 99, 20);
        assert!(matches!(
            r.accept(&frames[0]),
            Err(ChunkError::TooManyPartial)
        ));
    }
}
