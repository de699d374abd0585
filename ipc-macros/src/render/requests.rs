//! Requests from main to a renderer (`#[request]` methods): the renderer's
//! `{Trait}RendererHandler` and `{Trait}::handle_requests`, and main's `{Trait}RendererClient`.
//! Nothing is generated for a contract without requests.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use super::{Names, Prepared, derived_ident, docs_gap, handler_method, local};
use crate::parse::{Contract, Kind};

pub(crate) fn render(contract: &Contract, names: &Names, methods: &[Prepared<'_>]) -> TokenStream {
    let requests: Vec<&Prepared<'_>> = methods
        .iter()
        .filter(|m| m.kind() == Kind::Request)
        .collect();
    if requests.is_empty() {
        return TokenStream::new();
    }
    let Names {
        krate,
        contract: ident,
        ..
    } = names;
    let vis = &contract.vis;
    let handler = derived_ident(ipc_schema::naming::renderer_handler_type, ident);
    let client = derived_ident(ipc_schema::naming::renderer_client_type, ident);
    let trait_doc = format!(
        "The renderer side of [`{ident}`]'s requests (main asks, this renderer answers): implement \
         it and register it with [`{ident}::handle_requests`]."
    );
    let output = |m: &Prepared<'_>| match &m.def.sig.output {
        syn::ReturnType::Type(_, ty) => quote!(#ty),
        syn::ReturnType::Default => quote!(()),
    };
    let trait_methods = requests
        .iter()
        .map(|m| handler_method(krate, m, output(m), false));
    let shared = super::shared_handler_impl(
        krate,
        &handler,
        requests
            .iter()
            .map(|m| super::shared_handler_method(krate, &handler, m, output(m), false)),
    );
    let (renderer, handler_value) = (local("renderer"), local("handler"));
    let registrations = requests.iter().map(|m| {
        let Prepared {
            def,
            const_ident,
            param_idents,
            args_type,
            args_pattern,
            cfgs,
            ..
        } = m;
        let name = &def.ident;
        let span = def.sig.span();
        let call = quote_spanned!(span=> #handler_value.#name(#(#param_idents),*).await);
        let body = m.handler_result(krate, call);
        quote! {
            #(#cfgs)*
            {
                let #handler_value = ::core::clone::Clone::clone(&#handler_value);
                #renderer.handle_request(
                    #ident::#const_ident,
                    move |#args_pattern: #args_type| {
                        let #handler_value = ::core::clone::Clone::clone(&#handler_value);
                        async move { #body }
                    },
                )?;
            }
        }
    });
    let client_methods = requests.iter().map(|m| {
        let Prepared {
            def,
            const_ident,
            param_idents,
            param_types,
            args_value,
            cfgs,
            docs,
            ..
        } = m;
        let name = &def.ident;
        let (ok, err) = m.result_types(krate);
        let unwire = m.unwire();
        let docs_gap = docs_gap(docs);
        quote! {
            #(#cfgs)*
            #(#docs)*
            #docs_gap
            /// Await the returned request for the renderer's answer; dropping it cancels the
            /// renderer's handler.
            #vis fn #name(&self, #(#param_idents: #param_types),*) -> #krate::__private::Request<#ok, #err> {
                self.main.request(self.renderer, #ident::#const_ident, #args_value)#unwire
            }
        }
    });
    let handle_doc = format!(
        "Registers `handler` for every request of [`{ident}`] on `renderer`.\n\n# Errors\n\n\
         `RegistryError::AlreadyHandled` when a request channel already has a handler on this \
         renderer (those registered before it stay)."
    );
    let client_doc = format!(
        "Main's client of one renderer's [`{handler}`]: each method asks the renderer and \
         resolves to its answer."
    );
    let main = syn::Ident::new("main", Span::mixed_site());
    quote! {
        #[doc = #trait_doc]
        #vis trait #handler: #krate::__private::Send + #krate::__private::Sync + 'static {
            #(#trait_methods)*
        }

        #shared

        #[doc = #client_doc]
        #[derive(::core::fmt::Debug, ::core::clone::Clone)]
        #vis struct #client {
            main: #krate::__private::Main,
            renderer: #krate::__private::RendererId,
        }

        impl #client {
            /// The renderer this client asks.
            #vis fn renderer(&self) -> #krate::__private::RendererId {
                self.renderer
            }

            #(#client_methods)*
        }

        impl #ident {
            #[doc = #handle_doc]
            #vis fn handle_requests<H: #handler>(
                #renderer: &#krate::__private::Renderer,
                #handler_value: H,
            ) -> #krate::__private::Result<(), #krate::__private::RegistryError> {
                let #handler_value = #krate::__private::Arc::new(#handler_value);
                #(#registrations)*
                #krate::__private::Ok(())
            }

            /// Main's client of `renderer`'s request handlers.
            #vis fn renderer_client(
                #main: &#krate::__private::Main,
                renderer: #krate::__private::RendererId,
            ) -> #client {
                #client {
                    main: ::core::clone::Clone::clone(#main),
                    renderer,
                }
            }
        }
    }
}
