//! What can go wrong when generating, writing or checking bindings.

use std::fmt;
use std::path::PathBuf;

use super::Stale;

/// Why bindings could not be generated, written or checked.
///
/// # Examples
///
/// ```
/// use ipc_schema::js::{Bindings, Error};
///
/// assert!(matches!(Bindings::new(&[]).generate(), Err(Error::NoServices)));
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// No service was given.
    NoServices,
    /// A contract carries 64-bit integers, which JavaScript numbers cannot hold exactly (see
    /// [`Service::large_int_uses`](crate::Service::large_int_uses)); opt in with `large_ints = "number"` or change the types.
    LargeInts {
        /// The service's name.
        service: String,
        /// Where the integers are.
        uses: Vec<String>,
    },
    /// The API key is not a JavaScript identifier.
    InvalidKey {
        /// The key.
        key: String,
    },
    /// Two things would get the same JavaScript or TypeScript name.
    Conflict {
        /// What collides, as a sentence.
        what: String,
    },
    /// The contract declares what JavaScript cannot carry out (a sync method with a stream or a
    /// port: a port outlives the blocking call that would hand it over).
    Unsupported {
        /// What, as a sentence.
        what: String,
    },
    /// A schema file could not be read as JSON of one `Service` or an array of them.
    Schema {
        /// Why.
        reason: String,
    },
    /// A file could not be read or written.
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// [`Bindings::check`](super::Bindings::check) found files that differ from the generated ones.
    Stale(Stale),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NoServices => f.write_str("no service to generate bindings for"),
            Error::LargeInts { service, uses } => write!(
                f,
                "contract `{service}` carries 64-bit integers, which JavaScript numbers cannot hold \
                 exactly ({}); use 32-bit integers or strings, or opt in with \
                 `#[channels(large_ints = \"number\")]`",
                uses.join(", ")
            ),
            Error::InvalidKey { key } => write!(
                f,
                "API key `{key}` is not a JavaScript identifier (letters, digits, `_` and `$`, \
                 not starting with a digit)"
            ),
            Error::Conflict { what } | Error::Unsupported { what } => f.write_str(what),
            Error::Schema { reason } => write!(f, "invalid schema: {reason}"),
            Error::Io { path, source } => write!(f, "{}: {source}", path.display()),
            Error::Stale(stale) => stale.fmt(f),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}
