//! The JavaScript templates the generators fill, and the fragments several outputs share.

use super::FRAME_CHANNEL;
use super::text::{js_string, line_comment};
use crate::naming::{CANCEL_CHANNEL, LAG_CHANNEL};

/// The preload↔bridge protocol, as a comment block shared by `preload.js` and `bridge.js`.
const BRIDGE_PROTOCOL: &str = include_str!("templates/protocol.txt");

/// The preload↔bridge protocol as `//` comment lines, with the framework's channel names.
pub(super) fn bridge_protocol() -> String {
    line_comment(&fill(
        BRIDGE_PROTOCOL,
        &[
            ("CANCEL_JS", &js_string(CANCEL_CHANNEL)),
            ("LAG_JS", &js_string(LAG_CHANNEL)),
            ("FRAME_JS", &js_string(FRAME_CHANNEL)),
        ],
    ))
}

/// Chunk frames (sending and reassembly), shared by the bridge and the browser client.
pub(super) const CHUNKS_JS: &str = include_str!("templates/chunks.js");

/// MessagePack frames (the msgpack codec), shared by the bridge and the browser client.
pub(super) const MSGPACK_JS: &str = include_str!("templates/msgpack.js");

/// The `#[policy(...)]` check, shared by the preload, the bridge and the browser client.
pub(super) const POLICY_JS: &str = include_str!("templates/policy.js");

/// The error classes, shared by the preload facade and the browser client.
pub(super) const ERRORS_JS: &str = include_str!("templates/errors.js");

/// The argument checks, shared by the preload and the browser client.
pub(super) const CHECKS_JS: &str = include_str!("templates/checks.js");

/// The page-facing API builder, shared by the preload and the browser client.
pub(super) const API_JS: &str = include_str!("templates/api.js");

/// This side's ports, streams and requests from main (the port table and the request table),
/// shared by the preload and the browser client.
pub(super) const PORTS_JS: &str = include_str!("templates/ports.js");

/// The page's stream and port objects (`IpcStream`, `IpcPort`), shared by the preload's
/// `buildApi` and the browser client.
pub(super) const HANDLES_JS: &str = include_str!("templates/handles.js");

/// Substitutes `{{NAME}}` placeholders in a template; every placeholder must be given.
pub(super) fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 4096);
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .unwrap_or_else(|| panic!("unclosed placeholder in template"));
        let name = &after[..end];
        let value = values
            .iter()
            .find(|(n, _)| *n == name)
            .unwrap_or_else(|| panic!("no value for template placeholder `{name}`"));
        out.push_str(value.1);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_replaces_every_placeholder() {
        assert_eq!(fill("a{{X}}b{{Y}}", &[("X", "1"), ("Y", "2")]), "a1b2");
    }

    /// The JavaScript side knows every framework error code (it treats unknown ones as
    /// `protocol`).
    #[test]
    fn the_javascript_side_knows_every_framework_error_code() {
        for (name, template) in [
            ("errors.js", ERRORS_JS),
            ("bridge.js", include_str!("templates/bridge.js")),
        ] {
            let list = template
                .split("FRAMEWORK_CODES = [")
                .nth(1)
                .and_then(|rest| rest.split(']').next())
                .unwrap_or_else(|| panic!("{name} has no FRAMEWORK_CODES list"));
            let listed: Vec<&str> = list
                .split(',')
                .map(|code| code.trim().trim_matches('\''))
                .filter(|code| !code.is_empty())
                .collect();
            assert_eq!(listed, crate::naming::FRAMEWORK_ERROR_CODES, "{name}");
        }
    }

    #[test]
    #[should_panic(expected = "no value")]
    fn fill_refuses_a_missing_value() {
        fill("{{X}}", &[]);
    }
}
