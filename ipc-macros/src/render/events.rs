//! The main side's event emitter: `{Trait}Events`.

use proc_macro2::TokenStream;
use quote::quote;

use super::{Names, Prepared, docs_gap, local};
use crate::parse::{Contract, Kind};

pub(crate) fn render(contract: &Contract, names: &Names, methods: &[Prepared<'_>]) -> TokenStream {
    let Names {
        krate,
        contract: ident,
        events,
        ..
    } = names;
    let vis = &contract.vis;
    let doc =
        format!("Emits the events of [`{ident}`] to renderers (Electron's `webContents.send`).");
    let emitters = methods.iter().filter(|m| m.kind() == Kind::Event).map(|m| {
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
        let target = local("target");
        let docs_gap = docs_gap(docs);
        quote! {
            #(#cfgs)*
            #(#docs)*
            #docs_gap
            /// Returns how many renderers the event was queued for.
            #vis fn #name(
                &self,
                #target: impl ::core::convert::Into<#krate::__private::Target>,
                #(#param_idents: #param_types),*
            ) -> usize {
                self.main.emit(#ident::#const_ident, #target, #args_value)
            }
        }
    });
    quote! {
        #[doc = #doc]
        #[derive(::core::fmt::Debug, ::core::clone::Clone)]
        #vis struct #events {
            main: #krate::__private::Main,
        }

        impl #events {
            /// An emitter on `main`.
            #vis fn new(main: &#krate::__private::Main) -> Self {
                Self { main: ::core::clone::Clone::clone(main) }
            }

            #(#emitters)*
        }

        impl #ident {
            /// A typed emitter of this contract's events.
            #vis fn events(main: &#krate::__private::Main) -> #events {
                #events::new(main)
            }
        }
    }
}
