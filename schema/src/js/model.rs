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

/// The declared types that hold a capability handle, directly or through another such type.
fn types_holding_handles(service: &Service) -> Vec<&str> {
    let mut holding: Vec<&str> = Vec::new();
    loop {
        let more: Vec<&str> = service
            .types
            .values()
            .filter(|decl| !holding.contains(&decl.name.as_str()))
            .filter(|decl| {
                decl.declaration.contains("IpcHandle<")
                    || holding.iter().any(|name| mentions(&decl.declaration, name))
            })
            .map(|decl| decl.name.as_str())
            .collect();
        if more.is_empty() {
            return holding;
        }
        holding.extend(more);
    }
}

/// Whether TypeScript text names `name` (as a whole word).
fn mentions(text: &str, name: &str) -> bool {
    text.match_indices(name).any(|(at, _)| {
        let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
        !word(text[..at].chars().next_back()) && !word(text[at + name.len()..].chars().next())
    })
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
            let mut js_names = BTreeSet::new();
            let mut methods = Vec::new();
            for method in &service.methods {
                if !naming::is_js_identifier(&method.js_name)
                    || !js_names.insert(method.js_name.clone())
                {
                    return Err(Error::Conflict {
                        what: format!(
                            "method `{}` of `{}` does not give a distinct JavaScript name \
                             (`{}`)",
                            method.name, service.namespace, method.js_name
                        ),
                    });
                }
                let param_names =
                    naming::js_param_names(method.params.iter().map(|p| p.js_name.as_str()));
                let shapes = method
                    .params
                    .iter()
                    .map(|p| shape::of(&p.ty, &service.types).to_js())
                    .collect();
                // Capability handles (`Handle<C>`, `IpcHandle<"ns@hash">`) reach Rust renderers
                // only, for now: a JavaScript peer would get an object it cannot call.
                let holding = types_holding_handles(service);
                let holds_handle = |ts: &str| {
                    ts.contains("IpcHandle<") || holding.iter().any(|name| mentions(ts, name))
                };
                if let Some(ty) = method.types().find(|ty| holds_handle(&ty.ts)) {
                    return Err(Error::Unsupported {
                        what: format!(
                            "method `{}` of `{}` carries a capability handle (`{}`), which the \
                             JavaScript bindings do not carry yet: give JavaScript pages invokes \
                             that take the object's id instead, or reach it from a Rust renderer",
                            method.name, service.namespace, ty.rust
                        ),
                    });
                }
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
                        shape @ (shape::Shape::Stream(_) | shape::Shape::Port(..)) => {
                            Some(shape.to_js())
                        }
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
            models.push(ServiceModel {
                service,
                property,
                api_type,
                errors_type,
                methods,
            });
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
            let params: Vec<String> = method
                .param_names
                .iter()
                .zip(&method.shapes)
                .map(|(name, shape)| format!("[{}, {shape}]", js_string(name)))
                .collect();
            // Only where they apply: what an invoke's stream or port result looks like, and whether
            // a request's handler may fail with the contract's application error.
            let mut extra = String::new();
            if let Some(result) = &method.result {
                extra.push_str(&format!(", result: {result}"));
            }
            if let Some(returns) = &method.returns {
                extra.push_str(&format!(", returns: {returns}"));
            }
            if let Some(fails) = &method.fails {
                extra.push_str(&format!(", fails: {fails}"));
            }
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
                "  {{ ns: {ns}, name: {}, kind: {}, channel: {}, params: [{}]{extra} }},\n",
                js_string(&method.method.js_name),
                js_string(method.method.kind.as_str()),
                js_string(&method.method.channel),
                params.join(", ")
            ));
        }
        out.push(']');
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
