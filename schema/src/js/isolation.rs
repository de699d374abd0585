//! The preload's isolation mode: how the generated preload exposes the API to the page.

/// How the generated preload exposes the API to the page.
///
/// # Examples
///
/// ```
/// use ipc_schema::js::Isolation;
///
/// assert_eq!("isolated".parse::<Isolation>(), Ok(Isolation::ContextIsolated));
/// assert_eq!(Isolation::NoIsolation.as_str(), "none");
/// assert_eq!(Isolation::default(), Isolation::Auto);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Isolation {
    /// Decide at run time from `process.contextIsolated` (the default).
    #[default]
    Auto,
    /// Always go through `contextBridge` (the window has `contextIsolation: true`).
    ContextIsolated,
    /// Always define `window[key]` directly (the window has `contextIsolation: false`).
    NoIsolation,
}

impl Isolation {
    /// The name used on the command line and in the generated preload: `auto`, `isolated`,
    /// `none`.
    ///
    /// # Examples
    ///
    /// ```
    /// use ipc_schema::js::Isolation;
    ///
    /// for mode in [Isolation::Auto, Isolation::ContextIsolated, Isolation::NoIsolation] {
    ///     assert_eq!(mode.as_str().parse::<Isolation>(), Ok(mode));
    /// }
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Isolation::Auto => "auto",
            Isolation::ContextIsolated => "isolated",
            Isolation::NoIsolation => "none",
        }
    }
}

impl std::str::FromStr for Isolation {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "auto" => Ok(Isolation::Auto),
            "isolated" => Ok(Isolation::ContextIsolated),
            "none" => Ok(Isolation::NoIsolation),
            other => Err(format!(
                "unknown isolation mode `{other}`; expected `auto`, `isolated` or `none`"
            )),
        }
    }
}
