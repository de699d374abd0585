//! Stage 3: one generator per output. `contract` emits the marker type with the channel
//! constants and entry points, `server` the handler trait and registration, `client` the
//! renderer-side client, `events` the emitter, `requests` the renderer's handler trait and main's
//! client of it (for `#[request]` methods), `schema` the contract as data.

mod capability;
mod client;
mod contract;
mod events;
mod mock;
mod requests;
mod schema;
mod server;

use ipc_schema::naming;
use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use crate::check::{channel_segment, client_method_name};
use crate::parse::{Contract, Kind, MethodDef, Output};

/// What every generator needs to know about one method, computed once.
pub(crate) struct Prepared<'a> {
    pub(crate) def: &'a MethodDef,
    pub(crate) channel: String,
    pub(crate) const_ident: syn::Ident,
    pub(crate) client_ident: syn::Ident,
    pub(crate) param_idents: Vec<syn::Ident>,
    pub(crate) param_types: Vec<&'a syn::Type>,
    /// The positional arguments as one type: a tuple, or `NoArgs`.
    pub(crate) args_type: TokenStream,
    /// A pattern that destructures `args_type` into the parameter names.
    pub(crate) args_pattern: TokenStream,
    /// An expression that builds `args_type` from the parameter names.
    pub(crate) args_value: TokenStream,
    /// Per parameter, the type that describes it (its own, or with time values replaced by
    /// their wire forms' markers).
    pub(crate) param_describe: Vec<TokenStream>,
    /// When the success value holds time values: the type that describes it, and the type that
    /// carries it (`Wire<T, Form>`).
    pub(crate) output_time: Option<(TokenStream, TokenStream)>,
    pub(crate) cfgs: &'a [syn::Attribute],
    pub(crate) docs: &'a [syn::Attribute],
}

pub(crate) struct Names {
    pub(crate) krate: syn::Path,
    pub(crate) contract: syn::Ident,
    pub(crate) handler: syn::Ident,
    pub(crate) client: syn::Ident,
    pub(crate) events: syn::Ident,
    pub(crate) namespace: String,
}

pub(crate) fn render(contract: &Contract) -> TokenStream {
    let names = Names {
        krate: contract.krate.clone(),
        contract: contract.ident.clone(),
        handler: derived_ident(naming::handler_type, &contract.ident),
        client: derived_ident(naming::client_type, &contract.ident),
        events: derived_ident(naming::events_type, &contract.ident),
        namespace: contract
            .namespace
            .as_ref()
            .map(syn::LitStr::value)
            .unwrap_or_else(|| naming::default_namespace(&contract.ident.to_string())),
    };
    let methods: Vec<Prepared<'_>> = contract
        .methods
        .iter()
        .map(|def| prepare(&names, def))
        .collect();
    let mut out = TokenStream::new();
    if contract.capability.is_some() {
        out.extend(capability::render(contract, &names, &methods));
        out.extend(schema::render(contract, &names, &methods));
        return out;
    }
    out.extend(contract::render(contract, &names, &methods));
    out.extend(server::render(contract, &names, &methods));
    out.extend(client::render(contract, &names, &methods));
    out.extend(events::render(contract, &names, &methods));
    out.extend(requests::render(contract, &names, &methods));
    out.extend(mock::render(contract, &names, &methods));
    out.extend(schema::render(contract, &names, &methods));
    out
}

fn prepare<'a>(names: &Names, def: &'a MethodDef) -> Prepared<'a> {
    let krate = &names.krate;
    let param_idents: Vec<syn::Ident> = def
        .params
        .iter()
        .enumerate()
        .map(|(i, p)| {
            p.ident
                .clone()
                .unwrap_or_else(|| format_ident!("__arg{}", i))
        })
        .collect();
    let param_types: Vec<&syn::Type> = def.params.iter().map(|p| &p.ty).collect();
    // A parameter holding time values travels in its wire form (`crate::forms`); the checks have
    // reported the ones no form reaches.
    let param_time: Vec<Option<crate::forms::TimeType>> = param_types
        .iter()
        .map(|ty| crate::forms::time_type(ty, krate).ok().flatten())
        .collect();
    let (args_type, args_pattern, args_value) = if param_idents.is_empty() {
        (
            quote!(#krate::__private::NoArgs),
            quote!(_),
            quote!(#krate::__private::NoArgs),
        )
    } else {
        let mut types = Vec::new();
        let mut patterns = Vec::new();
        let mut values = Vec::new();
        for ((ident, ty), time) in param_idents.iter().zip(&param_types).zip(&param_time) {
            match time {
                Some(time) => {
                    let form = &time.form;
                    types.push(quote!(#krate::__private::Wire<#ty, #form>));
                    patterns.push(quote!(#krate::__private::Wire(#ident, _)));
                    values.push(quote!(#krate::__private::Wire::new(#ident)));
                }
                None => {
                    types.push(quote!(#ty));
                    patterns.push(quote!(#ident));
                    values.push(quote!(#ident));
                }
            }
        }
        (
            quote!((#(#types,)*)),
            quote!((#(#patterns,)*)),
            quote!((#(#values,)*)),
        )
    };
    let param_describe = param_types
        .iter()
        .zip(&param_time)
        .map(|(ty, time)| match time {
            Some(time) => time.describe.clone(),
            None => ty.to_token_stream(),
        })
        .collect();
    let output_time = match &def.output {
        Output::Unit => None,
        Output::Plain(ty) | Output::Result { ok: ty, .. } => crate::forms::time_type(ty, krate)
            .ok()
            .flatten()
            .map(|time| {
                let form = &time.form;
                (time.describe, quote!(#krate::__private::Wire<#ty, #form>))
            }),
    };
    let unraw = naming::unraw(&def.ident.to_string()).to_string();
    Prepared {
        def,
        channel: naming::channel_name(&names.namespace, &channel_segment(def)),
        const_ident: syn::Ident::new(&naming::const_name(&unraw), def.ident.span()),
        client_ident: ident_like(&client_method_name(def), def.ident.span()),
        param_idents,
        param_types,
        args_type,
        args_pattern,
        args_value,
        param_describe,
        output_time,
        cfgs: &def.cfg_attrs,
        docs: &def.doc_attrs,
    }
}

/// A method of a generated handler trait (main's `{Trait}Handler`, the renderer's
/// `{Trait}RendererHandler`): `&self`, the caller when `with_caller`, the contract's parameters,
/// and a `Send` future of `output`. The declaration is spanned on the contract's method, so that
/// errors in a handler impl (a missing method, a wrong parameter count or return type) show the
/// contract's line as the requirement, not the whole `#[channels]` attribute.
fn handler_method(
    krate: &syn::Path,
    method: &Prepared<'_>,
    output: TokenStream,
    with_caller: bool,
) -> TokenStream {
    let (signature, semi) = handler_signature(krate, method, output, with_caller);
    let Prepared { cfgs, docs, .. } = method;
    quote! {
        #(#cfgs)*
        #(#docs)*
        #signature #semi
    }
}

/// The same method in `impl<H: Handler> Handler for Arc<H>`: it forwards to the shared handler
/// (a handler kept behind an `Arc` elsewhere is a handler too).
fn shared_handler_method(
    krate: &syn::Path,
    handler: &syn::Ident,
    method: &Prepared<'_>,
    output: TokenStream,
    with_caller: bool,
) -> TokenStream {
    let (signature, _) = handler_signature(krate, method, output, with_caller);
    let Prepared {
        def,
        param_idents,
        cfgs,
        ..
    } = method;
    let name = &def.ident;
    let shared = local("Shared");
    let caller = with_caller.then(|| {
        let caller = caller_ident(method);
        quote!(#caller,)
    });
    quote! {
        #(#cfgs)*
        #[inline]
        #signature {
            <#shared as #handler>::#name(&**self, #caller #(#param_idents),*)
        }
    }
}

/// `impl<H: #handler> #handler for Arc<H>`, its methods made by `forward`.
fn shared_handler_impl(
    krate: &syn::Path,
    handler: &syn::Ident,
    methods: impl Iterator<Item = TokenStream>,
) -> TokenStream {
    let shared = local("Shared");
    quote! {
        impl<#shared: #handler> #handler for #krate::__private::Arc<#shared> {
            #(#methods)*
        }
    }
}

fn caller_ident(method: &Prepared<'_>) -> syn::Ident {
    let sig = &method.def.sig;
    let receiver_span = sig
        .receiver()
        .map_or(sig.ident.span(), |r| r.self_token.span);
    syn::Ident::new("caller", Span::mixed_site().located_at(receiver_span))
}

/// A handler method's signature (`fn name(&self, [caller,] params) -> impl Future<..> + Send`)
/// and the semicolon that ends its declaration, spanned like the trait's method.
fn handler_signature(
    krate: &syn::Path,
    method: &Prepared<'_>,
    output: TokenStream,
    with_caller: bool,
) -> (TokenStream, syn::Token![;]) {
    let Prepared {
        def,
        param_idents,
        param_types,
        ..
    } = method;
    let sig = &def.sig;
    let name = &def.ident;
    let fn_token = syn::Token![fn](sig.fn_token.span);
    let receiver_span = sig
        .receiver()
        .map_or(sig.ident.span(), |r| r.self_token.span);
    let receiver = quote_spanned!(receiver_span=> &self);
    let caller = with_caller.then(|| {
        let caller = caller_ident(method);
        let caller_type = quote_spanned!(receiver_span=> &#krate::__private::Caller);
        quote!(#caller: #caller_type,)
    });
    let output_span = match &sig.output {
        syn::ReturnType::Type(_, ty) => ty.span(),
        syn::ReturnType::Default => sig.paren_token.span.close(),
    };
    let returns = quote_spanned! {output_span=>
        -> impl #krate::__private::Future<Output = #output> + #krate::__private::Send
    };
    let semi = syn::Token![;](def.semi_span.unwrap_or(output_span));
    (
        quote!(#fn_token #name(#receiver, #caller #(#param_idents: #param_types),*) #returns),
        semi,
    )
}

/// What a contract's zero-sized marker type derives (`Todos`, a capability's `FileHandle`).
fn marker_derives() -> TokenStream {
    quote! {
        #[derive(
            ::core::fmt::Debug,
            ::core::clone::Clone,
            ::core::marker::Copy,
            ::core::cmp::PartialEq,
            ::core::cmp::Eq,
            ::core::hash::Hash,
            ::core::default::Default,
        )]
    }
}

/// An empty doc line between the user's docs and the generated ones, when there are user docs (so
/// an undocumented method's generated docs do not start with a blank line).
pub(crate) fn docs_gap(docs: &[syn::Attribute]) -> TokenStream {
    if docs.is_empty() {
        TokenStream::new()
    } else {
        quote!(#[doc = ""])
    }
}

/// A variable or parameter of generated code. Its mixed-site span keeps it apart from the user's
/// parameters: a method parameter named `caller`, `handler` or `target` neither clashes with nor
/// shadows the generated binding of that name.
pub(crate) fn local(name: &str) -> syn::Ident {
    syn::Ident::new(name, Span::mixed_site())
}

/// The identifier `rule` names after `ident`, spanned like it so errors about the generated item
/// point at the trait's name.
fn derived_ident(rule: fn(&str) -> String, ident: &syn::Ident) -> syn::Ident {
    syn::Ident::new(&rule(&ident.to_string()), ident.span())
}

/// An identifier for `name`, raw when `name` is a keyword.
fn ident_like(name: &str, span: Span) -> syn::Ident {
    syn::parse_str::<syn::Ident>(name)
        .map(|mut ident| {
            ident.set_span(span);
            ident
        })
        .unwrap_or_else(|_| syn::Ident::new_raw(name, span))
}

impl Prepared<'_> {
    pub(crate) fn kind(&self) -> Kind {
        self.def.kind
    }

    /// `(T, E)` of an invoke: E is `Never` when the method is not fallible.
    pub(crate) fn result_types(&self, krate: &syn::Path) -> (TokenStream, TokenStream) {
        match &self.def.output {
            Output::Unit => (quote!(()), quote!(#krate::__private::Never)),
            Output::Plain(ty) => (ty.to_token_stream(), quote!(#krate::__private::Never)),
            Output::Result { ok, err } => (ok.to_token_stream(), err.to_token_stream()),
        }
    }

    /// `(T, E)` as the channel carries them: `T` in its wire form when it holds time values.
    pub(crate) fn channel_result_types(&self, krate: &syn::Path) -> (TokenStream, TokenStream) {
        let (ok, err) = self.result_types(krate);
        match &self.output_time {
            Some((_, wire)) => (wire.clone(), err),
            None => (ok, err),
        }
    }

    /// A handler's awaited `call` as the channel's `Result<T, E>` (`T` in its wire form when
    /// it holds time values).
    pub(crate) fn handler_result(&self, krate: &syn::Path, call: TokenStream) -> TokenStream {
        let wrap = self
            .output_time
            .as_ref()
            .map(|_| quote!(#krate::__private::Wire::new));
        match (self.is_fallible(), wrap) {
            (true, None) => call,
            (true, Some(wrap)) => quote!(#krate::__private::Result::map(#call, #wrap)),
            (false, None) => quote!(#krate::__private::Ok::<_, #krate::__private::Never>(#call)),
            (false, Some(wrap)) => {
                quote!(#krate::__private::Ok::<_, #krate::__private::Never>(#wrap(#call)))
            }
        }
    }

    /// `.unwired()` after a call of the channel when its result travels in a wire form.
    pub(crate) fn unwire(&self) -> TokenStream {
        match self.output_time {
            Some(_) => quote!(.unwired()),
            None => TokenStream::new(),
        }
    }

    pub(crate) fn is_fallible(&self) -> bool {
        matches!(self.def.output, Output::Result { .. })
    }

    /// Whether main handles the method (invokes, sync calls and sends; main emits events and
    /// makes requests).
    pub(crate) fn is_main_handled(&self) -> bool {
        matches!(self.def.kind, Kind::Invoke | Kind::Sync | Kind::Send)
    }
}

/// The methods of `item` at the indices `faulty` (among its methods), as they were written, in a
/// hidden trait of their own: what they name stays used (no "unused import" warnings on top of
/// their errors), and nothing else refers to it.
pub(crate) fn faulty_methods(item: &syn::ItemTrait, faulty: &[usize]) -> TokenStream {
    if faulty.is_empty() {
        return TokenStream::new();
    }
    let mut item = item.clone();
    let mut index = 0;
    item.items.retain(|trait_item| match trait_item {
        syn::TraitItem::Fn(_) => {
            index += 1;
            faulty.contains(&(index - 1))
        }
        _ => false,
    });
    item.ident = quote::format_ident!("__{}FaultyMethods", item.ident);
    item.vis = syn::Visibility::Inherited;
    // Its docs are not ours to show under another name.
    item.attrs.retain(|attr| !attr.path().is_ident("doc"));
    let out = original_trait(&item);
    quote::quote! {
        #[doc(hidden)]
        #[allow(dead_code, non_camel_case_types)]
        #out
    }
}

/// The trait as the user wrote it, so that a contract with errors still compiles as a trait (and
/// IDEs keep resolving it). Only doc comments, `#[cfg]` and (on the trait) `#[allow]` are kept:
/// the helper attributes only `#[channels]` understands, and the ones it has just reported as
/// unsupported, would each add a second error ("cannot find attribute") for the same mistake.
pub(crate) fn original_trait(item: &syn::ItemTrait) -> TokenStream {
    let mut item = item.clone();
    item.attrs
        .retain(|attr| attr.path().is_ident("doc") || attr.path().is_ident("allow"));
    for trait_item in &mut item.items {
        if let syn::TraitItem::Fn(method) = trait_item {
            method
                .attrs
                .retain(|attr| attr.path().is_ident("doc") || attr.path().is_ident("cfg"));
        }
    }
    item.into_token_stream()
}
