//! `bridge.js`: the Electron main-process bridge to the Rust main.

use super::{BRIDGE_PROTOCOL, CANCEL_CHANNEL, Model, fill, js_string, line_comment};
use crate::model::MethodKind;

const TEMPLATE: &str = include_str!("templates/bridge.js");

pub(super) fn render(model: &Model<'_>) -> String {
    fill(
        TEMPLATE,
        &[
            ("HEADER", &model.header("//")),
            ("PROTOCOL", &line_comment(BRIDGE_PROTOCOL)),
            ("CONTRACTS", &model.contracts_js()),
            ("INVOKES", &model.channels_js(MethodKind::Invoke)),
            ("SENDS", &model.channels_js(MethodKind::Send)),
            ("EVENTS", &model.channels_js(MethodKind::Event)),
            ("CANCEL_JS", &js_string(CANCEL_CHANNEL)),
        ],
    )
}
