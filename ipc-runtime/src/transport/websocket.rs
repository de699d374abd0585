//! A WebSocket as a frame transport: one frame body per message, no length prefix. JSON frames
//! go out as text messages (a browser reads them as strings), binary-codec frames as binary
//! messages; both kinds are accepted in. Main's endpoint (`Main::listen_websocket`, with its
//! token and `Origin` checks) and the client (`Renderer::connect_websocket`) build on this.

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::http::StatusCode;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Error as WsError, Message, Utf8Bytes};

use super::frames::{FrameLink, Reader, Writer};
use crate::error::IpcError;
use crate::wire::{FrameBytes, FramingError};

/// WebSocket limits for frames of at most `max_frame` bytes.
pub(crate) fn config(max_frame: usize) -> WebSocketConfig {
    WebSocketConfig::default()
        .max_message_size(Some(max_frame))
        .max_frame_size(Some(max_frame))
}

/// Opens a WebSocket to `url`, sending `origin` as the `Origin` header when given.
///
/// # Errors
///
/// `Forbidden` when the server refuses the upgrade with 403, `Protocol` for a bad URL or origin,
/// `Disconnected` otherwise.
pub(crate) async fn connect(
    url: &str,
    origin: Option<&str>,
    max_frame: usize,
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
        tokio_tungstenite::connect_async_with_config(request, Some(config(max_frame)), true)
            .await
            .map_err(|error| match error {
                WsError::Http(response) if response.status() == StatusCode::FORBIDDEN => {
                    IpcError::Forbidden {
                        channel: String::new(),
                        reason: String::from_utf8_lossy(
                            response.body().as_deref().unwrap_or_default(),
                        )
                        .into_owned(),
                    }
                }
                other => IpcError::disconnected(format!("WebSocket connect failed: {other}")),
            })?;
    Ok(frame_link(ws, url.to_string()))
}

/// An open WebSocket as a frame link.
pub(crate) fn frame_link<S>(ws: tokio_tungstenite::WebSocketStream<S>, peer: String) -> FrameLink
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (sink, stream) = ws.split();
    let reader: Reader = Box::pin(
        stream
            .take_while(|message| std::future::ready(!matches!(message, Ok(Message::Close(_)))))
            .filter_map(|message| {
                std::future::ready(match message {
                    Ok(Message::Binary(bytes)) => Some(Ok(bytes)),
                    Ok(Message::Text(text)) => Some(Ok(Bytes::from(text))),
                    Ok(_) => None,
                    Err(WsError::Capacity(error)) => Some(Err(FramingError::Io(
                        std::io::Error::new(std::io::ErrorKind::InvalidData, error.to_string()),
                    ))),
                    Err(error) => Some(Err(FramingError::Io(std::io::Error::other(
                        error.to_string(),
                    )))),
                })
            }),
    );
    let writer: Writer = Box::pin(
        sink.sink_map_err(|error| FramingError::Io(std::io::Error::other(error.to_string())))
            .with(|frame: FrameBytes| {
                let frame = frame.into_contiguous();
                // JSON frames are text, which a browser hands over as a string.
                std::future::ready(Ok::<_, FramingError>(
                    match Utf8Bytes::try_from(frame.clone()) {
                        Ok(text) => Message::Text(text),
                        Err(_) => Message::Binary(frame),
                    },
                ))
            }),
    );
    FrameLink {
        reader,
        writer,
        peer,
        origin: None,
    }
}
