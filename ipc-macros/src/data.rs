//! `#[data]`: derives the TypeScript description of a type used in a contract, through the
//! runtime's re-export (user crates never depend on the backend directly).

use proc_macro2::TokenStream;
use quote::quote;

pub(crate) fn expand(args: TokenStream, input: TokenStream) -> TokenStream {
    let mut krate: syn::Path = syn::parse_quote!(::ipc_runtime);
    let parser = syn::meta::parser(|meta| {
        if meta.path.is_ident("crate") {
            let lit: syn::LitStr = meta.value()?.parse()?;
            krate = lit.parse()?;
            Ok(())
        } else {
            Err(meta.error("unknown #[data] argument; allowed: crate = \"...\""))
        }
    });
    if let Err(error) = syn::parse::Parser::parse2(parser, args) {
        let mut out = error.to_compile_error();
        out.extend(input);
        return out;
    }
    let item: syn::DeriveInput = match syn::parse2(input.clone()) {
        Ok(item) => item,
        Err(_) => {
            let mut out = syn::Error::new(
                proc_macro2::Span::call_site(),
                "#[data] applies to a struct or an enum",
            )
            .to_compile_error();
            out.extend(input);
            return out;
        }
    };
    let backend = quote!(#krate::__private::ts_rs)
        .to_string()
        .replace(' ', "");
    quote! {
        #[derive(#krate::__private::ts_rs::TS)]
        #[ts(crate = #backend)]
        #item
    }
}
