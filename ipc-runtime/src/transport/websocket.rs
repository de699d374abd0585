//! A WebSocket as a frame transport: one frame body per message, no length prefix. JSON frames
//! go out as text messages (a browser reads them as strings); binary-codec frames and chunk
//! frames always as binary messages; both kinds are accepted in. Main's endpoint (`Main::listen_websocket`, with its
//! token and `Origin` checks) and the client (`Renderer::connect_websocket`) build on this.

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::error::CapacityError;
use tokio_tungstenite::tungstenite::http::StatusCode;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Error as WsError, Message, Utf8Bytes};

use super::frames::{FrameLink, Limits, Reader, Reassembling, Writer};
use crate::error::IpcError;
use crate::util::held::Held;
use crate::wire::{FrameBytes, FramingError};

/// WebSocket limits for frames of at most `max_frame` bytes (a chunked message is several
/// WebSocket messages).
pub(crate) fn config(max_frame: usize) -> WebSocketConfig {
    WebSocketConfig::default()
        .max_message_size(Some(max_frame))
        .max_frame_size(Some(max_frame))
}

/// Opens a WebSocket to `url`, sending `origin` as the `Origin` header when given.
///
/// # Errors
///
/// `Forbidden` when the server refuses the upgrade with 403, `TooManyConnections` when it answers
/// 503, `Protocol` for a bad URL or origin, `Disconnected` otherwise.
pub(crate) async fn connect(
    url: &str,
    origin: Option<&str>,
    limits: Limits,
) -> Result<FrameLink, IpcError> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut request = url.into_client_request().map_err(|e| IpcError::Protocol {
        reason: format!("bad WebSocket URL: {e}"),
    })?;
    if let Some(origin) = origin {
        let value = origin.parse().map_err(|_| IpcError::Protocol {
            reason: format!("bad origin `{origin}`"),
        })?;
        request.headers_mut().insert("origin", value);
    }
    let (ws, _) =
        tokio_tungstenite::connect_async_with_config(request, Some(config(limits.max_frame)), true)
            .await
            .map_err(|error| match error {
                WsError::Http(response) if response.status() == StatusCode::FORBIDDEN => {
                    IpcError::Forbidden {
                        channel: String::new(),
                        reason: String::from_utf8_lossy(
                            response.body().as_deref().unwrap_or_default(),
                        )
                        .into_owned(),
                        rule: None,
                    }
                }
                // Main is at its connection limit (the body says which limit).
                WsError::Http(response) if response.status() == StatusCode::SERVICE_UNAVAILABLE => {
                    let body = response.body().as_deref().unwrap_or_default();
                    let limit = String::from_utf8_lossy(body)
                        .trim_start_matches("too many connections (limit ")
                        .trim_end_matches(')')
                        .parse()
                        .unwrap_or(0);
                    IpcError::TooManyConnections { limit }
                }
                other => IpcError::disconnected(format!("WebSocket connect failed: {other}")),
            })?;
    Ok(frame_link(
        ws,
        url.to_string(),
        limits.max_message,
        Held::default(),
        None,
    ))
}

/// An open WebSocket as a frame link: chunked messages are reassembled up to `max_message` bytes
/// (counted in `held`) and must be finished within `frame_timeout` of their first chunk.
pub(crate) fn frame_link<S>(
    ws: tokio_tungstenite::WebSocketStream<S>,
    peer: String,
    max_message: usize,
    held: Held,
    frame_timeout: Option<std::time::Duration>,
) -> FrameLink
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (sink, stream) = ws.split();
    let frames = Box::pin(
        stream
            .take_while(|message| std::future::ready(!matches!(message, Ok(Message::Close(_)))))
            .filter_map(|message| {
                std::future::ready(match message {
                    Ok(Message::Binary(bytes)) => Some(Ok(bytes)),
                    Ok(Message::Text(text)) => Some(Ok(Bytes::from(text))),
                    Ok(_) => None,
                    // The peer is told its frame was too large before the connection closes.
                    Err(WsError::Capacity(CapacityError::MessageTooLong { size, max_size })) => {
                        Some(Err(FramingError::TooLarge {
                            size,
                            limit: max_size,
                        }))
                    }
                    Err(WsError::Capacity(error)) => Some(Err(FramingError::Io(
                        std::io::Error::new(std::io::ErrorKind::InvalidData, error.to_string()),
                    ))),
                    Err(error) => Some(Err(FramingError::Io(std::io::Error::other(
                        error.to_string(),
                    )))),
                })
            }),
    );
    let reader: Reader =
        Box::pin(Reassembling::new(frames, max_message, held).with_frame_timeout(frame_timeout));
    let writer: Writer = Box::pin(WsWriter {
        sink,
        queued: VecDeque::new(),
    });
    FrameLink {
        reader,
        writer,
        peer,
        origin: None,
        vouched: crate::caller::Peer::Unknown,
    }
}

/// Main's and the renderer's frames as WebSocket messages. Frames started one after another (a
/// chunked message) wait in order here: the split WebSocket sink holds one message at a time and
/// takes the next only after `poll_ready`.
struct WsWriter<S> {
    sink: S,
    queued: VecDeque<Message>,
}

impl<S> WsWriter<S>
where
    S: futures_util::Sink<Message, Error = WsError> + Unpin,
{
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), FramingError>> {
        while !self.queued.is_empty() {
            ready!(self.sink.poll_ready_unpin(cx)).map_err(io_error)?;
            if let Some(message) = self.queued.pop_front() {
                self.sink.start_send_unpin(message).map_err(io_error)?;
            }
        }
        Poll::Ready(Ok(()))
    }
}

impl<S> futures_util::Sink<FrameBytes> for WsWriter<S>
where
    S: futures_util::Sink<Message, Error = WsError> + Unpin,
{
    type Error = FramingError;

    fn poll_ready(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), FramingError>> {
        ready!(self.poll_drain(cx))?;
        self.sink.poll_ready_unpin(cx).map_err(io_error)
    }

    fn start_send(mut self: Pin<&mut Self>, frame: FrameBytes) -> Result<(), FramingError> {
        let frame = frame.into_contiguous();
        // JSON frames are text, which a browser hands over as a string; everything else
        // (binary-codec frames, chunks) is binary, even when it happens to be UTF-8.
        let message = if frame.first() == Some(&b'{') {
            match Utf8Bytes::try_from(frame.clone()) {
                Ok(text) => Message::Text(text),
                Err(_) => Message::Binary(frame),
            }
        } else {
            Message::Binary(frame)
        };
        self.queued.push_back(message);
        Ok(())
    }

    fn poll_flush(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), FramingError>> {
        ready!(self.poll_drain(cx))?;
        self.sink.poll_flush_unpin(cx).map_err(io_error)
    }

    fn poll_close(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), FramingError>> {
        ready!(self.poll_drain(cx))?;
        self.sink.poll_close_unpin(cx).map_err(io_error)
    }
}

fn io_error(error: WsError) -> FramingError {
    FramingError::Io(std::io::Error::other(error.to_string()))
}
