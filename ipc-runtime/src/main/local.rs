//! Main's side of an in-process connection, as its renderer reaches it: the renderer's calls and
//! sends are entered in the renderer's own task, through the transport's `LocalConnection`.

use super::sends::SendRunner;
use super::{Main, start_call};
use crate::caller::Caller;
use crate::error::IpcError;
use crate::transport::in_process::LocalConnection;
use crate::transport::message::{CallResult, ChannelName};
use crate::util::BoxFuture;
use crate::wire::Payload;

pub(crate) struct LocalPeer {
    pub(crate) main: Main,
    pub(crate) caller: Caller,
    pub(crate) sends: SendRunner,
}

impl LocalConnection for LocalPeer {
    fn start_call(&self, channel: &str, args: Payload) -> Result<BoxFuture<CallResult>, IpcError> {
        start_call(&self.main.inner, &self.caller, channel, args)
    }

    fn send(&self, channel: ChannelName, args: Payload) -> Result<(), IpcError> {
        let Some(slot) = self.sends.try_slot() else {
            return Err(IpcError::TooManyInFlight {
                limit: self.sends.limit(),
            });
        };
        self.sends
            .enter(&self.main, &self.caller, &channel, args, slot)
    }
}
