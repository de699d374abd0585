//! The renderer side: `{Trait}Client`.

use proc_macro2::TokenStream;
use quote::quote;

use super::{Names, Prepared, docs_gap};
use crate::parse::{Contract, Kind};

pub(crate) fn render(contract: &Contract, names: &Names, methods: &[Prepared<'_>]) -> TokenStream {
    let Names {
        krate,
        contract: ident,
        client,
        ..
    } = names;
    let vis = &contract.vis;
    let doc = format!(
        "The renderer side of [`{ident}`]: typed invokes, sends and event subscriptions over a \
         `Renderer` connection."
    );
    let client_methods = methods.iter().map(|m| {
        let Prepared {
            const_ident,
            client_ident,
            param_idents,
            param_types,
            args_value,
            cfgs,
            docs,
            ..
        } = m;
        let docs_gap = docs_gap(docs);
        let unwire = m.unwire();
        match m.kind() {
            Kind::Invoke => {
                let (ok, err) = m.result_types(krate);
                if m.is_fallible() {
                    quote! {
                        #(#cfgs)*
                        #(#docs)*
                        #docs_gap
                        /// Await the returned call; dropping it cancels the handler on main.
                        #vis fn #client_ident(&self, #(#param_idents: #param_types),*) -> #krate::__private::TryCall<#ok, #err> {
                            self.renderer.invoke(#ident::#const_ident, #args_value)#unwire
                        }
                    }
                } else {
                    quote! {
                        #(#cfgs)*
                        #(#docs)*
                        #docs_gap
                        /// Await the returned call; dropping it cancels the handler on main.
                        #vis fn #client_ident(&self, #(#param_idents: #param_types),*) -> #krate::__private::Call<#ok> {
                            <#krate::__private::Call<#ok> as ::core::convert::From<_>>::from(
                                self.renderer.invoke(#ident::#const_ident, #args_value)#unwire,
                            )
                        }
                    }
                }
            }
            Kind::Sync => {
                let (ok, err) = m.result_types(krate);
                let millis = m.def.sync_timeout_ms();
                let deadline = format!(
                    " Blocks the calling thread until main answers, at most {millis} ms (then \
                     `IpcError::Timeout`, and main's handler is cancelled). Call it from a thread \
                     that does not run async tasks (a plain thread, `spawn_blocking`); from async \
                     code, await `renderer().invoke({ident}::{const_ident}, ...)` instead.\n\n \
                     # Panics\n\n When called on a thread that drives a Tokio runtime."
                );
                let call = quote! {
                    self.renderer
                        .invoke(#ident::#const_ident, #args_value)
                        #unwire
                        .timeout(::core::time::Duration::from_millis(#millis))
                };
                if m.is_fallible() {
                    quote! {
                        #(#cfgs)*
                        #(#docs)*
                        #docs_gap
                        #[doc = #deadline]
                        #vis fn #client_ident(&self, #(#param_idents: #param_types),*) -> #krate::__private::Result<#ok, #krate::__private::CallError<#err>> {
                            #call.wait()
                        }
                    }
                } else {
                    quote! {
                        #(#cfgs)*
                        #(#docs)*
                        #docs_gap
                        #[doc = #deadline]
                        #vis fn #client_ident(&self, #(#param_idents: #param_types),*) -> #krate::__private::Result<#ok, #krate::__private::IpcError> {
                            <#krate::__private::Call<#ok> as ::core::convert::From<_>>::from(#call).wait()
                        }
                    }
                }
            }
            Kind::Send => quote! {
                #(#cfgs)*
                #(#docs)*
                #docs_gap
                /// Fire-and-forget: returns once the message is queued.
                #vis fn #client_ident(&self, #(#param_idents: #param_types),*) -> #krate::__private::Result<(), #krate::__private::IpcError> {
                    self.renderer.send(#ident::#const_ident, #args_value)
                }
            },
            // Main asks, the renderer answers: nothing to call from here (see `requests.rs`).
            Kind::Request => quote!(),
            Kind::Event => {
                let Prepared { args_type, args_pattern, .. } = m;
                let (item, map) = match param_types.len() {
                    0 => (quote!(()), quote!(|_: #krate::__private::NoArgs| #krate::__private::Ok(()))),
                    1 => {
                        let (ty, value) = (param_types[0], &param_idents[0]);
                        (quote!(#ty), quote!(|#args_pattern: #args_type| #krate::__private::Ok(#value)))
                    }
                    _ => (
                        quote!((#(#param_types,)*)),
                        quote!(|#args_pattern: #args_type| #krate::__private::Ok((#(#param_idents,)*))),
                    ),
                };
                let once_ident = quote::format_ident!(
                    "once_{}",
                    ipc_schema::naming::unraw(&m.def.ident.to_string()),
                    span = m.def.ident.span()
                );
                let once_doc = format!(
                     " The next [`{client_ident}`](Self::{client_ident}) event from now on (subscribes now, resolves with the first one)."
                );
                quote! {
                    #(#cfgs)*
                    #(#docs)*
                    #docs_gap
                    /// Subscribes to the event: a stream of its values, with a lag notice in the
                    /// place of events missed; dropping the stream unsubscribes.
                    #vis fn #client_ident(&self) -> #krate::__private::EventStream<#item> {
                        self.renderer.subscribe_with(#ident::#const_ident, #map)
                    }

                    #(#cfgs)*
                    #[doc = #once_doc]
                    #vis fn #once_ident(&self) -> #krate::__private::EventOnce<#item> {
                        self.renderer.once_with(#ident::#const_ident, #map)
                    }
                }
            }
        }
    });
    quote! {
        #[doc = #doc]
        #[derive(::core::fmt::Debug, ::core::clone::Clone)]
        #vis struct #client {
            renderer: #krate::__private::Renderer,
        }

        impl #client {
            /// Wraps a renderer connection and declares this contract on it: when main
            /// announced another version of it, every call through any client of it fails with
            /// `IpcError::VersionMismatch` before anything is sent.
            #vis fn new(renderer: #krate::__private::Renderer) -> Self {
                // The refusal, if any, is kept by the renderer and returned by each call.
                let _ = renderer.declare_contract(#ident::schema());
                Self { renderer }
            }

            /// The underlying connection.
            #vis fn renderer(&self) -> &#krate::__private::Renderer {
                &self.renderer
            }

            #(#client_methods)*
        }

        impl #ident {
            /// A typed client on a renderer's connection.
            #vis fn client(renderer: &#krate::__private::Renderer) -> #client {
                #client::new(::core::clone::Clone::clone(renderer))
            }
        }
    }
}
