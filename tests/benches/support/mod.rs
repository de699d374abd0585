//! What the benchmarks share: the raw socket floor's framing and a directory for sockets.

use std::io;
use std::path::PathBuf;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader, BufWriter};

/// The raw floor's frame header: the body's length (4 bytes) and an id (8 bytes), big-endian.
pub const HEADER: usize = 12;

/// Frames at least this large skip the write buffer: the header and the body go out in one
/// vectored write.
const DIRECT_WRITE: usize = 64 * 1024;

fn header(len: usize, id: u64) -> [u8; HEADER] {
    let mut header = [0u8; HEADER];
    header[..4].copy_from_slice(&u32::try_from(len).expect("frame too large").to_be_bytes());
    header[4..].copy_from_slice(&id.to_be_bytes());
    header
}

/// Writes one frame: small frames into the buffer (flushed by the caller), large ones straight to
/// the socket after what is buffered.
pub async fn write_frame<W: AsyncWrite + Unpin>(
    write: &mut BufWriter<W>,
    id: u64,
    body: &[u8],
) -> io::Result<()> {
    let head = header(body.len(), id);
    if body.len() < DIRECT_WRITE {
        write.write_all(&head).await?;
        return write.write_all(body).await;
    }
    write.flush().await?;
    write
        .get_mut()
        .write_all_buf(&mut Buf::chain(&head[..], body))
        .await
}

/// Reads one frame into a buffer of exactly its size (not zeroed first).
pub async fn read_frame<R: AsyncRead + Unpin>(read: &mut BufReader<R>) -> io::Result<(u64, Bytes)> {
    let mut head = [0u8; HEADER];
    read.read_exact(&mut head).await?;
    let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
    let id = u64::from_be_bytes(head[4..].try_into().expect("8 bytes"));
    let mut body = BytesMut::with_capacity(len);
    while body.len() < len {
        let want = len - body.len();
        if read.read_buf(&mut (&mut body).limit(want)).await? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
    }
    Ok((id, body.freeze()))
}

/// A fresh directory for a benchmark's sockets, removed when dropped.
pub struct SocketDir(PathBuf);

impl SocketDir {
    /// `<temp>/ipc-bench-<name>-<pid>`, emptied.
    pub fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("ipc-bench-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create the socket directory");
        SocketDir(dir)
    }

    /// A socket path in the directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for SocketDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
