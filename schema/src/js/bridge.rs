//! `bridge.js`: the Electron main-process bridge to the Rust main.

use super::FRAME_CHANNEL;
use super::model::Model;
use super::templates::{CHUNKS_JS, MSGPACK_JS, POLICY_JS, bridge_protocol, fill};
use super::text::js_string;
use crate::model::MethodKind;
use crate::naming::{CANCEL_CHANNEL, LAG_CHANNEL};

const TEMPLATE: &str = include_str!("templates/bridge.js");

pub(super) fn render(model: &Model<'_>) -> String {
    fill(
        TEMPLATE,
        &[
            ("HEADER", &model.header("//")),
            ("PROTOCOL", &bridge_protocol()),
            ("CONTRACTS", &model.contracts_js()),
            ("BIGINTS", model.bigints_js()),
            ("INVOKES", &model.channels_js(MethodKind::Invoke)),
            ("SYNCS", &model.sync_deadlines_js()),
            ("SENDS", &model.channels_js(MethodKind::Send)),
            ("EVENTS", &model.channels_js(MethodKind::Event)),
            ("REQUESTS", &model.channels_js(MethodKind::Request)),
            ("FRAME_JS", &js_string(FRAME_CHANNEL)),
            ("CANCEL_JS", &js_string(CANCEL_CHANNEL)),
            ("LAG_JS", &js_string(LAG_CHANNEL)),
            ("CHUNKS", CHUNKS_JS.trim_end()),
            ("MSGPACK", MSGPACK_JS.trim_end()),
            ("POLICIES", &model.policies_js()),
            ("POLICY", POLICY_JS.trim_end()),
        ],
    )
}
