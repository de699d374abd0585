//! Schema JSON, the input of `ipc-bindgen --schema`: [`Service::to_json`] writes it and
//! [`read_schemas`] reads it back.

use super::Error;
use crate::model::Service;

/// Reads schema JSON: one serialized [`Service`] or an array of them (what
/// [`Service::to_json`] writes). Each contract's hash is recomputed and must match the one in
/// the file, so a hand-edited or foreign schema is caught before bindings are generated from it.
///
/// # Errors
///
/// [`Error::Schema`] when the text is not such JSON or a hash does not match.
///
/// # Examples
///
/// ```
/// use ipc_schema::{Method, MethodKind, Service};
///
/// let service = Service::builder("Todos", "todos")
///     .method(Method::new("log", "todos:log", MethodKind::Send).param_raw("line", "String", "string"))
///     .build();
/// let read = ipc_schema::js::read_schemas(&service.to_json())?;
/// assert_eq!(read, vec![service.clone()]);
/// let both = ipc_schema::js::read_schemas(&format!("[{0}, {0}]", service.to_json()))?;
/// assert_eq!(both.len(), 2);
/// # Ok::<(), ipc_schema::js::Error>(())
/// ```
pub fn read_schemas(json: &str) -> Result<Vec<Service>, Error> {
    let value: serde_json::Value = serde_json::from_str(json).map_err(|e| Error::Schema {
        reason: e.to_string(),
    })?;
    let services: Vec<Service> = if value.is_array() {
        serde_json::from_value(value)
    } else {
        serde_json::from_value(value).map(|one| vec![one])
    }
    .map_err(|e| Error::Schema {
        reason: e.to_string(),
    })?;
    for service in &services {
        let computed = crate::hash::contract_hash(service);
        if computed != service.hash {
            return Err(Error::Schema {
                reason: format!(
                    "contract `{}` says its hash is {} but its contents hash to {computed}; \
                     export the schema again from the Rust contract",
                    service.namespace, service.hash
                ),
            });
        }
    }
    Ok(services)
}

impl Service {
    /// The contract as pretty-printed JSON: the input of `ipc-bindgen --schema` (see
    /// [`read_schemas`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use ipc_schema::{Method, MethodKind, Service};
    ///
    /// let service = Service::builder("Todos", "todos")
    ///     .method(Method::new("log", "todos:log", MethodKind::Send).param_raw("line", "String", "string"))
    ///     .build();
    /// let json = service.to_json();
    /// assert!(json.contains("\"channel\": \"todos:log\""));
    /// ```
    pub fn to_json(&self) -> String {
        // Serializing plain strings, vectors and maps cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}
