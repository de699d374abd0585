//! `preload.js`: the Electron preload.

use super::FRAME_CHANNEL;
use super::model::Model;
use super::templates::{
    API_JS, CHECKS_JS, ERRORS_JS, HANDLES_JS, POLICY_JS, PORTS_JS, bridge_protocol, fill,
};
use super::text::{indent, js_string};
use crate::naming::{CANCEL_CHANNEL, LAG_CHANNEL};

const TEMPLATE: &str = include_str!("templates/preload.js");

pub(super) fn render(model: &Model<'_>) -> String {
    // `buildApi` may run in the page's world (executeInMainWorld), where nothing of this module
    // is in scope: it carries its own copies of the error classes, the argument checks and the
    // stream and port classes.
    let api = fill(
        API_JS,
        &[
            ("ERRORS", &indent(ERRORS_JS, "  ")),
            ("CHECKS", &indent(CHECKS_JS, "  ")),
            ("HANDLES", &indent(HANDLES_JS, "  ")),
            (
                "DEFAULT_TIMEOUT_MS",
                &crate::DEFAULT_CALL_TIMEOUT_MS.to_string(),
            ),
        ],
    );
    fill(
        TEMPLATE,
        &[
            ("HEADER", &model.header("//")),
            ("KEY", &model.key),
            ("ISOLATION", model.isolation.as_str()),
            ("PROTOCOL", &bridge_protocol()),
            ("KEY_JS", &js_string(&model.key)),
            ("ISOLATION_JS", &js_string(model.isolation.as_str())),
            ("CANCEL_JS", &js_string(CANCEL_CHANNEL)),
            ("LAG_JS", &js_string(LAG_CHANNEL)),
            ("FRAME_JS", &js_string(FRAME_CHANNEL)),
            ("METHODS", &model.methods_js()),
            ("CAPABILITIES", &model.capabilities_js()),
            ("CHECKS", CHECKS_JS.trim_end()),
            ("POLICY", POLICY_JS.trim_end()),
            ("PORTS", PORTS_JS.trim_end()),
            ("API", api.trim_end()),
        ],
    )
}
