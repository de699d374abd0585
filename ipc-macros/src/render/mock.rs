//! `{Trait}Mock`: a scriptable stand-in for main's handler, for tests. It answers each invoke
//! and sync method with what its `on_{method}` was given, and records every call it receives
//! (`MockCall`: the method, the caller's label, the arguments as JSON).

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::{Names, Prepared, handler_signature, local};
use crate::parse::{Contract, Kind};

pub(crate) fn render(contract: &Contract, names: &Names, methods: &[Prepared<'_>]) -> TokenStream {
    let Names {
        krate,
        contract: ident,
        handler,
        ..
    } = names;
    let vis = &contract.vis;
    let mock = format_ident!("{}Mock", ident);
    let answers = format_ident!("{}MockAnswers", ident);
    let handled: Vec<&Prepared<'_>> = methods.iter().filter(|m| m.is_main_handled()).collect();
    let answered: Vec<&Prepared<'_>> = handled
        .iter()
        .copied()
        .filter(|m| matches!(m.kind(), Kind::Invoke | Kind::Sync))
        .collect();
    let output = |m: &Prepared<'_>| match &m.def.sig.output {
        syn::ReturnType::Type(_, ty) if matches!(m.kind(), Kind::Invoke | Kind::Sync) => {
            quote!(#ty)
        }
        _ => quote!(()),
    };
    let answer_type = |m: &Prepared<'_>| {
        let types = &m.param_types;
        let out = output(m);
        quote! {
            #krate::__private::Arc<
                dyn ::core::ops::Fn(#(#types),*) -> #out
                    + #krate::__private::Send
                    + #krate::__private::Sync
            >
        }
    };
    let fields = answered.iter().map(|m| {
        let (name, cfgs, ty) = (&m.def.ident, m.cfgs, answer_type(m));
        quote!(#(#cfgs)* #name: #krate::__private::Option<#ty>,)
    });
    let setters = answered.iter().map(|m| {
        let name = &m.def.ident;
        let plain = ipc_schema::naming::unraw(&name.to_string()).to_string();
        let setter = format_ident!("on_{}", plain);
        let (types, out, cfgs) = (&m.param_types, output(m), m.cfgs);
        let doc = format!(
            "Answers `{plain}` with `answer` (called with the method's arguments) from now on."
        );
        quote! {
            #(#cfgs)*
            #[doc = #doc]
            #vis fn #setter(
                &self,
                answer: impl ::core::ops::Fn(#(#types),*) -> #out
                    + #krate::__private::Send
                    + #krate::__private::Sync
                    + 'static,
            ) -> &Self {
                #krate::__private::lock(&self.answers).#name =
                    #krate::__private::Some(#krate::__private::Arc::new(answer));
                self
            }
        }
    });
    let handler_methods = handled.iter().map(|m| {
        let (signature, _) = handler_signature(krate, m, output(m), true);
        let name = &m.def.ident;
        let plain = ipc_schema::naming::unraw(&name.to_string()).to_string();
        let (params, cfgs) = (&m.param_idents, m.cfgs);
        let caller = super::caller_ident(m);
        let record = quote! {
            self.calls.record(
                #plain,
                #caller,
                #krate::__private::Vec::from([#(#krate::__private::mock_arg(&#params)),*]),
            );
        };
        let body = if matches!(m.kind(), Kind::Invoke | Kind::Sync) {
            let answer = local("answer");
            let missing = format!("{mock}: no answer for `{plain}` (give one with `on_{plain}`)");
            quote! {
                #record
                let #answer =
                    ::core::clone::Clone::clone(&#krate::__private::lock(&self.answers).#name);
                async move {
                    match #answer {
                        #krate::__private::Some(#answer) => #answer(#(#params),*),
                        #krate::__private::None => ::core::panic!(#missing),
                    }
                }
            }
        } else {
            quote! {
                #record
                async move {}
            }
        };
        quote! {
            #(#cfgs)*
            #[allow(unused_variables)]
            #signature {
                #body
            }
        }
    });
    let mock_doc = format!(
        "A scriptable stand-in for [`{handler}`], for tests: register it with \
         [`{ident}::handle`] like any handler. Each invoke and sync method answers with what its \
         `on_...` was given (a call with none panics, naming the method: the caller gets \
         `handler_panicked`); every call is recorded ([`{mock}::calls`]). Clones share the \
         answers and the record."
    );
    quote! {
        #[doc = #mock_doc]
        #[derive(::core::clone::Clone, ::core::default::Default)]
        #vis struct #mock {
            answers: #krate::__private::Arc<#krate::__private::Mutex<#answers>>,
            calls: #krate::__private::Arc<#krate::__private::MockCalls>,
        }

        #[derive(::core::default::Default)]
        struct #answers {
            #(#fields)*
        }

        impl #mock {
            /// A mock with no answers and no calls yet.
            #vis fn new() -> Self {
                ::core::default::Default::default()
            }

            #(#setters)*

            /// Every call received so far, oldest first.
            #vis fn calls(&self) -> #krate::__private::Vec<#krate::__private::MockCall> {
                self.calls.all()
            }
        }

        impl #handler for #mock {
            #(#handler_methods)*
        }
    }
}
