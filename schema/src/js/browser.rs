//! `client.mjs`: the browser client over a WebSocket.

use super::model::Model;
use super::templates::{
    API_JS, CHECKS_JS, CHUNKS_JS, ERRORS_JS, HANDLES_JS, MSGPACK_JS, POLICY_JS, PORTS_JS, fill,
};
use super::text::js_string;

const TEMPLATE: &str = include_str!("templates/client.mjs");

pub(super) fn render(model: &Model<'_>) -> String {
    // The error classes and the checks live at module level (the classes are exported), so
    // `buildApi` uses them as they are.
    let api = fill(
        API_JS,
        &[
            (
                "ERRORS",
                "  // IpcAppError and IpcFrameworkError are this module's own (exported) classes.",
            ),
            ("CHECKS", "  // The argument checks are this module's own."),
            (
                "HANDLES",
                "  // IpcStream and IpcPort are this module's own (exported) classes.",
            ),
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
            ("KEY_JS", &js_string(&model.key)),
            ("CONTRACTS", &model.contracts_js()),
            ("BIGINTS", model.bigints_js()),
            ("METHODS", &model.methods_js()),
            ("CAPABILITIES", &model.capabilities_js()),
            ("CHECKS", CHECKS_JS.trim_end()),
            ("POLICY", POLICY_JS.trim_end()),
            ("CHUNKS", CHUNKS_JS.trim_end()),
            ("MSGPACK", MSGPACK_JS.trim_end()),
            ("ERRORS", ERRORS_JS.trim_end()),
            ("HANDLES", HANDLES_JS.trim_end()),
            ("PORTS", PORTS_JS.trim_end()),
            ("API", api.trim_end()),
        ],
    )
}
