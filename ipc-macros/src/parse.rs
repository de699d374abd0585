//! Stage 1: the trait as an AST. Parsing is lenient (it records what it sees, with spans) and
//! reports only what cannot be represented; the rules live in `check`.

use proc_macro2::TokenStream;
use quote::ToTokens;

use crate::errors::Errors;

/// A `#[channels]` trait.
pub(crate) struct Contract {
    pub(crate) vis: syn::Visibility,
    pub(crate) ident: syn::Ident,
    pub(crate) docs: String,
    pub(crate) doc_attrs: Vec<syn::Attribute>,
    pub(crate) namespace: Option<syn::LitStr>,
    pub(crate) krate: syn::Path,
    /// How 64-bit integers cross (`large_ints = "reject" | "number" | "bigint"`).
    pub(crate) large_ints: ipc_schema::LargeInts,
    pub(crate) methods: Vec<MethodDef>,
    /// `#[policy(...)]` on the trait, each with its attribute (for spans).
    pub(crate) policy: Vec<PolicyAttr>,
    /// What `check` must reject at the trait level (generics, supertraits, non-method items),
    /// with the tokens to point at.
    pub(crate) trait_shape: Vec<(TokenStream, String)>,
    /// `large_ints` was given but not understood: its error is reported, and the 64-bit integer
    /// rule is not applied (the user meant to choose one).
    pub(crate) large_ints_unknown: bool,
    /// `#[channels(capability)]`: the contract of objects reached through handles.
    pub(crate) capability: Option<proc_macro2::Span>,
}

/// The kind of a method, with the span of what decided it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Invoke,
    Send,
    Event,
    /// Main to one renderer, answered (`#[request]`).
    Request,
    /// A renderer to main, answered while the renderer blocks (`#[sync]`).
    Sync,
}

impl From<Kind> for ipc_schema::MethodKind {
    fn from(kind: Kind) -> Self {
        match kind {
            Kind::Invoke => ipc_schema::MethodKind::Invoke,
            Kind::Send => ipc_schema::MethodKind::Send,
            Kind::Event => ipc_schema::MethodKind::Event,
            Kind::Request => ipc_schema::MethodKind::Request,
            Kind::Sync => ipc_schema::MethodKind::Sync,
        }
    }
}

impl Kind {
    pub(crate) fn attr_name(self) -> &'static str {
        match self {
            Kind::Invoke => "invoke",
            Kind::Send => "#[send]",
            Kind::Event => "#[event]",
            Kind::Request => "#[request]",
            Kind::Sync => "#[sync]",
        }
    }
}

pub(crate) struct MethodDef {
    pub(crate) sig: syn::Signature,
    pub(crate) ident: syn::Ident,
    pub(crate) kind: Kind,
    /// Every kind attribute seen (more than one is an error).
    pub(crate) kind_attrs: Vec<(Kind, syn::Attribute)>,
    pub(crate) rename: Option<syn::LitStr>,
    /// `timeout_ms = N` of `#[sync(...)]`, in milliseconds.
    pub(crate) sync_timeout: Option<(u64, proc_macro2::Span)>,
    /// `#[policy(...)]` on the method.
    pub(crate) policy: Vec<PolicyAttr>,
    pub(crate) docs: String,
    pub(crate) doc_attrs: Vec<syn::Attribute>,
    pub(crate) cfg_attrs: Vec<syn::Attribute>,
    /// Attributes `#[channels]` does not understand, each with the kind attribute it looks like a
    /// misspelling of (`#[sned]`), if any.
    pub(crate) unknown_attrs: Vec<(syn::Attribute, Option<Kind>)>,
    pub(crate) receiver: Receiver,
    pub(crate) params: Vec<ParamDef>,
    pub(crate) output: Output,
    pub(crate) body: Option<syn::Block>,
    /// The `;` ending the declaration (absent when there is a body).
    pub(crate) semi_span: Option<proc_macro2::Span>,
    /// Whether reading its attributes already found an error (the method is then faulty).
    pub(crate) unreadable: bool,
}

pub(crate) enum Receiver {
    /// `&self`, as required.
    SharedRef,
    /// Anything else, with its tokens and a description for the error.
    Other(TokenStream, &'static str),
    Missing,
}

pub(crate) struct ParamDef {
    /// `None` when the pattern is not a plain identifier.
    pub(crate) ident: Option<syn::Ident>,
    pub(crate) pat: syn::Pat,
    pub(crate) ty: syn::Type,
}

// Built once per method and only read: boxing the types would buy nothing.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Output {
    Unit,
    Plain(syn::Type),
    Result { ok: syn::Type, err: syn::Type },
}

impl MethodDef {
    /// A `#[sync]` method's deadline in milliseconds: its own, else the default.
    pub(crate) fn sync_timeout_ms(&self) -> u64 {
        self.sync_timeout
            .map_or(ipc_schema::DEFAULT_SYNC_TIMEOUT_MS, |(millis, _)| millis)
    }
}

impl Output {
    pub(crate) fn is_unit(&self) -> bool {
        matches!(self, Output::Unit)
    }

    /// The declared types: none, the value's, or the value's and the error's.
    pub(crate) fn types(&self) -> impl Iterator<Item = &syn::Type> {
        let (first, second) = match self {
            Output::Unit => (None, None),
            Output::Plain(ty) => (Some(ty), None),
            Output::Result { ok, err } => (Some(ok), Some(err)),
        };
        first.into_iter().chain(second)
    }
}

pub(crate) fn parse(
    args: TokenStream,
    item: &syn::ItemTrait,
    errors: &mut Errors,
) -> Option<Contract> {
    let mut namespace = None;
    let mut krate: syn::Path = syn::parse_quote!(::ipc_runtime);
    let mut large_ints = ipc_schema::LargeInts::Reject;
    let mut large_ints_unknown = false;
    let mut capability = None;
    // Problems with one argument are collected and parsing goes on, so that a misspelled argument
    // does not hide the others (and the errors they would prevent).
    let mut arg_errors = Vec::new();
    let parser = syn::meta::parser(|meta| {
        if meta.path.is_ident("namespace") {
            namespace = Some(meta.value()?.parse::<syn::LitStr>()?);
            Ok(())
        } else if meta.path.is_ident("capability") {
            capability = Some(syn::spanned::Spanned::span(&meta.path));
            Ok(())
        } else if meta.path.is_ident("crate") {
            let lit: syn::LitStr = meta.value()?.parse()?;
            krate = lit.parse()?;
            Ok(())
        } else if meta.path.is_ident("large_ints") {
            let lit: syn::LitStr = meta.value()?.parse()?;
            match lit.value().as_str() {
                "reject" => large_ints = ipc_schema::LargeInts::Reject,
                "number" => large_ints = ipc_schema::LargeInts::Number,
                "bigint" => large_ints = ipc_schema::LargeInts::BigInt,
                other => {
                    large_ints_unknown = true;
                    arg_errors.push(syn::Error::new(
                        lit.span(),
                        format!(
                            "unknown large_ints rule `{other}`; expected \"reject\", \"number\" or \"bigint\""
                        ),
                    ));
                }
            }
            Ok(())
        } else {
            arg_errors.push(meta.error(
                "unknown #[channels] argument; allowed: namespace = \"...\", crate = \"...\", large_ints = \"reject\" | \"number\" | \"bigint\", capability",
            ));
            // Skip its value, whatever it is, and go on with the next argument.
            skip_value(&meta)
        }
    });
    if let Err(error) = syn::parse::Parser::parse2(parser, args) {
        errors.push(error);
    }
    for error in arg_errors {
        errors.push(error);
    }

    let mut trait_shape = Vec::new();
    if !item.generics.params.is_empty() || item.generics.where_clause.is_some() {
        trait_shape.push((
            item.generics.to_token_stream(),
            "a #[channels] trait cannot be generic: the contract must be one concrete set of types"
                .into(),
        ));
    }
    if let Some(colon) = &item.colon_token {
        let supertraits = &item.supertraits;
        trait_shape.push((
            quote::quote!(#colon #supertraits),
            "a #[channels] trait cannot have supertraits".into(),
        ));
    }
    if let Some(unsafety) = &item.unsafety {
        trait_shape.push((
            unsafety.to_token_stream(),
            "a #[channels] trait cannot be `unsafe`".into(),
        ));
    }
    if let Some(auto) = &item.auto_token {
        trait_shape.push((
            auto.to_token_stream(),
            "a #[channels] trait cannot be `auto`".into(),
        ));
    }
    let mut policy = Vec::new();
    for attr in &item.attrs {
        if attr.path().is_ident("policy") {
            policy.extend(parse_policy(attr, errors));
        } else if !is_doc(attr) && !attr.path().is_ident("allow") {
            trait_shape.push((
                attr.to_token_stream(),
                "unsupported attribute on a #[channels] trait; allowed: doc comments, #[policy(...)] and #[allow(...)]".into(),
            ));
        }
    }

    let mut methods = Vec::new();
    for trait_item in &item.items {
        match trait_item {
            syn::TraitItem::Fn(method) => methods.push(parse_method(method, errors)),
            other => trait_shape.push((
                other.to_token_stream(),
                "a #[channels] trait may only contain methods (no associated types, constants or macros)".into(),
            )),
        }
    }

    Some(Contract {
        vis: item.vis.clone(),
        ident: item.ident.clone(),
        docs: docs_of(&item.attrs),
        doc_attrs: item.attrs.iter().filter(|a| is_doc(a)).cloned().collect(),
        namespace,
        krate,
        large_ints,
        methods,
        policy,
        trait_shape,
        large_ints_unknown,
        capability,
    })
}

fn parse_method(method: &syn::TraitItemFn, errors: &mut Errors) -> MethodDef {
    let errors_before = errors.count();
    let mut kind_attrs = Vec::new();
    let mut rename = None;
    let mut cfg_attrs = Vec::new();
    let mut doc_attrs = Vec::new();
    let mut unknown_attrs = Vec::new();
    let mut policy = Vec::new();
    let mut sync_timeout = None;
    for attr in &method.attrs {
        let path = attr.path();
        if path.is_ident("policy") {
            policy.extend(parse_policy(attr, errors));
        } else if path.is_ident("sync") {
            if let syn::Meta::List(_) = &attr.meta {
                sync_timeout = parse_sync(attr, errors);
            } else if !matches!(attr.meta, syn::Meta::Path(_)) {
                errors.spanned(attr, SYNC_FORM);
            }
            kind_attrs.push((Kind::Sync, attr.clone()));
        } else if path.is_ident("send") || path.is_ident("event") || path.is_ident("request") {
            let kind = if path.is_ident("send") {
                Kind::Send
            } else if path.is_ident("event") {
                Kind::Event
            } else {
                Kind::Request
            };
            if !matches!(attr.meta, syn::Meta::Path(_)) {
                errors.spanned(attr, format!("{} takes no arguments", kind.attr_name()));
            }
            kind_attrs.push((kind, attr.clone()));
        } else if path.is_ident("rename") {
            match &attr.meta {
                syn::Meta::NameValue(syn::MetaNameValue {
                    value: syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(lit), .. }),
                    ..
                }) => {
                    if rename.is_some() {
                        errors.spanned(attr, "a method takes at most one #[rename = \"...\"]");
                    }
                    rename = Some(lit.clone());
                }
                _ => errors.spanned(
                    attr,
                    "expected #[rename = \"channel-segment\"] (renames this method's channel within the namespace)",
                ),
            }
        } else if path.is_ident("cfg") {
            cfg_attrs.push(attr.clone());
        } else if is_doc(attr) {
            doc_attrs.push(attr.clone());
        } else {
            unknown_attrs.push((attr.clone(), misspelled_kind(attr)));
        }
    }
    // A misspelled kind attribute (`#[sned]`) is reported as such, and the method is checked as
    // the kind it was meant to be, so the typo does not cause a second, misleading error.
    let kind = kind_attrs
        .first()
        .map(|(kind, _)| *kind)
        .or_else(|| unknown_attrs.iter().find_map(|(_, meant)| *meant))
        .unwrap_or(Kind::Invoke);

    let mut receiver = Receiver::Missing;
    let mut params = Vec::new();
    for input in &method.sig.inputs {
        match input {
            syn::FnArg::Receiver(r) => {
                receiver = if r.colon_token.is_some() {
                    Receiver::Other(r.to_token_stream(), "a typed receiver (`self: ...`)")
                } else if r.reference.is_none() {
                    Receiver::Other(r.to_token_stream(), "`self` by value")
                } else if r.mutability.is_some() {
                    Receiver::Other(r.to_token_stream(), "`&mut self`")
                } else {
                    Receiver::SharedRef
                };
            }
            syn::FnArg::Typed(typed) => {
                let ident = match &*typed.pat {
                    syn::Pat::Ident(pat) if pat.by_ref.is_none() && pat.subpat.is_none() => {
                        Some(pat.ident.clone())
                    }
                    _ => None,
                };
                params.push(ParamDef {
                    ident,
                    pat: (*typed.pat).clone(),
                    ty: (*typed.ty).clone(),
                });
            }
        }
    }

    MethodDef {
        sig: method.sig.clone(),
        ident: method.sig.ident.clone(),
        kind,
        kind_attrs,
        rename,
        sync_timeout,
        policy,
        docs: docs_of(&method.attrs),
        doc_attrs,
        cfg_attrs,
        unknown_attrs,
        receiver,
        params,
        output: parse_output(&method.sig.output),
        body: method.default.clone(),
        semi_span: method.semi_token.map(|semi| semi.span),
        unreadable: errors.count() > errors_before,
    }
}

/// One `#[policy(...)]` attribute: a rule, and the attribute to point at.
pub(crate) struct PolicyAttr {
    pub(crate) attr: syn::Attribute,
    pub(crate) rule: ipc_schema::Rule,
}

const POLICY_HELP: &str = "allowed in #[policy(...)]: native, window, page, web, \
    origin = \"scheme://host[:port]\", main_frame, capability = \"name\"";

/// Parses `#[policy(window, origin = "https://app.example", main_frame, capability = "admin")]`.
/// Every clause problem is reported; the rule is kept only when it parsed cleanly (a half-read
/// rule would be wider than what the user wrote).
fn parse_policy(attr: &syn::Attribute, errors: &mut Errors) -> Option<PolicyAttr> {
    use ipc_schema::RendererKind;
    let syn::Meta::List(list) = &attr.meta else {
        errors.spanned(
            attr,
            format!("expected #[policy(clause, ...)]; {POLICY_HELP}"),
        );
        return None;
    };
    if list.tokens.is_empty() {
        errors.spanned(
            attr,
            format!(
                "an empty #[policy()] would admit every renderer: name what it admits, or remove \
                 it; {POLICY_HELP}"
            ),
        );
        return None;
    }
    let mut rule = ipc_schema::Rule::new();
    let mut clause_errors = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    let parsed = list.parse_nested_meta(|meta| {
        let Some(name) = meta.path.get_ident().map(ToString::to_string) else {
            clause_errors.push(meta.error(format!("unknown policy clause; {POLICY_HELP}")));
            return Ok(());
        };
        let repeatable = matches!(name.as_str(), "origin" | "capability");
        if !repeatable && seen.contains(&name) {
            clause_errors.push(meta.error(format!("`{name}` is given twice")));
        }
        seen.push(name.clone());
        let kind = match name.as_str() {
            "native" => Some(vec![RendererKind::Native]),
            "window" => Some(vec![RendererKind::Window]),
            "page" => Some(vec![RendererKind::Page]),
            "web" => Some(vec![RendererKind::Window, RendererKind::Page]),
            _ => None,
        };
        if let Some(kinds) = kind {
            if !meta.input.is_empty() && !meta.input.peek(syn::Token![,]) {
                clause_errors.push(meta.error(format!("`{name}` takes no value")));
                skip_value(&meta)?;
            }
            for kind in kinds {
                rule = std::mem::take(&mut rule).renderer(kind);
            }
            return Ok(());
        }
        match name.as_str() {
            "main_frame" => {
                if !meta.input.is_empty() && !meta.input.peek(syn::Token![,]) {
                    clause_errors.push(meta.error("`main_frame` takes no value"));
                    skip_value(&meta)?;
                }
                rule.main_frame = true;
            }
            "origin" | "capability" => {
                if !meta.input.peek(syn::Token![=]) {
                    clause_errors.push(meta.error(format!("expected `{name} = \"...\"`")));
                    skip_value(&meta)?;
                    return Ok(());
                }
                let lit: syn::LitStr = meta.value()?.parse()?;
                let value = lit.value();
                let checked = if name == "origin" {
                    ipc_schema::policy::check_origin(&value)
                } else {
                    ipc_schema::policy::check_capability(&value)
                };
                match checked {
                    Err(problem) => clause_errors.push(syn::Error::new(lit.span(), problem)),
                    Ok(()) if name == "origin" => {
                        if rule.origins.contains(&value) {
                            clause_errors.push(syn::Error::new(
                                lit.span(),
                                format!("origin \"{value}\" is listed twice"),
                            ));
                        }
                        rule = std::mem::take(&mut rule).origin(value);
                    }
                    Ok(()) => rule = std::mem::take(&mut rule).capability(value),
                }
            }
            _ => {
                clause_errors
                    .push(meta.error(format!("unknown policy clause `{name}`; {POLICY_HELP}")));
                skip_value(&meta)?;
            }
        }
        Ok(())
    });
    if let Err(error) = parsed {
        errors.push(error);
        return None;
    }
    let clean = clause_errors.is_empty();
    for error in clause_errors {
        errors.push(error);
    }
    clean.then(|| PolicyAttr {
        attr: attr.clone(),
        rule,
    })
}

/// Skips a clause's value (`= expr` or `(...)`), whatever it is, so parsing goes on.
pub(crate) fn skip_value(meta: &syn::meta::ParseNestedMeta<'_>) -> syn::Result<()> {
    if meta.input.peek(syn::Token![=]) {
        meta.value()?.parse::<syn::Expr>()?;
    } else if meta.input.peek(syn::token::Paren) {
        meta.input.parse::<proc_macro2::Group>()?;
    }
    Ok(())
}

const SYNC_FORM: &str =
    "expected #[sync] or #[sync(timeout_ms = N)] (the caller is blocked at most N milliseconds)";

/// `#[sync(timeout_ms = N)]`: the deadline, if it is one (its problems are reported).
fn parse_sync(attr: &syn::Attribute, errors: &mut Errors) -> Option<(u64, proc_macro2::Span)> {
    let mut timeout = None;
    let result = attr.parse_nested_meta(|meta| {
        if !meta.path.is_ident("timeout_ms") {
            return Err(meta.error(SYNC_FORM));
        }
        let lit: syn::LitInt = meta.value()?.parse()?;
        let millis: u64 = lit.base10_parse()?;
        if timeout.is_some() {
            return Err(syn::Error::new(lit.span(), "timeout_ms is given twice"));
        }
        timeout = Some((millis, lit.span()));
        Ok(())
    });
    match result {
        Ok(()) if timeout.is_none() => {
            errors.spanned(attr, SYNC_FORM);
            None
        }
        Ok(()) => timeout,
        Err(error) => {
            errors.push(error);
            None
        }
    }
}

/// The kind attribute `attr` is probably a misspelling of: a name one or two edits away from one
/// kind's (`#[sned]`, `#[snyc(timeout_ms = 5)]`), and nearer to it than to any other.
fn misspelled_kind(attr: &syn::Attribute) -> Option<Kind> {
    let name = attr.path().get_ident()?.to_string();
    // Only `#[sync(...)]` takes arguments: another kind's name with a list is no misspelling.
    let listed = matches!(attr.meta, syn::Meta::List(_));
    let mut near: Vec<(usize, Kind)> = [
        ("send", Kind::Send),
        ("event", Kind::Event),
        ("request", Kind::Request),
        ("sync", Kind::Sync),
    ]
    .into_iter()
    .filter(|(_, kind)| !listed || *kind == Kind::Sync)
    .map(|(word, kind)| (edit_distance(&name, word), kind))
    .filter(|(distance, _)| *distance <= 2)
    .collect();
    near.sort_by_key(|(distance, _)| *distance);
    match near.as_slice() {
        // The nearest, unless another kind is as near (then there is no telling).
        [(d, kind), rest @ ..] if rest.first().is_none_or(|(next, _)| next > d) => Some(*kind),
        _ => None,
    }
}

/// Levenshtein distance (counting a swap of two neighbours as one edit).
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[a.len()][b.len()]
}

fn parse_output(output: &syn::ReturnType) -> Output {
    let ty = match output {
        syn::ReturnType::Default => return Output::Unit,
        syn::ReturnType::Type(_, ty) => ty,
    };
    if let syn::Type::Tuple(tuple) = &**ty {
        if tuple.elems.is_empty() {
            return Output::Unit;
        }
    }
    if let syn::Type::Path(path) = &**ty {
        if path.qself.is_none() {
            if let Some(last) = path.path.segments.last() {
                if last.ident == "Result" {
                    if let syn::PathArguments::AngleBracketed(args) = &last.arguments {
                        if let [ok, err] = type_arguments(args)[..] {
                            return Output::Result {
                                ok: ok.clone(),
                                err: err.clone(),
                            };
                        }
                    }
                }
            }
        }
    }
    Output::Plain((**ty).clone())
}

pub(crate) fn is_doc(attr: &syn::Attribute) -> bool {
    attr.path().is_ident("doc")
}

/// The text of `///` comments, one line each, with the single leading space rustdoc adds removed.
pub(crate) fn docs_of(attrs: &[syn::Attribute]) -> String {
    let lines: Vec<String> = attrs
        .iter()
        .filter(|a| is_doc(a))
        .filter_map(|attr| match &attr.meta {
            syn::Meta::NameValue(syn::MetaNameValue {
                value:
                    syn::Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Str(s),
                        ..
                    }),
                ..
            }) => Some(s.value()),
            _ => None,
        })
        .map(|line| {
            line.strip_prefix(' ')
                .unwrap_or(&line)
                .trim_end()
                .to_string()
        })
        .collect();
    lines.join("\n").trim().to_string()
}

/// The type arguments among `args` (`K` and `V` of `HashMap<K, V>`; lifetimes and constants
/// left out).
pub(crate) fn type_arguments(args: &syn::AngleBracketedGenericArguments) -> Vec<&syn::Type> {
    args.args
        .iter()
        .filter_map(|arg| match arg {
            syn::GenericArgument::Type(ty) => Some(ty),
            _ => None,
        })
        .collect()
}
