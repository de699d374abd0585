//! The in-process transport: two bounded queues, values moved as themselves (never serialized).

use tokio::sync::mpsc;

use super::{MainEnd, RendererEnd};

/// A connected pair of ends with `capacity` messages of buffer in each direction.
pub(crate) fn pair(capacity: usize) -> (MainEnd, RendererEnd) {
    let (to_main, incoming) = mpsc::channel(capacity);
    let (to_renderer, from_main) = mpsc::channel(capacity);
    (
        MainEnd {
            incoming,
            outgoing: to_renderer,
        },
        RendererEnd {
            outgoing: to_main,
            incoming: from_main,
            local: true,
        },
    )
}
