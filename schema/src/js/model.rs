//! The validated view of the services that every generator renders from: names resolved and
//! checked for collisions once, argument checks derived once.

use std::collections::{BTreeMap, BTreeSet};

use super::text::{js_string, js_value};
use super::{Error, Isolation, shape};
use crate::model::{MethodKind, Service, TypeDecl};
use crate::naming;

/// Everything the renderers need, resolved once: names, shapes, types.
pub(super) struct Model<'a> {
    pub key: String,
    pub isolation: Isolation,
    pub services: Vec<ServiceModel<'a>>,
    /// Named types of every service, deduplicated by name.
    pub types: BTreeMap<String, &'a TypeDecl>,
    /// Namespace to contract hash.
    pub contracts: BTreeMap<String, String>,
    /// The capability contracts the services' handles reach (`IpcHandle<"ns">`), by namespace.
    pub capabilities: Vec<CapabilityModel<'a>>,
}

/// A capability contract: the methods of the objects its handles reach.
pub(super) struct CapabilityModel<'a> {
    pub service: &'a Service,
    /// `NotebookHandle`.
    pub handle_type: String,
    /// `NotebookObject`: what a page passes to serve one.
    pub object_type: String,
    pub methods: Vec<MethodModel<'a>>,
}

pub(super) struct ServiceModel<'a> {
    pub service: &'a Service,
    /// The namespace property when several services share the key; `None` for one service.
    pub property: Option<String>,
    /// `TodosApi`.
    pub api_type: String,
    /// `TodosErrors`.
    pub errors_type: String,
    pub methods: Vec<MethodModel<'a>>,
}

pub(super) struct MethodModel<'a> {
    pub method: &'a crate::model::Method,
    /// Parameter names safe to use as TypeScript identifiers.
    pub param_names: Vec<String>,
    /// The argument checks, as JavaScript literals.
    pub shapes: Vec<String>,
    /// For an invoke whose result is a stream or a port: its shape, as a JavaScript literal.
    pub result: Option<String>,
    /// The shape of the success value, when it holds timestamps or 64-bit integers (read into
    /// `Date`s and `bigint`s as it arrives; timestamps into text as a request's answer leaves).
    pub returns: Option<String>,
    /// The shape of the application error, when it holds either.
    pub fails: Option<String>,
}

impl MethodModel<'_> {
    /// `, params: [...]` and, where they apply, the shapes of what comes back: an invoke's
    /// stream or port result (`result`), a success value or application error that JavaScript
    /// reads into values of its own (`returns`, `fails`).
    fn values_js(&self) -> String {
        let params: Vec<String> = self
            .param_names
            .iter()
            .zip(&self.shapes)
            .map(|(name, shape)| format!("[{}, {shape}]", js_string(name)))
            .collect();
        let mut out = format!(", params: [{}]", params.join(", "));
        for (name, shape) in [
            ("result", &self.result),
            ("returns", &self.returns),
            ("fails", &self.fails),
        ] {
            if let Some(shape) = shape {
                out.push_str(&format!(", {name}: {shape}"));
            }
        }
        out
    }
}

/// Adds `service`'s named types to `types`, refusing reserved names and two different types of
/// one name.
fn merge_types<'a>(
    types: &mut BTreeMap<String, &'a TypeDecl>,
    service: &'a Service,
) -> Result<(), Error> {
    for (name, decl) in &service.types {
        if naming::is_reserved_type_name(name) {
            return Err(Error::Conflict {
                what: format!(
                    "type `{name}` of contract `{}` has a name the generated bindings \
                     declare themselves; rename it",
                    service.namespace
                ),
            });
        }
        match types.get(name) {
            Some(existing) if existing.declaration != decl.declaration => {
                return Err(Error::Conflict {
                    what: format!("two contracts declare different types named `{name}`"),
                });
            }
            Some(_) => {}
            None => {
                types.insert(name.clone(), decl);
            }
        }
    }
    Ok(())
}

/// The methods of `service` with their names and shapes resolved.
fn method_models(service: &Service) -> Result<Vec<MethodModel<'_>>, Error> {
    let mut js_names = BTreeSet::new();
    let mut methods = Vec::new();
    for method in &service.methods {
        if !naming::is_js_identifier(&method.js_name) || !js_names.insert(method.js_name.clone()) {
            return Err(Error::Conflict {
                what: format!(
                    "method `{}` of `{}` does not give a distinct JavaScript name \
                     (`{}`)",
                    method.name, service.namespace, method.js_name
                ),
            });
        }
        let param_names = naming::js_param_names(method.params.iter().map(|p| p.js_name.as_str()));
        let shapes = method
            .params
            .iter()
            .map(|p| shape::of(&p.ty, &service.types).to_js())
            .collect();
        let carries_ports = |shape: &shape::Shape| {
            matches!(shape, shape::Shape::Stream(_) | shape::Shape::Port(..))
        };
        if method.kind == MethodKind::Sync
            && method
                .types()
                .any(|ty| carries_ports(&shape::of(ty, &service.types)))
        {
            return Err(Error::Unsupported {
                what: format!(
                    "sync method `{}` of `{}` carries a stream or a port, which a blocking \
                     call cannot hand over (it outlives the call): make it an invoke",
                    method.name, service.namespace
                ),
            });
        }
        let result = match (&method.output, method.kind) {
            (Some(output), MethodKind::Invoke) => match shape::of(output, &service.types) {
                shape @ (shape::Shape::Stream(_) | shape::Shape::Port(..)) => Some(shape.to_js()),
                _ => None,
            },
            _ => None,
        };
        let dated = |ty: Option<&crate::model::TypeRef>| {
            ty.map(|ty| shape::of(ty, &service.types))
                .filter(shape::Shape::needs_reading)
                .map(|shape| shape.to_js())
        };
        // A stream's or a port's items are read with the shape in `result`.
        let returns = dated(method.output.as_ref()).filter(|_| result.is_none());
        let fails = dated(method.error.as_ref());
        methods.push(MethodModel {
            method,
            param_names,
            shapes,
            result,
            returns,
            fails,
        });
    }
    Ok(methods)
}

impl<'a> Model<'a> {
    /// Resolves and checks everything the generators need from these settings.
    pub fn build(
        services: &[&'a Service],
        key: Option<&str>,
        isolation: Isolation,
    ) -> Result<Self, Error> {
        if services.is_empty() {
            return Err(Error::NoServices);
        }
        for service in services {
            let uses = service.large_int_uses();
            if !uses.is_empty() {
                return Err(Error::LargeInts {
                    service: service.name.clone(),
                    uses,
                });
            }
        }
        let several = services.len() > 1;
        let key = match key {
            Some(key) => key.to_owned(),
            None => {
                let namespaces: Vec<&str> = services.iter().map(|s| s.namespace.as_str()).collect();
                naming::default_api_key(&namespaces)
            }
        };
        if !naming::is_js_identifier(&key) {
            return Err(Error::InvalidKey { key });
        }

        let mut types: BTreeMap<String, &'a TypeDecl> = BTreeMap::new();
        let mut contracts = BTreeMap::new();
        let mut properties = BTreeSet::new();
        let mut type_names = BTreeSet::new();
        let mut models = Vec::new();
        for service in services {
            // A hand-written schema could name the framework's own channels, which the bridge
            // and the preload handle themselves.
            if let Err(problem) = naming::validate_namespace(&service.namespace) {
                return Err(Error::Conflict {
                    what: format!("contract `{}`: {problem}", service.name),
                });
            }
            if let Some(method) = service
                .methods
                .iter()
                .find(|m| m.channel.starts_with(naming::RESERVED_NAMESPACE_PREFIX))
            {
                return Err(Error::Conflict {
                    what: format!(
                        "channel `{}` of contract `{}` starts with `{}`, which is reserved for \
                         the framework's own channels",
                        method.channel,
                        service.name,
                        naming::RESERVED_NAMESPACE_PREFIX
                    ),
                });
            }
            if contracts
                .insert(service.namespace.clone(), service.hash.clone())
                .is_some()
            {
                return Err(Error::Conflict {
                    what: format!("two services use the namespace `{}`", service.namespace),
                });
            }
            merge_types(&mut types, service)?;
            let property = several.then(|| naming::js_property(&service.namespace));
            if let Some(property) = &property {
                if !naming::is_js_identifier(property) || !properties.insert(property.clone()) {
                    return Err(Error::Conflict {
                        what: format!(
                            "namespace `{}` does not give a distinct JavaScript property name \
                             (`{property}`)",
                            service.namespace
                        ),
                    });
                }
            }
            let api_type = naming::ts_api_type(&service.name);
            let errors_type = naming::ts_errors_type(&service.name);
            for name in [&api_type, &errors_type] {
                if !type_names.insert(name.clone()) {
                    return Err(Error::Conflict {
                        what: format!("two services would both declare `{name}`"),
                    });
                }
            }
            let methods = method_models(service)?;
            models.push(ServiceModel {
                service,
                property,
                api_type,
                errors_type,
                methods,
            });
        }
        let mut capabilities: Vec<CapabilityModel<'a>> = Vec::new();
        for capability in services.iter().flat_map(|s| s.capabilities.iter()) {
            if let Some(known) = capabilities
                .iter()
                .find(|c| c.service.namespace == capability.namespace)
            {
                if known.service.hash != capability.hash {
                    return Err(Error::Conflict {
                        what: format!(
                            "two contracts reach different capabilities named `{}`",
                            capability.namespace
                        ),
                    });
                }
                continue;
            }
            if contracts.contains_key(&capability.namespace) {
                return Err(Error::Conflict {
                    what: format!(
                        "capability `{}` has the namespace of a contract the bindings expose",
                        capability.namespace
                    ),
                });
            }
            let uses = capability.large_int_uses();
            if !uses.is_empty() {
                return Err(Error::LargeInts {
                    service: capability.name.clone(),
                    uses,
                });
            }
            if let Some(method) = capability
                .methods
                .iter()
                .find(|m| matches!(m.js_name.as_str(), "release" | "released" | "then"))
            {
                return Err(Error::Conflict {
                    what: format!(
                        "method `{}` of capability `{}` has the name of a handle's own member \
                         (`release`, `released`) or `then` (a handle with a `then` would be taken \
                         for a promise): rename it",
                        method.name, capability.namespace
                    ),
                });
            }
            merge_types(&mut types, capability)?;
            let handle_type = naming::ts_handle_type(&capability.name);
            let object_type = naming::ts_object_type(&capability.name);
            for declared in [&handle_type, &object_type] {
                if !type_names.insert(declared.clone()) {
                    return Err(Error::Conflict {
                        what: format!("two contracts would both declare `{declared}`"),
                    });
                }
            }
            capabilities.push(CapabilityModel {
                service: capability,
                handle_type,
                object_type,
                methods: method_models(capability)?,
            });
        }
        capabilities.sort_by(|a, b| a.service.namespace.cmp(&b.service.namespace));
        // Every handle must reach a capability whose methods the bindings know.
        let reached = services
            .iter()
            .copied()
            .chain(capabilities.iter().map(|c| c.service));
        for service in reached {
            for method in &service.methods {
                let mut found = BTreeSet::new();
                for ty in method.types() {
                    shape::of(ty, &service.types).handles(&mut found);
                }
                if let Some(missing) = found
                    .iter()
                    .find(|ns| !capabilities.iter().any(|c| &c.service.namespace == *ns))
                {
                    return Err(Error::Unsupported {
                        what: format!(
                            "method `{}` of `{}` carries a handle to capability `{missing}`, \
                             whose contract the schema does not include (its `capabilities`): \
                             export the schema with the generated `schema()`, which lists every \
                             capability a contract reaches",
                            method.name, service.namespace
                        ),
                    });
                }
            }
        }
        for name in types.keys() {
            // Timestamps are typed `Date`, JavaScript's own: a declaration would hide it.
            if name == "Date" {
                return Err(Error::Conflict {
                    what:
                        "contract type `Date` would hide JavaScript's `Date` in the declarations \
                           (timestamps are typed `Date`): rename it"
                            .into(),
                });
            }
            if type_names.contains(name) {
                return Err(Error::Conflict {
                    what: format!(
                        "contract type `{name}` has the name of a generated API interface"
                    ),
                });
            }
        }
        Ok(Model {
            key,
            isolation,
            services: models,
            types,
            contracts,
            capabilities,
        })
    }

    /// Every method with its service, in declaration order.
    pub fn methods(&self) -> impl Iterator<Item = (&ServiceModel<'a>, &MethodModel<'a>)> {
        self.services
            .iter()
            .flat_map(|s| s.methods.iter().map(move |m| (s, m)))
    }

    /// The first line of every generated file.
    pub fn header(&self, comment: &str) -> String {
        let contracts: Vec<String> = self
            .contracts
            .iter()
            .map(|(ns, hash)| format!("{ns}@{hash}"))
            .collect();
        format!(
            "{comment} @generated by ipc-bindgen from contract {}. Do not edit: regenerate from the Rust contract.\n",
            contracts.join(", ")
        )
    }

    /// `{"todos":"…"}` as a JavaScript literal.
    pub fn contracts_js(&self) -> String {
        js_value(&self.contracts)
    }

    /// `true` when a contract types its 64-bit integers as `bigint`: the peers' decoder then
    /// reads an integer beyond 2^53 into a `bigint` (exact) instead of a `number`.
    pub fn bigints_js(&self) -> &'static str {
        let bigint = self
            .services
            .iter()
            .any(|s| s.service.large_ints == crate::model::LargeInts::BigInt);
        if bigint { "true" } else { "false" }
    }

    /// The method table shared by the preload, the facade and the browser client.
    pub fn methods_js(&self) -> String {
        let mut out = String::from("[\n");
        for (service, method) in self.methods() {
            let ns = match &service.property {
                Some(p) => js_string(p),
                None => "null".into(),
            };
            let mut extra = String::new();
            if method.method.kind == MethodKind::Request && method.method.error.is_some() {
                extra.push_str(", app: true");
            }
            if method.method.kind == MethodKind::Sync {
                let millis = method.method.sync_timeout_ms();
                extra.push_str(&format!(", timeoutMs: {millis}"));
            }
            let levels = service.service.policy_levels(method.method);
            if !levels.is_empty() {
                extra.push_str(&format!(", policy: {}", js_value(&levels)));
            }
            out.push_str(&format!(
                "  {{ ns: {ns}, name: {}, kind: {}, channel: {}{}{extra} }},\n",
                js_string(&method.method.js_name),
                js_string(method.method.kind.as_str()),
                js_string(&method.method.channel),
                method.values_js(),
            ));
        }
        out.push(']');
        out
    }

    /// The capability table: by namespace, the contract's name and its methods (each with its
    /// wire name, the `m` of a call: docs/PROTOCOL.md §7.3).
    pub fn capabilities_js(&self) -> String {
        let mut out = String::from("{");
        for capability in &self.capabilities {
            let namespace = &capability.service.namespace;
            out.push_str(&format!(
                "\n  {}: {{ name: {}, methods: [\n",
                js_string(namespace),
                js_string(&capability.service.name)
            ));
            for method in &capability.methods {
                let channel = &method.method.channel;
                let wire = channel
                    .strip_prefix(namespace.as_str())
                    .and_then(|rest| rest.strip_prefix(':'))
                    .unwrap_or(channel);
                // A page serving the capability answers a thrown `IpcAppError` as the method's
                // application error only where the method declares one.
                let app = if method.method.error.is_some() {
                    ", app: true"
                } else {
                    ""
                };
                out.push_str(&format!(
                    "    {{ name: {}, wire: {}, channel: {}{}{app} }},\n",
                    js_string(&method.method.js_name),
                    js_string(wire),
                    js_string(channel),
                    method.values_js(),
                ));
            }
            out.push_str("  ] },");
        }
        if !self.capabilities.is_empty() {
            out.push('\n');
        }
        out.push('}');
        out
    }

    /// The declared policy levels of every channel that has some, by channel (for the bridge).
    pub fn policies_js(&self) -> String {
        let policies: BTreeMap<&str, Vec<&[crate::Rule]>> = self
            .methods()
            .filter_map(|(service, m)| {
                let levels = service.service.policy_levels(m.method);
                (!levels.is_empty()).then_some((m.method.channel.as_str(), levels))
            })
            .collect();
        js_value(&policies)
    }

    /// The deadline of every sync channel, by channel, as a JavaScript object literal.
    pub fn sync_deadlines_js(&self) -> String {
        let deadlines: BTreeMap<&str, u64> = self
            .methods()
            .filter(|(_, m)| m.method.kind == MethodKind::Sync)
            .map(|(_, m)| (m.method.channel.as_str(), m.method.sync_timeout_ms()))
            .collect();
        js_value(&deadlines)
    }

    /// Channels of one kind, as a JavaScript array literal.
    pub fn channels_js(&self, kind: MethodKind) -> String {
        let channels: Vec<&str> = self
            .methods()
            .filter(|(_, m)| m.method.kind == kind)
            .map(|(_, m)| m.method.channel.as_str())
            .collect();
        js_value(&channels)
    }
}
