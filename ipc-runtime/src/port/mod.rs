//! Ports and streams (`docs/PROTOCOL.md` §7.1): typed, flow-controlled pipes that travel inside
//! messages.
//!
//! - `pair`: [`Port`], a typed end of an entangled pair (Electron's `MessageChannelMain`);
//! - `stream`: [`Stream`] and [`StreamSender`], a typed stream with a typed end;
//! - `end`: an untyped end (an inbox and a target), its transfer onto a connection, relays;
//! - `inbox`: an end's receiving queue, and the credits it grants as it is read;
//! - `remote`: the sending side of a port on a connection, within the peer's credits;
//! - `table`: one connection's ports, and what it answers to port frames it cannot act on;
//! - `holder`: who holds the far end of a pair, as the connection it went onto vouches;
//! - `context`: where a port reference is being written or read (serde has no context).
//!
//! This layer sits between the transports (it uses their message model) and the two sides:
//! main and the renderer each give a connection's table its way out ([`table::PortWire`]) and
//! route the port frames they read to it.

mod context;
mod end;
mod holder;
mod inbox;
mod pair;
mod remote;
mod stream;
mod table;

pub use pair::Port;
pub use stream::{Stream, StreamSender};

pub(crate) use context::{Announce, among_others, encoding, sent_among_others};
pub(crate) use holder::{Holder, Recipient};
pub(crate) use inbox::Direct;
pub(crate) use table::{ConnPorts, PortLimits, PortWire, Side};
