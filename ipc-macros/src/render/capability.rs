//! A capability contract (`#[channels(capability)]`): objects reached through handles. The
//! marker type implements the runtime's `Capability`; `{Trait}Handler` is an object's methods
//! (no caller: whoever holds the handle calls them), `{Trait}::serve` gives a handle to one,
//! `{Trait}Client` calls through a handle. `{Trait}Call` and `{Trait}Reply` are what crosses the
//! handle's port (one variant per method, named by its wire name).

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use super::{Names, Prepared, docs_gap, handler_method, local};
use crate::check::channel_segment;
use crate::parse::Contract;

pub(crate) fn render(contract: &Contract, names: &Names, methods: &[Prepared<'_>]) -> TokenStream {
    let Names {
        krate,
        contract: ident,
        handler,
        client,
        namespace,
        ..
    } = names;
    let vis = &contract.vis;
    let docs = &contract.doc_attrs;
    let contract_gap = docs_gap(docs);
    let call = format_ident!("{}Call", ident);
    let reply = format_ident!("{}Reply", ident);
    let marker_derives = super::marker_derives();
    let serde_path = quote!(#krate::__private::serde)
        .to_string()
        .replace(' ', "");

    let variant = |m: &Prepared<'_>| m.def.ident.clone();
    let call_variants = methods.iter().map(|m| {
        let (name, wire, args, cfgs) = (variant(m), channel_segment(m.def), &m.args_type, m.cfgs);
        quote!(#(#cfgs)* #[serde(rename = #wire)] #name(#args),)
    });
    let reply_variants = methods.iter().map(|m| {
        let (name, wire, cfgs) = (variant(m), channel_segment(m.def), m.cfgs);
        let (ok, err) = m.channel_result_types(krate);
        quote!(#(#cfgs)* #[serde(rename = #wire)] #name(#krate::__private::Result<#ok, #err>),)
    });
    let output = |m: &Prepared<'_>| match &m.def.sig.output {
        syn::ReturnType::Type(_, ty) => quote!(#ty),
        syn::ReturnType::Default => quote!(()),
    };
    let trait_methods = methods
        .iter()
        .map(|m| handler_method(krate, m, output(m), false));
    let shared = super::shared_handler_impl(
        krate,
        handler,
        methods
            .iter()
            .map(|m| super::shared_handler_method(krate, handler, m, output(m), false)),
    );
    let handler_value = local("handler");
    let dispatch_arms = methods.iter().map(|m| {
        let Prepared {
            def,
            param_idents,
            args_pattern,
            cfgs,
            ..
        } = m;
        let (name, method) = (variant(m), &def.ident);
        let span = def.sig.span();
        let awaited = quote_spanned!(span=> #handler_value.#method(#(#param_idents),*).await);
        let result = m.handler_result(krate, awaited);
        quote! {
            #(#cfgs)*
            #call::#name(#args_pattern) => #krate::__private::Box::pin(async move {
                #reply::#name(#result)
            }),
        }
    });
    let (method_value, args_value, ok_value, outcome_value) =
        (local("method"), local("args"), local("ok"), local("value"));
    let call_of_arms = methods.iter().map(|m| {
        let (name, wire, args, cfgs) = (variant(m), channel_segment(m.def), &m.args_type, m.cfgs);
        quote! {
            #(#cfgs)*
            #wire => #args_value.take::<#args>().map(#call::#name),
        }
    });
    let reply_of_arms = methods.iter().map(|m| {
        let (name, wire, cfgs) = (variant(m), channel_segment(m.def), m.cfgs);
        let (ok, err) = m.channel_result_types(krate);
        quote! {
            #(#cfgs)*
            (#wire, true) => #outcome_value
                .take::<#ok>()
                .map(|#outcome_value| #reply::#name(#krate::__private::Ok(#outcome_value))),
            #(#cfgs)*
            (#wire, false) => #outcome_value
                .take::<#err>()
                .map(|#outcome_value| #reply::#name(#krate::__private::Err(#outcome_value))),
        }
    });
    let body_value = local("out");
    let call_body_arms = methods.iter().map(|m| {
        let (name, wire, cfgs) = (variant(m), channel_segment(m.def), m.cfgs);
        quote!(#(#cfgs)* #call::#name(ref #args_value) => #body_value.call(#wire, #args_value),)
    });
    let reply_body_arms = methods.iter().map(|m| {
        let (name, wire, cfgs) = (variant(m), channel_segment(m.def), m.cfgs);
        quote!(#(#cfgs)* #reply::#name(ref #outcome_value) => #body_value.reply(#wire, #outcome_value),)
    });
    let method_arms = methods.iter().map(|m| {
        let (name, wire, cfgs) = (variant(m), channel_segment(m.def), m.cfgs);
        quote!(#(#cfgs)* #call::#name(..) => #wire,)
    });
    let client_methods = methods.iter().map(|m| {
        let Prepared {
            client_ident,
            param_idents,
            param_types,
            args_value,
            cfgs,
            docs,
            ..
        } = m;
        let name = variant(m);
        let wire = channel_segment(m.def);
        let (ok, err) = m.result_types(krate);
        let unwire = m
            .output_time
            .as_ref()
            .map(|_| quote!(.map(|value| value.0)));
        let docs_gap = docs_gap(docs);
        quote! {
            #(#cfgs)*
            #(#docs)*
            #docs_gap
            /// Await the returned call; dropping it cancels the method on the object's side.
            #vis fn #client_ident(&self, #(#param_idents: #param_types),*) -> #krate::__private::HandleCall<#ok, #err> {
                self.handle.call(#wire, #call::#name(#args_value), |reply| {
                    #[allow(unreachable_patterns)]
                    match reply {
                        #reply::#name(result) => #krate::__private::Some(result #unwire),
                        _ => #krate::__private::None,
                    }
                })
            }
        }
    });
    let handler_doc = format!(
        "The methods of one [`{ident}`] object: implement it and serve it with \
         [`{ident}::serve`], which gives the handle to hand out."
    );
    let client_doc = format!(
        "Calls through a handle to a [`{ident}`] object (`Handle::client`): one method per \
         method of the contract."
    );
    quote! {
        #(#docs)*
        #contract_gap
        /// Generated by `#[channels(capability)]`: the capability's marker type; `Handle<Self>`
        /// reaches one object of it.
        #marker_derives
        #vis struct #ident;

        #[doc(hidden)]
        #[allow(non_camel_case_types)]
        #[derive(#krate::__private::serde::Serialize, #krate::__private::serde::Deserialize)]
        #[serde(crate = #serde_path, tag = "m", content = "args")]
        #vis enum #call {
            #(#call_variants)*
        }

        #[doc(hidden)]
        #[allow(non_camel_case_types)]
        #[derive(#krate::__private::serde::Serialize, #krate::__private::serde::Deserialize)]
        #[serde(crate = #serde_path, tag = "m", content = "outcome")]
        #vis enum #reply {
            #(#reply_variants)*
        }

        impl #krate::__private::MessageBody for #call {
            fn write_body(
                &self,
                #body_value: &mut #krate::__private::BodyWriter<'_>,
            ) -> #krate::__private::Result<(), #krate::__private::IpcError> {
                match *self {
                    #(#call_body_arms)*
                }
            }
        }

        impl #krate::__private::MessageBody for #reply {
            fn write_body(
                &self,
                #body_value: &mut #krate::__private::BodyWriter<'_>,
            ) -> #krate::__private::Result<(), #krate::__private::IpcError> {
                match *self {
                    #(#reply_body_arms)*
                }
            }
        }

        #[doc = #handler_doc]
        #vis trait #handler: #krate::__private::Send + #krate::__private::Sync + 'static {
            #(#trait_methods)*
        }

        #shared

        impl #ident {
            /// Serves `handler` as one object: returns the handle to give out (in a result, an
            /// argument or an event). The object lives until the handle's holder lets it go
            /// (drops it, disconnects, dies). Needs a Tokio runtime.
            #vis fn serve<H: #handler>(#handler_value: H) -> #krate::__private::Handle<#ident> {
                Self::serve_revocable(#handler_value).0
            }

            /// As [`Self::serve`], with the owner's `Revoker`: revoking ends the object, and every
            /// call through its handle fails with `IpcError::Revoked`.
            #vis fn serve_revocable<H: #handler>(
                #handler_value: H,
            ) -> (#krate::__private::Handle<#ident>, #krate::__private::Revoker) {
                #krate::__private::serve::<#ident, H>(
                    #handler_value,
                    |#handler_value: #krate::__private::Arc<H>, call: #call| -> ::core::pin::Pin<#krate::__private::Box<dyn #krate::__private::Future<Output = #reply> + #krate::__private::Send>> {
                        match call {
                            #(#dispatch_arms)*
                        }
                    },
                )
            }
        }

        impl #krate::__private::Capability for #ident {
            const NAME: &'static str = #namespace;
            type Call = #call;
            type Reply = #reply;
            type Client = #client;

            fn contract() -> &'static #krate::__private::Service {
                Self::__contract()
            }

            fn method(call: &#call) -> &'static str {
                match *call {
                    #(#method_arms)*
                }
            }

            #[allow(unreachable_code)]
            fn call_of(
                #method_value: &str,
                #args_value: #krate::__private::Payload,
            ) -> #krate::__private::Option<#krate::__private::Result<#call, #krate::__private::String>> {
                #krate::__private::Some(match #method_value {
                    #(#call_of_arms)*
                    _ => return #krate::__private::None,
                })
            }

            #[allow(unreachable_code)]
            fn reply_of(
                #method_value: &str,
                #ok_value: bool,
                #outcome_value: #krate::__private::Payload,
            ) -> #krate::__private::Option<#krate::__private::Result<#reply, #krate::__private::String>> {
                #krate::__private::Some(match (#method_value, #ok_value) {
                    #(#reply_of_arms)*
                    _ => return #krate::__private::None,
                })
            }
        }

        #[doc = #client_doc]
        #[derive(::core::fmt::Debug, ::core::clone::Clone)]
        #vis struct #client {
            handle: #krate::__private::Handle<#ident>,
        }

        impl ::core::convert::From<#krate::__private::Handle<#ident>> for #client {
            fn from(handle: #krate::__private::Handle<#ident>) -> Self {
                Self { handle }
            }
        }

        impl #client {
            /// The handle this client calls through (release it, or hand it on).
            #vis fn handle(&self) -> &#krate::__private::Handle<#ident> {
                &self.handle
            }

            #(#client_methods)*
        }
    }
}
