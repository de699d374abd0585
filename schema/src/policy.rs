//! Who may use a channel: the rules a contract declares with `#[policy(...)]`.
//!
//! A [`Rule`] is a conjunction of clauses over what main can vouch for about a renderer: its
//! kind ([`RendererKind`]), its web origin, whether the call came from a window's main frame,
//! and the named capabilities main granted it. A policy is a list of rules, any one of which
//! admits a caller. A contract may declare a policy for the whole trait and for each method; a
//! call must satisfy both. The rules are data here so that the macro (which checks them at
//! compile time), the runtime (which enforces them) and the JavaScript generators (which mirror
//! them in the preload and the bridge) read one definition.
//!
//! Policies are not part of the contract hash: they change who main serves, not what travels.

use std::fmt;

#[cfg(feature = "types")]
use serde::{Deserialize, Serialize};

/// The kinds of renderer a rule can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "types", derive(Serialize, Deserialize))]
#[cfg_attr(feature = "types", serde(rename_all = "lowercase"))]
#[non_exhaustive]
pub enum RendererKind {
    /// Native code: an in-process renderer, a Unix socket peer, a spawned child, a transport of
    /// the application's own.
    Native,
    /// A window behind a bridge (Electron's `webContents`).
    Window,
    /// A web page on the WebSocket endpoint.
    Page,
}

impl RendererKind {
    /// Every kind, in a fixed order.
    pub const ALL: [RendererKind; 3] = [
        RendererKind::Native,
        RendererKind::Window,
        RendererKind::Page,
    ];

    /// The name used in `#[policy(...)]` and in the schema (`"native"`).
    pub fn as_str(self) -> &'static str {
        match self {
            RendererKind::Native => "native",
            RendererKind::Window => "window",
            RendererKind::Page => "page",
        }
    }
}

/// One rule of a policy: every clause must hold (empty lists do not restrict).
///
/// # Examples
///
/// ```
/// use ipc_schema::{RendererKind, Rule};
///
/// let rule = Rule::new()
///     .renderer(RendererKind::Window)
///     .origin("https://app.example")
///     .main_frame();
/// assert_eq!(
///     rule.to_string(),
///     r#"#[policy(window, origin = "https://app.example", main_frame)]"#
/// );
/// assert!(rule.problem().is_none());
/// assert!(Rule::new().renderer(RendererKind::Page).main_frame().problem().is_some());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "types", derive(Serialize, Deserialize))]
#[non_exhaustive]
pub struct Rule {
    /// The kinds of renderer admitted (empty: any kind the other clauses allow).
    #[cfg_attr(
        feature = "types",
        serde(default, skip_serializing_if = "Vec::is_empty")
    )]
    pub renderers: Vec<RendererKind>,
    /// The exact web origins admitted (empty: any). Only renderers with an origin main vouches
    /// for can match: pages and windows, and in-process renderers main gave an origin.
    #[cfg_attr(
        feature = "types",
        serde(default, skip_serializing_if = "Vec::is_empty")
    )]
    pub origins: Vec<String>,
    /// Only a window's main frame (never an iframe; only windows can match).
    #[cfg_attr(feature = "types", serde(default, skip_serializing_if = "is_false"))]
    pub main_frame: bool,
    /// Capabilities the renderer must hold, all of them (granted by main at run time).
    #[cfg_attr(
        feature = "types",
        serde(default, skip_serializing_if = "Vec::is_empty")
    )]
    pub capabilities: Vec<String>,
}

#[cfg(feature = "types")]
fn is_false(value: &bool) -> bool {
    !*value
}

impl Rule {
    /// A rule with no clauses (it admits everyone; add clauses).
    pub fn new() -> Self {
        Rule::default()
    }

    /// Admits renderers of `kind` (several calls admit several kinds).
    pub fn renderer(mut self, kind: RendererKind) -> Self {
        if !self.renderers.contains(&kind) {
            self.renderers.push(kind);
        }
        self
    }

    /// Admits the exact web origin `origin` (several calls admit several origins).
    pub fn origin(mut self, origin: impl Into<String>) -> Self {
        self.origins.push(origin.into());
        self
    }

    /// Admits only a window's main frame.
    pub fn main_frame(mut self) -> Self {
        self.main_frame = true;
        self
    }

    /// Requires the capability `name`.
    pub fn capability(mut self, name: impl Into<String>) -> Self {
        self.capabilities.push(name.into());
        self
    }

    /// The kinds of renderer this rule can ever admit, given its clauses (the main frame rules
    /// out everything but windows). An origin does not rule out native renderers: an
    /// in-process renderer has the origin main gave it, if any (processes across a socket or a
    /// pipe never have one).
    pub fn possible_kinds(&self) -> Vec<RendererKind> {
        RendererKind::ALL
            .into_iter()
            .filter(|kind| self.renderers.is_empty() || self.renderers.contains(kind))
            .filter(|kind| !self.main_frame || *kind == RendererKind::Window)
            .collect()
    }

    /// Why this rule is malformed or can never admit anyone, if it is.
    pub fn problem(&self) -> Option<String> {
        for origin in &self.origins {
            if let Err(problem) = check_origin(origin) {
                return Some(problem);
            }
        }
        for (i, origin) in self.origins.iter().enumerate() {
            if self.origins[..i].contains(origin) {
                return Some(format!("origin \"{origin}\" is listed twice"));
            }
        }
        for capability in &self.capabilities {
            if let Err(problem) = check_capability(capability) {
                return Some(problem);
            }
        }
        if !self.possible_kinds().is_empty() {
            return None;
        }
        Some(
            if self.main_frame && !self.renderers.contains(&RendererKind::Window) {
                "`main_frame` only admits windows (only a window's frame can be told apart), but this \
             rule admits no window"
                .to_string()
            } else {
                "this rule admits no renderer".to_string()
            },
        )
    }

    /// The rule a caller must meet to satisfy both `self` and `other`, or `None` when no
    /// renderer could meet both.
    pub fn and(&self, other: &Rule) -> Option<Rule> {
        let renderers = match (self.renderers.is_empty(), other.renderers.is_empty()) {
            (true, _) => other.renderers.clone(),
            (_, true) => self.renderers.clone(),
            _ => {
                let both: Vec<RendererKind> = self
                    .renderers
                    .iter()
                    .copied()
                    .filter(|kind| other.renderers.contains(kind))
                    .collect();
                if both.is_empty() {
                    return None;
                }
                both
            }
        };
        let origins = match (self.origins.is_empty(), other.origins.is_empty()) {
            (true, _) => other.origins.clone(),
            (_, true) => self.origins.clone(),
            _ => {
                let both: Vec<String> = self
                    .origins
                    .iter()
                    .filter(|origin| other.origins.contains(origin))
                    .cloned()
                    .collect();
                if both.is_empty() {
                    return None;
                }
                both
            }
        };
        let mut capabilities = self.capabilities.clone();
        for capability in &other.capabilities {
            if !capabilities.contains(capability) {
                capabilities.push(capability.clone());
            }
        }
        let rule = Rule {
            renderers,
            origins,
            main_frame: self.main_frame || other.main_frame,
            capabilities,
        };
        (!rule.possible_kinds().is_empty()).then_some(rule)
    }
}

impl fmt::Display for Rule {
    /// The rule as the attribute that declares it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut clauses: Vec<String> = self
            .renderers
            .iter()
            .map(|kind| kind.as_str().to_string())
            .collect();
        clauses.extend(self.origins.iter().map(|o| format!("origin = \"{o}\"")));
        if self.main_frame {
            clauses.push("main_frame".into());
        }
        clauses.extend(
            self.capabilities
                .iter()
                .map(|c| format!("capability = \"{c}\"")),
        );
        write!(f, "#[policy({})]", clauses.join(", "))
    }
}

/// Checks that `origin` is a serialized web origin as browsers send it: `scheme://host` with an
/// optional `:port`, lowercase, no path, no trailing slash (`file://` for local files).
///
/// # Errors
///
/// What is wrong with it, in words.
///
/// # Examples
///
/// ```
/// use ipc_schema::policy::check_origin;
///
/// assert!(check_origin("https://app.example").is_ok());
/// assert!(check_origin("app://settings").is_ok());
/// assert!(check_origin("http://localhost:5173").is_ok());
/// assert!(check_origin("https://app.example/").is_err());
/// assert!(check_origin("null").is_err());
/// ```
pub fn check_origin(origin: &str) -> Result<(), String> {
    let bad = |why: &str| Err(format!("origin \"{origin}\" {why}"));
    if origin == "null" {
        return bad("is the opaque origin (sandboxed frames, data: URLs): it names no page");
    }
    let Some((scheme, rest)) = origin.split_once("://") else {
        return bad("is not `scheme://host[:port]`");
    };
    let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_lowercase())
        && scheme
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+.-".contains(c));
    if !scheme_ok {
        return bad("has a scheme that is not lowercase letters, digits, `+`, `.` or `-`");
    }
    if rest.contains(['/', '?', '#']) {
        return bad("has a path, a query or a trailing slash: an origin is `scheme://host[:port]`");
    }
    if rest.contains(['@', ' ']) || rest.chars().any(|c| c.is_ascii_uppercase()) {
        return bad("has user info, spaces or uppercase letters (browsers send origins lowercase)");
    }
    if scheme == "file" {
        return if rest.is_empty() {
            Ok(())
        } else {
            bad("names a host: file pages have the origin `file://`")
        };
    }
    // An IPv6 host is bracketed (`[::1]:3000`): its colons are not the port's.
    let host_end = if rest.starts_with('[') {
        rest.find(']').map_or(rest.len(), |at| at + 1)
    } else {
        rest.find(':').unwrap_or(rest.len())
    };
    let (host, port) = match &rest[host_end..] {
        "" => (&rest[..host_end], None),
        tail => match tail.strip_prefix(':') {
            Some(port) => (&rest[..host_end], Some(port)),
            None => return bad("has something after its host that is not a `:port`"),
        },
    };
    if host.is_empty() {
        return bad("has no host");
    }
    if let Some(port) = port {
        if port.is_empty() || port.parse::<u16>().is_err() {
            return bad("has a port that is not a number from 0 to 65535");
        }
    }
    Ok(())
}

/// Checks a capability name: 1 to 64 characters of lowercase letters, digits, `_`, `-`, `.`
/// and `:`.
///
/// # Errors
///
/// What is wrong with it, in words.
pub fn check_capability(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.chars().all(|c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '-' | '.' | ':')
        });
    if ok {
        Ok(())
    } else {
        Err(format!(
            "capability \"{name}\" must be 1 to 64 characters of lowercase letters, digits, `_`, \
             `-`, `.` and `:`"
        ))
    }
}

/// The rules of one level (a trait's or a method's) as text: `#[policy(a)] or #[policy(b)]`.
pub fn describe(rules: &[Rule]) -> String {
    rules
        .iter()
        .map(Rule::to_string)
        .collect::<Vec<_>>()
        .join(" or ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins() {
        for good in [
            "https://a.example",
            "http://127.0.0.1:8080",
            "app://x",
            "file://",
            "http://[::1]:3000",
            "http://[::1]",
        ] {
            assert!(check_origin(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "null",
            "https://",
            "https://a.example/",
            "https://a.example/x",
            "HTTPS://a.example",
            "https://A.example",
            "https://a.example:99999",
            "https://a.example:",
            "file://host",
            "a.example",
        ] {
            assert!(check_origin(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn contradictions_and_intersections() {
        let native = Rule::new().renderer(RendererKind::Native);
        let page = Rule::new().renderer(RendererKind::Page);
        assert!(native.and(&page).is_none());
        // An in-process renderer main gave an origin is native and has one.
        assert!(
            native
                .clone()
                .origin("https://a.example")
                .problem()
                .is_none()
        );
        assert!(page.clone().main_frame().problem().is_some());
        let web = Rule::new()
            .renderer(RendererKind::Window)
            .renderer(RendererKind::Page);
        let both = web.and(&Rule::new().main_frame()).unwrap();
        assert_eq!(both.possible_kinds(), vec![RendererKind::Window]);
        let a = Rule::new().origin("https://a.example");
        let b = Rule::new().origin("https://b.example");
        assert!(a.and(&b).is_none());
        assert!(check_capability("admin").is_ok());
        assert!(check_capability("Admin").is_err());
        assert!(check_capability("").is_err());
    }
}
