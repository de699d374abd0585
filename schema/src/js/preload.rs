//! `preload.js`: the Electron preload.

use super::model::Model;
use super::templates::{API_JS, BRIDGE_PROTOCOL, CHECKS_JS, ERRORS_JS, fill};
use super::text::{indent, js_string, line_comment};
use crate::naming::CANCEL_CHANNEL;

const TEMPLATE: &str = include_str!("templates/preload.js");

pub(super) fn render(model: &Model<'_>) -> String {
    let api = fill(API_JS, &[("ERRORS", &indent(ERRORS_JS, "  "))]);
    fill(
        TEMPLATE,
        &[
            ("HEADER", &model.header("//")),
            ("KEY", &model.key),
            ("ISOLATION", model.isolation.as_str()),
            ("PROTOCOL", &line_comment(BRIDGE_PROTOCOL)),
            ("KEY_JS", &js_string(&model.key)),
            ("ISOLATION_JS", &js_string(model.isolation.as_str())),
            ("CANCEL_JS", &js_string(CANCEL_CHANNEL)),
            ("METHODS", &model.methods_js()),
            ("CHECKS", CHECKS_JS.trim_end()),
            ("API", api.trim_end()),
        ],
    )
}
