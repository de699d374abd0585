//! Stage 1: the trait as an AST. Parsing is lenient (it records what it sees, with spans) and
//! reports only what cannot be represented; the rules live in `check`.

use proc_macro2::{Span, TokenStream};
use syn::spanned::Spanned;

use crate::errors::Errors;

/// A `#[channels]` trait.
pub(crate) struct Contract {
    pub(crate) vis: syn::Visibility,
    pub(crate) ident: syn::Ident,
    pub(crate) docs: String,
    pub(crate) doc_attrs: Vec<syn::Attribute>,
    pub(crate) namespace: Option<syn::LitStr>,
    pub(crate) krate: syn::Path,
    pub(crate) large_ints_number: bool,
    pub(crate) methods: Vec<MethodDef>,
    /// What `check` must reject at the trait level: generics, supertraits, non-method items.
    pub(crate) trait_shape: Vec<(Span, String)>,
}

/// The kind of a method, with the span of what decided it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Invoke,
    Send,
    Event,
}

impl Kind {
    pub(crate) fn attr_name(self) -> &'static str {
        match self {
            Kind::Invoke => "invoke",
            Kind::Send => "#[send]",
            Kind::Event => "#[event]",
        }
    }
}

pub(crate) struct MethodDef {
    pub(crate) sig: syn::Signature,
    pub(crate) ident: syn::Ident,
    pub(crate) kind: Kind,
    /// Every kind attribute seen (more than one is an error).
    pub(crate) kind_attrs: Vec<(Kind, Span)>,
    pub(crate) rename: Option<syn::LitStr>,
    pub(crate) docs: String,
    pub(crate) doc_attrs: Vec<syn::Attribute>,
    pub(crate) cfg_attrs: Vec<syn::Attribute>,
    pub(crate) unknown_attrs: Vec<syn::Attribute>,
    pub(crate) receiver: Receiver,
    pub(crate) params: Vec<ParamDef>,
    pub(crate) output: Output,
    pub(crate) has_body: bool,
}

pub(crate) enum Receiver {
    /// `&self`, as required.
    SharedRef,
    /// Anything else, with a description for the error.
    Other(Span, &'static str),
    Missing,
}

pub(crate) struct ParamDef {
    /// `None` when the pattern is not a plain identifier.
    pub(crate) ident: Option<syn::Ident>,
    pub(crate) pat: syn::Pat,
    pub(crate) ty: syn::Type,
}

pub(crate) enum Output {
    Unit,
    Plain(syn::Type),
    Result { ok: syn::Type, err: syn::Type },
}

impl Output {
    pub(crate) fn is_unit(&self) -> bool {
        matches!(self, Output::Unit)
    }
}

pub(crate) fn parse(
    args: TokenStream,
    item: &syn::ItemTrait,
    errors: &mut Errors,
) -> Option<Contract> {
    let mut namespace = None;
    let mut krate: syn::Path = syn::parse_quote!(::ipc_runtime);
    let mut large_ints_number = false;
    let parser = syn::meta::parser(|meta| {
        if meta.path.is_ident("namespace") {
            namespace = Some(meta.value()?.parse::<syn::LitStr>()?);
            Ok(())
        } else if meta.path.is_ident("crate") {
            let lit: syn::LitStr = meta.value()?.parse()?;
            krate = lit.parse()?;
            Ok(())
        } else if meta.path.is_ident("large_ints") {
            let lit: syn::LitStr = meta.value()?.parse()?;
            match lit.value().as_str() {
                "reject" => large_ints_number = false,
                "number" => large_ints_number = true,
                other => {
                    return Err(syn::Error::new(
                        lit.span(),
                        format!(
                            "unknown large_ints rule `{other}`; expected \"reject\" or \"number\""
                        ),
                    ));
                }
            }
            Ok(())
        } else {
            Err(meta.error(
                "unknown #[channels] argument; allowed: namespace = \"...\", crate = \"...\", large_ints = \"reject\" | \"number\"",
            ))
        }
    });
    if let Err(error) = syn::parse::Parser::parse2(parser, args) {
        errors.push(error);
    }

    let mut trait_shape = Vec::new();
    if !item.generics.params.is_empty() || item.generics.where_clause.is_some() {
        trait_shape.push((
            item.generics.span(),
            "a #[channels] trait cannot be generic: the contract must be one concrete set of types"
                .into(),
        ));
    }
    if let Some(colon) = &item.colon_token {
        trait_shape.push((
            colon.span,
            "a #[channels] trait cannot have supertraits".into(),
        ));
    }
    if let Some(unsafety) = &item.unsafety {
        trait_shape.push((
            unsafety.span,
            "a #[channels] trait cannot be `unsafe`".into(),
        ));
    }
    if let Some(auto) = &item.auto_token {
        trait_shape.push((auto.span, "a #[channels] trait cannot be `auto`".into()));
    }
    for attr in &item.attrs {
        if !is_doc(attr) && !attr.path().is_ident("allow") {
            trait_shape.push((
                attr.span(),
                "unsupported attribute on a #[channels] trait; allowed: doc comments and #[allow(...)]".into(),
            ));
        }
    }

    let mut methods = Vec::new();
    for trait_item in &item.items {
        match trait_item {
            syn::TraitItem::Fn(method) => methods.push(parse_method(method, errors)),
            other => trait_shape.push((
                other.span(),
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
        large_ints_number,
        methods,
        trait_shape,
    })
}

fn parse_method(method: &syn::TraitItemFn, errors: &mut Errors) -> MethodDef {
    let mut kind_attrs = Vec::new();
    let mut rename = None;
    let mut cfg_attrs = Vec::new();
    let mut doc_attrs = Vec::new();
    let mut unknown_attrs = Vec::new();
    for attr in &method.attrs {
        let path = attr.path();
        if path.is_ident("send") || path.is_ident("event") {
            let kind = if path.is_ident("send") {
                Kind::Send
            } else {
                Kind::Event
            };
            if !matches!(attr.meta, syn::Meta::Path(_)) {
                errors.spanned(attr, format!("{} takes no arguments", kind.attr_name()));
            }
            kind_attrs.push((kind, attr.span()));
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
            unknown_attrs.push(attr.clone());
        }
    }
    let kind = kind_attrs.first().map_or(Kind::Invoke, |(kind, _)| *kind);

    let mut receiver = Receiver::Missing;
    let mut params = Vec::new();
    for input in &method.sig.inputs {
        match input {
            syn::FnArg::Receiver(r) => {
                receiver = if r.colon_token.is_some() {
                    Receiver::Other(r.span(), "a typed receiver (`self: ...`)")
                } else if r.reference.is_none() {
                    Receiver::Other(r.span(), "`self` by value")
                } else if r.mutability.is_some() {
                    Receiver::Other(r.span(), "`&mut self`")
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
        docs: docs_of(&method.attrs),
        doc_attrs,
        cfg_attrs,
        unknown_attrs,
        receiver,
        params,
        output: parse_output(&method.sig.output),
        has_body: method.default.is_some(),
    }
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
                        let types: Vec<&syn::Type> = args
                            .args
                            .iter()
                            .filter_map(|arg| match arg {
                                syn::GenericArgument::Type(ty) => Some(ty),
                                _ => None,
                            })
                            .collect();
                        if let [ok, err] = types[..] {
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
