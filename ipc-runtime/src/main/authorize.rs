//! Who may use what: the check of a renderer's [`Grant`] and the rules contracts declare with
//! `#[policy(...)]` (compiled per channel).
//!
//! It runs before anything of a message is decoded: for an invoke or a send in `start_call` and
//! `sends`, for an event once per recipient in `Main::emit`. A refusal is
//! [`IpcError::Forbidden`] naming the rule that refused.

use std::sync::{Arc, Weak};

use ipc_schema::{RendererKind, Rule};

use crate::access::Grant;
use crate::caller::{Caller, Peer};
use crate::error::IpcError;
use crate::port::{Holder, Recipient};

use super::{Main, MainInner};

/// A channel's declared policy, ready to check: its contract's namespace and the levels (the
/// trait's rules, the method's) a caller must each satisfy with one rule.
#[derive(Debug)]
pub(crate) struct ChannelRule {
    namespace: Box<str>,
    levels: Vec<Vec<Rule>>,
}

impl ChannelRule {
    /// The rules of every channel `service` declares that renderers use (invokes, sends,
    /// events): requests are main's calls and have none.
    pub(crate) fn of_service(
        service: &ipc_schema::Service,
    ) -> impl Iterator<Item = (String, Arc<ChannelRule>)> + '_ {
        service
            .methods
            .iter()
            .filter(|method| method.kind != ipc_schema::MethodKind::Request)
            .map(move |method| {
                let levels = service
                    .policy_levels(method)
                    .into_iter()
                    .map(<[Rule]>::to_vec)
                    .collect();
                (
                    method.channel.clone(),
                    Arc::new(ChannelRule {
                        namespace: service.namespace.as_str().into(),
                        levels,
                    }),
                )
            })
    }
}

/// The namespace of a channel nobody declared (`app` of `app:ping`).
fn namespace_of(channel: &str) -> &str {
    channel
        .split_once(':')
        .map_or(channel, |(namespace, _)| namespace)
}

/// What a message is, for the check: a renderer's call or send, or an event main delivers.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Use {
    /// An invoke or a send: the caller is checked as it is.
    Call,
    /// An event to a renderer. A window receives events in its main frame, and whether that
    /// frame's page is of an admitted origin is checked by the bridge at delivery (main knows
    /// only the page of the window's last call); a bridge's own connection is checked as the
    /// windows it delivers to.
    Event,
    /// A call through a handle main handed to the renderer. Behind a bridge the handle is one
    /// window's, but port frames do not say which: it is judged as a window whose origin and
    /// frame main cannot vouch for (a rule naming either refuses it).
    Handle,
}

/// The default where a contract declares no policy: every renderer an endpoint admitted, but
/// never a window's subframe (an iframe is often another site's page).
const DEFAULT_RULE: &str =
    "the default policy (nothing declared): a window's subframes are refused";

/// Checks that `caller` may use `channel` (whose declared rule is `rule`, if any).
///
/// # Errors
///
/// [`IpcError::Forbidden`] naming the grant or the rule that refused.
pub(crate) fn authorize(
    caller: &Caller,
    channel: &str,
    rule: Option<&ChannelRule>,
    usage: Use,
    bridge: bool,
) -> Result<(), IpcError> {
    caller.grant_cell().with(|grant| {
        if !grant.allows_every_contract() {
            let namespace = rule.map_or_else(|| namespace_of(channel), |rule| &rule.namespace);
            if !grant.allows_contract(namespace) {
                return Err(forbidden(
                    channel,
                    format!("the contract `{namespace}` is not granted to this renderer"),
                    format!("grant without `{namespace}`"),
                ));
            }
        }
        match rule.filter(|rule| !rule.levels.is_empty()) {
            // Events reach a window's main frame: only a call can come from a subframe.
            None => match caller.peer() {
                Peer::BridgeWindow { main_frame, .. }
                    if usage == Use::Call && *main_frame != Some(true) =>
                {
                    Err(forbidden(
                        channel,
                        format!("the call came from a subframe ({DEFAULT_RULE})"),
                        "default".into(),
                    ))
                }
                _ => Ok(()),
            },
            Some(rule) => meet_levels(caller, grant, channel, &rule.levels, usage, bridge),
        }
    })
}

/// Checks that `caller` meets each of `levels` (with one of its rules).
fn meet_levels(
    caller: &Caller,
    grant: &Grant,
    channel: &str,
    levels: &[Vec<Rule>],
    usage: Use,
    bridge: bool,
) -> Result<(), IpcError> {
    let who = Who::of(caller, usage, bridge);
    for level in levels {
        if !level.iter().any(|rule| who.meets(rule, grant)) {
            let text = ipc_schema::policy::describe(level);
            let holder = if usage == Use::Handle && bridge {
                format!(
                    "a window behind bridge {} (port frames do not say which window holds a \
                     handle, so main cannot vouch for its origin or frame)",
                    caller.renderer()
                )
            } else {
                who.describe(caller)
            };
            return Err(forbidden(
                channel,
                format!("{holder} does not meet {text}"),
                text,
            ));
        }
    }
    Ok(())
}

/// A renderer as the holder of the handles main hands it on its connection: each call it makes
/// on an object main serves is judged by the capability's policy, with the renderer's grant as
/// it is at that call. The grant's contract list is not consulted: a capability's contract is
/// reached only through a handle main chose to hand over, which is the grant of it.
pub(crate) struct RendererHolder {
    caller: Caller,
    /// The connection is a bridge and the holder is none of its windows in particular.
    bridge: bool,
    /// The holder is a window behind a bridge (a message's recipient on a bridge connection).
    window: bool,
    /// The registry: a window's grant is read where main changes it now (a window keeps its
    /// grant cell only while it shows pages of one origin, and `Main::grant`/`Main::revoke`
    /// change the cell it has now).
    main: Weak<MainInner>,
}

impl RendererHolder {
    /// The renderer of a connection (on a bridge: a window main cannot name, until a message
    /// names its recipient).
    pub(crate) fn connection(caller: Caller, bridge: bool, main: Weak<MainInner>) -> Self {
        RendererHolder {
            caller,
            bridge,
            window: false,
            main,
        }
    }
}

impl Holder for RendererHolder {
    fn admit(&self, channel: &str, levels: &[Vec<Rule>]) -> Result<(), IpcError> {
        let caller = &self.caller;
        if !self.window {
            return caller.grant_cell().with(|grant| {
                meet_levels(caller, grant, channel, levels, Use::Handle, self.bridge)
            });
        }
        // The window's grant now, if it is still the cell this holder's page had: once a page of
        // another origin called, the window's cell is that page's, and this one is no longer
        // what main changes. Then no named capability is taken as held (a revocation is never
        // missed; a `capability` rule refuses until the page that got the handle calls again).
        let now = self
            .main
            .upgrade()
            .and_then(|main| Main { inner: main }.renderer(caller.renderer()));
        let current = now.is_some_and(|now| now.grant_cell().is(caller.grant_cell()));
        if current {
            caller
                .grant_cell()
                .with(|grant| meet_levels(caller, grant, channel, levels, Use::Handle, false))
        } else {
            meet_levels(caller, &Grant::all(), channel, levels, Use::Handle, false)
        }
    }

    /// The window a message is for: as it called, for a reply to its call; its main frame
    /// ([`Caller::as_main_frame_of_window`]), for an event or a request naming it.
    fn for_recipient(&self, recipient: &Recipient) -> Arc<dyn Holder> {
        let caller = if recipient.main_frame {
            recipient.caller.as_main_frame_of_window()
        } else {
            recipient.caller.clone()
        };
        Arc::new(RendererHolder {
            caller,
            bridge: false,
            window: true,
            main: self.main.clone(),
        })
    }
}

fn forbidden(channel: &str, reason: String, rule: String) -> IpcError {
    IpcError::Forbidden {
        channel: channel.to_string(),
        reason,
        rule: Some(rule),
    }
}

/// What the check knows of a caller: only what main vouches for.
struct Who<'a> {
    kind: RendererKind,
    /// `None`: the caller has no origin main vouches for, or (events to windows) the bridge
    /// checks it.
    origin: Option<&'a str>,
    origin_checked_later: bool,
    main_frame: Option<bool>,
}

impl<'a> Who<'a> {
    fn of(caller: &'a Caller, usage: Use, bridge: bool) -> Self {
        match (caller.peer(), usage) {
            (Peer::BridgeWindow { main_frame, .. }, Use::Call | Use::Handle) => Who {
                kind: RendererKind::Window,
                origin: caller.origin(),
                origin_checked_later: false,
                main_frame: Some(*main_frame == Some(true)),
            },
            (Peer::BridgeWindow { .. }, Use::Event) => Who {
                kind: RendererKind::Window,
                origin: None,
                origin_checked_later: true,
                main_frame: Some(true),
            },
            // A handle behind a bridge: one of its windows holds it.
            (_, Use::Handle) if bridge => Who {
                kind: RendererKind::Window,
                origin: None,
                origin_checked_later: false,
                main_frame: None,
            },
            // A bridge's connection receives events for its windows.
            (_, Use::Event) if bridge => Who {
                kind: RendererKind::Window,
                origin: None,
                origin_checked_later: true,
                main_frame: Some(true),
            },
            (Peer::WebSocket { origin, .. }, _) => Who {
                kind: RendererKind::Page,
                origin: origin.as_deref(),
                origin_checked_later: false,
                main_frame: None,
            },
            // Main itself gave an in-process renderer its origin.
            (Peer::InProcess, _) => Who {
                kind: RendererKind::Native,
                origin: caller.origin(),
                origin_checked_later: false,
                main_frame: None,
            },
            _ => Who {
                kind: RendererKind::Native,
                origin: None,
                origin_checked_later: false,
                main_frame: None,
            },
        }
    }

    fn meets(&self, rule: &Rule, grant: &Grant) -> bool {
        let kind_ok = rule.renderers.is_empty() || rule.renderers.contains(&self.kind);
        let origin_ok = rule.origins.is_empty()
            || self.origin_checked_later
            || self
                .origin
                .is_some_and(|origin| rule.origins.iter().any(|o| o == origin));
        let frame_ok = !rule.main_frame || self.main_frame == Some(true);
        kind_ok
            && origin_ok
            && frame_ok
            && rule.capabilities.iter().all(|c| grant.has_capability(c))
    }

    fn describe(&self, caller: &Caller) -> String {
        let frame = match self.main_frame {
            Some(true) => ", main frame",
            Some(false) => ", a subframe",
            None => "",
        };
        match self.origin {
            Some(origin) => format!(
                "{} {} ({origin}{frame})",
                self.kind.as_str(),
                caller.renderer()
            ),
            None => format!("{} {}{frame}", self.kind.as_str(), caller.renderer()),
        }
    }
}
