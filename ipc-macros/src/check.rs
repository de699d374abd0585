//! Stage 2: every rule a contract must follow, checked across the whole trait. All violations
//! are collected with their spans so the user sees them together.

use std::collections::HashMap;

use ipc_schema::naming;
use syn::spanned::Spanned;
use syn::visit::Visit;

use crate::errors::Errors;
use crate::parse::{Contract, Kind, MethodDef, Output, PolicyAttr, Receiver};

/// Checks `contract`, collecting every error; returns the indices of the methods an error was
/// found in (the rest of the contract can still be generated, so that code using it does not
/// fail with a cascade of unknown names).
pub(crate) fn check(contract: &Contract, errors: &mut Errors) -> Vec<usize> {
    let mut faulty = Vec::new();
    for (tokens, message) in &contract.trait_shape {
        errors.spanned(tokens, message);
    }
    match &contract.namespace {
        Some(namespace) => {
            if let Err(problem) = naming::validate_namespace(&namespace.value()) {
                errors.spanned(namespace, format!("invalid namespace: {problem}"));
            }
        }
        None => {
            let derived = naming::default_namespace(&contract.ident.to_string());
            if let Err(problem) = naming::validate_namespace(&derived) {
                errors.spanned(
                    &contract.ident,
                    format!(
                        "invalid namespace (derived from the trait's name): {problem}; give one \
                         with #[channels(namespace = \"...\")]"
                    ),
                );
            }
        }
    }
    check_policy_level(&contract.policy, errors);
    let mut channels: HashMap<String, &syn::Ident> = HashMap::new();
    let mut client_names: HashMap<String, &syn::Ident> = HashMap::new();
    for (index, method) in contract.methods.iter().enumerate() {
        let before = errors.count();
        check_method(contract, method, errors);
        if contract.capability.is_some() {
            check_capability_method(method, errors);
        }
        let segment = channel_segment(method);
        if let Some(first) = channels.insert(segment.clone(), &method.ident) {
            let message = format!(
                "channel `{segment}` is already used by method `{first}`; give this one another name with #[rename = \"...\"]"
            );
            // Point at what gave this method the name: its #[rename], or its own name.
            match &method.rename {
                Some(rename) => errors.spanned(rename, message),
                None => errors.spanned(&method.ident, message),
            }
        }
        let client = client_method_name(method);
        if let Some(first) = client_names.insert(client.clone(), &method.ident) {
            errors.spanned(
                &method.ident,
                format!(
                    "the generated client method `{client}` clashes with the one for `{first}`"
                ),
            );
        }
        if method.unreadable || errors.count() > before {
            faulty.push(index);
        }
    }
    faulty
}

/// The rules of one level: each must be able to admit someone.
fn check_policy_level(level: &[PolicyAttr], errors: &mut Errors) {
    for policy in level {
        if let Some(problem) = policy.rule.problem() {
            errors.spanned(&policy.attr, problem);
        }
    }
}

/// A method's policy: not on a request (main makes those), and able to admit someone the
/// trait's policy admits too.
fn check_method_policy(contract: &Contract, method: &MethodDef, errors: &mut Errors) {
    if method.kind == Kind::Request {
        for policy in &method.policy {
            errors.spanned(
                &policy.attr,
                "#[policy] does not apply to a #[request]: main makes requests, a renderer \
                 answers them (the trait's policy does not apply to them either)",
            );
        }
        return;
    }
    check_policy_level(&method.policy, errors);
    let usable = |level: &[PolicyAttr]| level.iter().all(|p| p.rule.problem().is_none());
    if contract.policy.is_empty()
        || method.policy.is_empty()
        || !usable(&contract.policy)
        || !usable(&method.policy)
    {
        return;
    }
    let admits_someone = method.policy.iter().any(|own| {
        contract
            .policy
            .iter()
            .any(|outer| own.rule.and(&outer.rule).is_some())
    });
    if !admits_someone {
        let outer = ipc_schema::policy::describe(
            &contract
                .policy
                .iter()
                .map(|p| p.rule.clone())
                .collect::<Vec<_>>(),
        );
        for policy in &method.policy {
            errors.spanned(
                &policy.attr,
                format!(
                    "this policy and the trait's ({outer}) can never both hold: a call must \
                     satisfy both, so no renderer could use `{}`",
                    method.ident
                ),
            );
        }
    }
}

/// The method's segment of the channel name (see [`naming::channel_segment`]).
pub(crate) fn channel_segment(method: &MethodDef) -> String {
    let rename = method.rename.as_ref().map(syn::LitStr::value);
    naming::channel_segment(&method.ident.to_string(), rename.as_deref()).to_owned()
}

/// The name of the generated client method (see [`naming::client_method_name`]).
pub(crate) fn client_method_name(method: &MethodDef) -> String {
    naming::client_method_name(&method.ident.to_string(), method.kind.into())
}

fn check_method(contract: &Contract, method: &MethodDef, errors: &mut Errors) {
    let sig = &method.sig;
    const ALLOWED: &str = "allowed: #[send], #[event], #[request], #[sync], #[rename = \"...\"], \
        #[policy(...)], #[cfg(...)] and doc comments";
    check_method_policy(contract, method, errors);
    for (attr, meant) in &method.unknown_attrs {
        match meant {
            Some(kind) => errors.spanned(
                attr,
                format!(
                    "unknown attribute on a channel method: did you mean {}? ({ALLOWED})",
                    kind.attr_name()
                ),
            ),
            None => errors.spanned(
                attr,
                format!("unknown attribute on a channel method; {ALLOWED}"),
            ),
        }
    }
    if let Some((_, second)) = method.kind_attrs.get(1) {
        errors.spanned(
            second,
            "a method has one kind: no attribute (invoke), #[send], #[event], #[request] or #[sync], not several",
        );
    }
    if let Some(rename) = &method.rename {
        if let Err(problem) = naming::validate_segment(&rename.value()) {
            errors.spanned(rename, format!("invalid channel name: {problem}"));
        }
    } else if let Err(problem) = naming::validate_segment(naming::unraw(&method.ident.to_string()))
    {
        errors.spanned(&method.ident, format!("invalid channel name: {problem}"));
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        errors.spanned(
            &sig.generics,
            "channel methods cannot be generic: every argument and result needs one concrete type on the wire",
        );
    }
    if let Some(constness) = &sig.constness {
        errors.spanned(constness, "channel methods cannot be `const`");
    }
    if let Some(unsafety) = &sig.unsafety {
        errors.spanned(unsafety, "channel methods cannot be `unsafe`");
    }
    if let Some(abi) = &sig.abi {
        errors.spanned(abi, "channel methods cannot declare an ABI");
    }
    if let Some(variadic) = &sig.variadic {
        errors.spanned(variadic, "channel methods cannot be variadic");
    }
    if let Some(body) = &method.body {
        errors.spanned(
            body,
            "channel methods are declarations: remove the default body (implement the generated handler trait instead)",
        );
    }
    match &method.receiver {
        Receiver::SharedRef => {}
        Receiver::Other(tokens, what) => errors.spanned(
            tokens,
            format!(
                "{what} is not allowed: channel methods take `&self` (handlers run concurrently)"
            ),
        ),
        Receiver::Missing => errors.spanned(
            &sig.ident,
            "channel methods take `&self` as their first parameter",
        ),
    }
    match method.kind {
        Kind::Invoke => {
            if sig.asyncness.is_none() {
                errors.spanned(
                    sig.fn_token,
                    "an invoke method must be `async fn` (request/response); mark fire-and-forget methods #[send] and main-to-renderer pushes #[event]",
                );
            }
        }
        Kind::Sync => {
            if sig.asyncness.is_none() {
                errors.spanned(
                    sig.fn_token,
                    "a #[sync] method must be `async fn`: main's handler is an ordinary async handler, only the caller blocks",
                );
            }
            if let Some((millis, span)) = method.sync_timeout
                && !(1..=ipc_schema::MAX_SYNC_TIMEOUT_MS).contains(&millis)
            {
                errors.at(
                    span,
                    format!(
                        "timeout_ms must be between 1 and {} (a renderer blocked longer is frozen for its user)",
                        ipc_schema::MAX_SYNC_TIMEOUT_MS
                    ),
                );
            }
            let types = method
                .params
                .iter()
                .map(|param| &param.ty)
                .chain(method.output.types());
            for ty in types {
                if let Some(segment) = port_segment(ty) {
                    errors.spanned(
                        segment,
                        format!(
                            "a #[sync] method cannot carry `{}`: a port outlives the blocking call; use an invoke",
                            segment.ident
                        ),
                    );
                }
            }
        }
        Kind::Request => {
            if sig.asyncness.is_none() {
                errors.spanned(
                    sig.fn_token,
                    "a #[request] method must be `async fn`: main awaits the renderer's answer",
                );
            }
        }
        Kind::Send | Kind::Event => {
            if let Some(asyncness) = &sig.asyncness {
                errors.spanned(
                    asyncness,
                    format!(
                        "{} methods are fire-and-forget: declare them with `fn`, not `async fn`",
                        method.kind.attr_name()
                    ),
                );
            }
            if !method.output.is_unit() {
                errors.spanned(
                    &sig.output,
                    format!("{} methods cannot return a value (use an `async fn` invoke for request/response)", method.kind.attr_name()),
                );
            }
        }
    }
    for param in &method.params {
        if param.ident.is_none() {
            errors.spanned(
                &param.pat,
                "parameters must be plain names (`title: String`), not patterns",
            );
        }
        check_type(contract, &param.ty, "argument", errors);
    }
    match &method.output {
        Output::Unit => {}
        Output::Plain(ty) => check_type(contract, ty, "result", errors),
        Output::Result { ok, err } => {
            check_type(contract, ok, "result", errors);
            check_type(contract, err, "error", errors);
        }
    }
}

/// A capability's methods are called through its handle: invokes only (nothing to subscribe to,
/// nobody to ask back, no blocking). A `#[policy]` (the trait's or the method's) is judged at
/// each call against the handle's holder, where main serves the object.
fn check_capability_method(method: &MethodDef, errors: &mut Errors) {
    if method.kind != Kind::Invoke {
        errors.spanned(
            &method.ident,
            format!(
                "a capability's methods are invokes (`async fn`), called through a handle; \
                 {} has no meaning there",
                method.kind.attr_name()
            ),
        );
    }
    if naming::unraw(&method.ident.to_string()) == "handle" {
        errors.spanned(
            &method.ident,
            "`handle` is the generated client's accessor of its handle: name the method \
             otherwise (`#[rename = \"handle\"]` keeps the wire name)",
        );
    }
}

/// The first `Port<..>` or `Stream<..>` in `ty`, by name with type arguments (what the macro can
/// see of it; an alias is caught by `ipc-bindgen`, which reads the types' wire forms).
fn port_segment(ty: &syn::Type) -> Option<&syn::PathSegment> {
    struct Find<'ast>(Option<&'ast syn::PathSegment>);
    impl<'ast> Visit<'ast> for Find<'ast> {
        fn visit_path_segment(&mut self, segment: &'ast syn::PathSegment) {
            let generic = matches!(segment.arguments, syn::PathArguments::AngleBracketed(_));
            let named =
                segment.ident == "Port" || segment.ident == "Stream" || segment.ident == "Handle";
            if self.0.is_none() && generic && named {
                self.0 = Some(segment);
            }
            syn::visit::visit_path_segment(self, segment);
        }
    }
    let mut find = Find(None);
    find.visit_type(ty);
    find.0
}

/// Types must be owned, concrete, and (unless opted in) free of 64-bit integers.
fn check_type(contract: &Contract, ty: &syn::Type, role: &str, errors: &mut Errors) {
    match crate::forms::time_type(ty, &contract.krate) {
        Err(error) => errors.push(error),
        Ok(Some(_)) if role == "error" => errors.spanned(
            ty,
            "an application error cannot hold a time value directly: put it in a #[data] type",
        ),
        Ok(_) => {}
    }
    let mut visitor = TypeRules {
        contract,
        role,
        errors,
    };
    visitor.visit_type(ty);
}

struct TypeRules<'a> {
    contract: &'a Contract,
    role: &'a str,
    errors: &'a mut Errors,
}

impl<'ast> Visit<'ast> for TypeRules<'_> {
    fn visit_type_reference(&mut self, reference: &'ast syn::TypeReference) {
        self.errors.spanned(
            reference,
            format!(
                "{} types must be owned: values cross a process boundary (use `String` for `&str`, `Vec<T>` for `&[T]`)",
                self.role
            ),
        );
    }

    fn visit_type_impl_trait(&mut self, ty: &'ast syn::TypeImplTrait) {
        self.errors.spanned(
            ty,
            format!(
                "`impl Trait` is not allowed in {} types: the wire needs one concrete type",
                self.role
            ),
        );
    }

    fn visit_type_trait_object(&mut self, ty: &'ast syn::TypeTraitObject) {
        self.errors.spanned(
            ty,
            format!(
                "trait objects are not allowed in {} types: the wire needs one concrete type",
                self.role
            ),
        );
    }

    fn visit_type_ptr(&mut self, ty: &'ast syn::TypePtr) {
        self.errors
            .spanned(ty, format!("raw pointers cannot be {} types", self.role));
    }

    fn visit_type_bare_fn(&mut self, ty: &'ast syn::TypeBareFn) {
        self.errors.spanned(
            ty,
            format!("function pointers cannot be {} types", self.role),
        );
    }

    fn visit_type_infer(&mut self, ty: &'ast syn::TypeInfer) {
        self.errors.spanned(
            ty,
            format!("{} types must be written out, not `_`", self.role),
        );
    }

    fn visit_type_never(&mut self, ty: &'ast syn::TypeNever) {
        self.errors.spanned(
            ty,
            format!(
                "`!` cannot be an {} type; use `()` or remove the result",
                self.role
            ),
        );
    }

    fn visit_type_macro(&mut self, ty: &'ast syn::TypeMacro) {
        self.errors.spanned(
            ty,
            format!(
                "macros are not allowed in {} types (the contract must be readable as written)",
                self.role
            ),
        );
    }

    fn visit_lifetime(&mut self, lifetime: &'ast syn::Lifetime) {
        self.errors.spanned(
            lifetime,
            format!(
                "{} types cannot borrow (no lifetimes): values cross a process boundary",
                self.role
            ),
        );
    }

    fn visit_path_segment(&mut self, segment: &'ast syn::PathSegment) {
        let name = segment.ident.to_string();
        if name == "Self" {
            self.errors.spanned(
                segment,
                format!(
                    "`Self` cannot appear in {} types: the contract has no implementing type",
                    self.role
                ),
            );
        }
        if self.contract.large_ints == ipc_schema::LargeInts::Reject
            && !self.contract.large_ints_unknown
            && naming::is_large_int(&name)
        {
            self.errors.at(
                segment.ident.span(),
                format!(
                    "`{name}` cannot cross to JavaScript exactly (numbers hold 53 bits): use a 32-bit integer, `f64` or a `String`, or opt in with #[channels(large_ints = \"bigint\")] (a JavaScript bigint) or #[channels(large_ints = \"number\")] (a number, exact up to 2^53)"
                ),
            );
        }
        if self.contract.large_ints == ipc_schema::LargeInts::BigInt
            && naming::is_large_int(&name)
            && name.contains("128")
        {
            self.errors.at(
                segment.ident.span(),
                format!(
                    "`{name}` has no MessagePack integer form (it would cross as 16 bytes, not a bigint): use a 64-bit integer or a `String`"
                ),
            );
        }
        syn::visit::visit_path_segment(self, segment);
    }

    fn visit_type_path(&mut self, ty: &'ast syn::TypePath) {
        if let Some(qself) = &ty.qself {
            self.errors.spanned(
                &qself.ty,
                format!(
                    "qualified paths (`<T as Trait>::X`) are not allowed in {} types",
                    self.role
                ),
            );
        }
        syn::visit::visit_type_path(self, ty);
    }

    fn visit_expr(&mut self, expr: &'ast syn::Expr) {
        // Array lengths are expressions; nothing in them is a type rule.
        let _ = expr.span();
    }
}
