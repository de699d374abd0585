//! [`Target`]: which renderers an event goes to.

use std::fmt;
use std::sync::Arc;

use crate::caller::{Caller, RendererId};

/// Which renderers an event goes to.
///
/// # Examples
///
/// ```
/// use ipc_runtime::Target;
///
/// let everyone = Target::All;
/// let settings_windows = Target::filter(|caller| caller.label().starts_with("settings"));
/// # let _ = (everyone, settings_windows);
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub enum Target {
    /// Every connected renderer.
    All,
    /// One renderer.
    Renderer(RendererId),
    /// Several renderers.
    Renderers(Vec<RendererId>),
    /// Every renderer the predicate accepts.
    Filter(Arc<dyn Fn(&Caller) -> bool + Send + Sync>),
}

impl Target {
    /// Renderers selected by a predicate over their identity.
    pub fn filter(predicate: impl Fn(&Caller) -> bool + Send + Sync + 'static) -> Self {
        Target::Filter(Arc::new(predicate))
    }

    /// Whether the target includes `caller`.
    pub fn matches(&self, caller: &Caller) -> bool {
        match self {
            Target::All => true,
            Target::Renderer(id) => caller.renderer() == *id,
            Target::Renderers(ids) => ids.contains(&caller.renderer()),
            Target::Filter(predicate) => predicate(caller),
        }
    }
}

impl From<RendererId> for Target {
    fn from(id: RendererId) -> Self {
        Target::Renderer(id)
    }
}

impl From<&Caller> for Target {
    fn from(caller: &Caller) -> Self {
        Target::Renderer(caller.renderer())
    }
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::All => f.write_str("All"),
            Target::Renderer(id) => write!(f, "Renderer({id})"),
            Target::Renderers(ids) => f.debug_tuple("Renderers").field(ids).finish(),
            Target::Filter(_) => f.write_str("Filter(..)"),
        }
    }
}
