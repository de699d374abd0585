//! The contract as data: `{Trait}::schema()`.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote, quote_spanned};
use syn::spanned::Spanned;

use super::{Names, Prepared};
use crate::parse::{Contract, Kind, Output};

pub(crate) fn render(contract: &Contract, names: &Names, methods: &[Prepared<'_>]) -> TokenStream {
    let Names {
        krate,
        contract: ident,
        namespace,
        ..
    } = names;
    let vis = &contract.vis;
    let name = ipc_schema::naming::unraw(&ident.to_string()).to_string();
    let docs = &contract.docs;
    let rule = match contract.large_ints {
        ipc_schema::LargeInts::Number => quote!(#krate::__private::LargeInts::Number),
        ipc_schema::LargeInts::BigInt => quote!(#krate::__private::LargeInts::BigInt),
        _ => quote!(#krate::__private::LargeInts::Reject),
    };
    let trait_policy = contract.policy.iter().map(|p| rule_tokens(krate, &p.rule));
    let method_entries = methods.iter().map(|m| {
        let Prepared {
            def,
            channel,
            param_types,
            param_describe,
            cfgs,
            ..
        } = m;
        let method_name = def.ident.to_string();
        let kind = match m.kind() {
            Kind::Invoke => quote!(Invoke),
            Kind::Send => quote!(Send),
            Kind::Event => quote!(Event),
            Kind::Request => quote!(Request),
            Kind::Sync => quote!(Sync),
        };
        let timeout = (m.kind() == Kind::Sync).then(|| {
            let millis = def.sync_timeout_ms();
            quote!(.timeout_ms(#millis))
        });
        let method_docs = &def.docs;
        let method_policy = def.policy.iter().map(|p| rule_tokens(krate, &p.rule));
        let params = def.params.iter().zip(param_types).zip(param_describe).map(
            |((param, ty), described)| {
                let param_name = param
                    .ident
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default();
                describe(krate, ty, described, quote!(Param), &param_name)
            },
        );
        let output_describe = |ty: &syn::Type| match &m.output_time {
            Some((described, _)) => described.clone(),
            None => ty.to_token_stream(),
        };
        let results = match &def.output {
            Output::Unit => Vec::new(),
            Output::Plain(ty) => vec![describe(
                krate,
                ty,
                &output_describe(ty),
                quote!(Output),
                "",
            )],
            Output::Result { ok, err } => vec![
                describe(krate, ok, &output_describe(ok), quote!(Output), ""),
                describe(krate, err, &err.to_token_stream(), quote!(Error), ""),
            ],
        };
        quote! {
            #(#cfgs)*
            {
                let method = #krate::__private::Method::new(
                    #method_name,
                    #channel,
                    #krate::__private::MethodKind::#kind,
                )
                .docs(#method_docs)
                #timeout
                #(.policy(#method_policy))*;
                #(let method = #params;)*
                #(let method = #results;)*
                builder.push_method(method);
            }
        }
    });
    quote! {
        impl #ident {
            /// The contract as data: channels, kinds, parameter and result types with their
            /// TypeScript declarations, doc comments, the contract hash, and the capability
            /// contracts its handles reach.
            #vis fn schema() -> &'static #krate::__private::Service {
                static SCHEMA: #krate::__private::OnceLock<#krate::__private::Service> =
                    #krate::__private::OnceLock::new();
                SCHEMA.get_or_init(|| {
                    #krate::__private::Service::with_capabilities(
                        ::core::clone::Clone::clone(Self::__contract()),
                    )
                })
            }

            /// The contract as data without the capabilities it reaches (those are linked:
            /// a capability may reach itself).
            #[doc(hidden)]
            #vis fn __contract() -> &'static #krate::__private::Service {
                static CONTRACT: #krate::__private::OnceLock<#krate::__private::Service> =
                    #krate::__private::OnceLock::new();
                CONTRACT.get_or_init(|| {
                    let rule = #rule;
                    let mut builder = #krate::__private::Service::builder(#name, #namespace)
                        .docs(#docs)
                        .large_ints(rule)
                        #(.policy(#trait_policy))*;
                    #(#method_entries)*
                    builder.build()
                })
            }
        }
    }
}

/// A declared rule, rebuilt as data.
fn rule_tokens(krate: &syn::Path, rule: &ipc_schema::Rule) -> TokenStream {
    let kinds = rule.renderers.iter().map(|kind| {
        // `native` names the variant `Native`.
        let name = kind.as_str();
        let variant = format!("{}{}", name[..1].to_uppercase(), &name[1..]);
        syn::Ident::new(&variant, proc_macro2::Span::call_site())
    });
    let origins = &rule.origins;
    let capabilities = &rule.capabilities;
    let main_frame = rule.main_frame.then(|| quote!(.main_frame()));
    quote! {
        #krate::__private::Rule::new()
            #(.renderer(#krate::__private::RendererKind::#kinds))*
            #(.origin(#origins))*
            #main_frame
            #(.capability(#capabilities))*
    }
}

/// `ty` described as `described` (itself, or with its time values replaced by their wire forms'
/// markers).
fn describe(
    krate: &syn::Path,
    ty: &syn::Type,
    described: &TokenStream,
    role: TokenStream,
    param: &str,
) -> TokenStream {
    let rust = ty.to_token_stream().to_string().replace(' ', "");
    // A type without a description inside `Vec<..>`, `Option<..>`, a map or a tuple would be
    // reported as a bound of the container, in terms of the description backend's trait: each
    // such type is checked on its own first, so the message is the contract's, at the type.
    let parsed = syn::parse2::<syn::Type>(described.clone()).ok();
    let mut leaves = Vec::new();
    if let Some(parsed) = &parsed {
        nested_leaves(parsed, false, &mut leaves);
    }
    let checks = leaves
        .iter()
        .map(|leaf| quote_spanned!(leaf.span()=> #krate::__private::described::<#leaf>();));
    if leaves.is_empty() {
        // Spanned on the user's type, so a type without a description is reported where it is
        // written.
        return quote_spanned! {ty.span()=>
            #krate::__private::describe::<#described>(method, #krate::__private::TypeRole::#role, #param, #rust, rule)
        };
    }
    if parsed.as_ref().is_some_and(only_standard_containers) {
        // Every type the description needs is checked above, so a failure here would only
        // repeat one of theirs in the backend's words: the probe leaves it out instead.
        return quote! {{
            #(#checks)*
            #[allow(unused_imports)]
            use #krate::__private::{DescribeKnown as _, DescribeLeft as _};
            (&&#krate::__private::Describe::<#described>::new()).describe(
                method, #krate::__private::TypeRole::#role, #param, #rust, rule,
            )
        }};
    }
    let call = quote_spanned! {ty.span()=>
        #krate::__private::describe::<#described>(method, #krate::__private::TypeRole::#role, #param, #rust, rule)
    };
    quote!({ #(#checks)* #call })
}

/// Containers whose description holds whenever their type arguments' do: the ones the
/// description backend (ts-rs) implements for any described argument. (Not `VecDeque`,
/// `LinkedList` or `BinaryHeap`: it has no description for those.)
const STANDARD_CONTAINERS: &[&str] = &[
    "Vec", "Option", "Box", "Rc", "Arc", "Cell", "RefCell", "HashMap", "BTreeMap", "HashSet",
    "BTreeSet",
];

/// The longest tuple the backend describes.
const MAX_TUPLE: usize = 10;

/// Whether every generic type in `ty` is a [`STANDARD_CONTAINERS`] one, named alone or through
/// `std`, `alloc` or `core` (tuples up to [`MAX_TUPLE`] and arrays count as such too), so that
/// `ty` is described exactly when the types [`nested_leaves`] finds in it are.
fn only_standard_containers(ty: &syn::Type) -> bool {
    match ty {
        syn::Type::Path(path) if path.qself.is_none() => {
            let segments = &path.path.segments;
            let Some(last) = segments.last() else {
                return false;
            };
            match &last.arguments {
                syn::PathArguments::None => true,
                syn::PathArguments::AngleBracketed(args) => {
                    let from_std = segments.len() == 1
                        || ["std", "alloc", "core"]
                            .iter()
                            .any(|root| segments[0].ident == root);
                    from_std
                        && STANDARD_CONTAINERS.contains(&last.ident.to_string().as_str())
                        && container_elements(&last.ident, args)
                            .iter()
                            .all(|inner| only_standard_containers(inner))
                }
                syn::PathArguments::Parenthesized(_) => false,
            }
        }
        syn::Type::Tuple(tuple) => {
            tuple.elems.len() <= MAX_TUPLE && tuple.elems.iter().all(only_standard_containers)
        }
        syn::Type::Array(array) => only_standard_containers(&array.elem),
        syn::Type::Paren(paren) => only_standard_containers(&paren.elem),
        syn::Type::Group(group) => only_standard_containers(&group.elem),
        _ => false,
    }
}

/// The type arguments of a container that are its elements: all of them, except a map's or a
/// set's hasher (`HashMap<K, V, S>`, `HashSet<T, S>`), which is no value.
fn container_elements<'t>(
    container: &syn::Ident,
    args: &'t syn::AngleBracketedGenericArguments,
) -> Vec<&'t syn::Type> {
    let elements = if container == "HashMap" {
        2
    } else if container == "HashSet" {
        1
    } else {
        usize::MAX
    };
    let mut types = crate::parse::type_arguments(args);
    types.truncate(elements);
    types
}

/// The types without generic arguments written inside `ty`'s generic arguments, tuples, arrays
/// and references (`Todo` in `Vec<Option<Todo>>`); `nested` is whether `ty` itself is inside
/// one. A handle's argument is its capability's marker, not a value: it is not descended into.
fn nested_leaves<'t>(ty: &'t syn::Type, nested: bool, out: &mut Vec<&'t syn::Type>) {
    match ty {
        syn::Type::Path(path) if path.qself.is_none() => {
            let Some(last) = path.path.segments.last() else {
                return;
            };
            match &last.arguments {
                syn::PathArguments::AngleBracketed(args) => {
                    if last.ident == "Handle" {
                        return;
                    }
                    for inner in container_elements(&last.ident, args) {
                        nested_leaves(inner, true, out);
                    }
                }
                syn::PathArguments::None if nested => out.push(ty),
                _ => {}
            }
        }
        syn::Type::Tuple(tuple) => {
            for elem in &tuple.elems {
                nested_leaves(elem, true, out);
            }
        }
        syn::Type::Array(array) => nested_leaves(&array.elem, true, out),
        syn::Type::Slice(slice) => nested_leaves(&slice.elem, true, out),
        syn::Type::Reference(reference) => nested_leaves(&reference.elem, nested, out),
        syn::Type::Paren(paren) => nested_leaves(&paren.elem, nested, out),
        syn::Type::Group(group) => nested_leaves(&group.elem, nested, out),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn standard(ty: &str) -> bool {
        only_standard_containers(&syn::parse_str(ty).unwrap())
    }

    #[test]
    fn only_containers_the_backend_describes_count_as_standard() {
        assert!(standard("Vec<Option<Todo>>"));
        assert!(standard("std::collections::HashMap<String, (u32, Todo)>"));
        assert!(standard("HashMap<String, Todo, MyHasher>"));
        assert!(standard("[Box<Todo>; 3]"));
        // No description in the backend for these: the strict call reports them.
        assert!(!standard("VecDeque<Todo>"));
        assert!(!standard("std::collections::BinaryHeap<u32>"));
        assert!(!standard("(u8, u8, u8, u8, u8, u8, u8, u8, u8, u8, u8)"));
        // Another crate's type of a standard name, and generics of one's own.
        assert!(!standard("hashbrown::HashMap<String, Todo>"));
        assert!(!standard("Page<Todo>"));
    }

    #[test]
    fn a_hasher_is_no_leaf() {
        let ty: syn::Type = syn::parse_str("HashMap<String, Vec<Todo>, MyHasher>").unwrap();
        let mut leaves = Vec::new();
        nested_leaves(&ty, false, &mut leaves);
        let names: Vec<String> = leaves
            .iter()
            .map(|l| l.to_token_stream().to_string())
            .collect();
        assert_eq!(names, ["String", "Todo"]);
    }
}
