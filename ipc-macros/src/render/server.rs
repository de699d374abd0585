//! The main side: the `{Trait}Handler` trait and `{Trait}::handle`.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use super::{Names, Prepared, handler_method, local, shared_handler_impl, shared_handler_method};
use crate::parse::{Contract, Kind};

pub(crate) fn render(contract: &Contract, names: &Names, methods: &[Prepared<'_>]) -> TokenStream {
    let Names {
        krate,
        contract: ident,
        handler,
        ..
    } = names;
    let vis = &contract.vis;
    let trait_doc = format!(
        "The main side of [`{ident}`]: implement it and register it with [`{ident}::handle`].\n\n\
         Every method also receives the caller's identity. Invokes run concurrently; sends from \
         one renderer are handled one at a time, in order."
    );
    let output = |m: &Prepared<'_>| match (m.kind(), &m.def.sig.output) {
        (Kind::Invoke | Kind::Sync, syn::ReturnType::Type(_, ty)) => quote!(#ty),
        _ => quote!(()),
    };
    let trait_methods = methods
        .iter()
        .filter(|m| m.is_main_handled())
        .map(|m| handler_method(krate, m, output(m), true));
    let shared = shared_handler_impl(
        krate,
        handler,
        methods
            .iter()
            .filter(|m| m.is_main_handled())
            .map(|m| shared_handler_method(krate, handler, m, output(m), true)),
    );
    let registrations = methods
        .iter()
        .filter(|m| m.is_main_handled())
        .map(|m| register(names, m));
    let handle_doc = format!(
        "Registers `handler` for every invoke and send channel of [`{ident}`], all at once \
         (Electron's `ipcMain.handle` and `ipcMain.on`).\n\n# Errors\n\n\
         `RegistryError::AlreadyHandled` when an invoke channel already has a handler; nothing \
         is registered then."
    );
    let main = local("main");
    let handler_value = local("handler");
    let batch = local("batch");
    quote! {
        #[doc = #trait_doc]
        #vis trait #handler: #krate::__private::Send + #krate::__private::Sync + 'static {
            #(#trait_methods)*
        }

        #shared

        impl #ident {
            #[doc = #handle_doc]
            #vis fn handle<H: #handler>(
                #main: &#krate::__private::Main,
                #handler_value: H,
            ) -> #krate::__private::Result<#krate::__private::Registration, #krate::__private::RegistryError> {
                let #handler_value = #krate::__private::Arc::new(#handler_value);
                let mut #batch = #main.registration();
                #batch.contract(Self::schema());
                #(#registrations)*
                #batch.commit()
            }
        }
    }
}

fn register(names: &Names, m: &Prepared<'_>) -> TokenStream {
    let krate = &names.krate;
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
    let contract = &names.contract;
    let (handler, caller, batch) = (local("handler"), local("caller"), local("batch"));
    let span = def.sig.span();
    // Spanned on the signature, so a handler whose future has the wrong output type or is not
    // `Send` is reported on the method.
    let call = quote_spanned!(span=> #handler.#name(&#caller, #(#param_idents),*).await);
    let (method, body) = match m.kind() {
        Kind::Invoke | Kind::Sync => (quote!(invoke), m.handler_result(krate, call)),
        _ => (quote!(listen), call),
    };
    quote! {
        #(#cfgs)*
        {
            let #handler = ::core::clone::Clone::clone(&#handler);
            #batch.#method(
                #contract::#const_ident,
                move |#caller: #krate::__private::Caller, #args_pattern: #args_type| {
                    let #handler = ::core::clone::Clone::clone(&#handler);
                    async move { #body }
                },
            );
        }
    }
}
