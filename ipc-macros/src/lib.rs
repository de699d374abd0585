//! The `#[channels]` and `#[data]` attribute macros of typed IPC.
//!
//! Use them through `ipc-runtime` (`ipc_runtime::channels`, `ipc_runtime::data`); generated code
//! refers to the runtime only through `::ipc_runtime::__private` (or the `crate = "..."` path).
//!
//! The `#[channels]` expansion runs in three stages, each in its own module:
//! `parse` builds an AST of the trait, `check` validates it (collecting every error with its
//! span), and `render` emits one item per generator (contract, handler, client, events,
//! schema). When the trait is invalid, the errors are emitted next to the original trait so IDEs
//! keep working.

#![forbid(unsafe_code)]

mod check;
mod data;
mod errors;
mod forms;
mod parse;
mod render;
#[cfg(test)]
mod tests;

use proc_macro::TokenStream;

/// Declares an IPC contract from a trait. See the `ipc-runtime` crate documentation.
#[proc_macro_attribute]
pub fn channels(args: TokenStream, input: TokenStream) -> TokenStream {
    expand_channels(args.into(), input.into()).into()
}

/// Makes a type usable in a contract: derives its TypeScript description. See the `ipc-runtime`
/// crate documentation.
#[proc_macro_attribute]
pub fn data(args: TokenStream, input: TokenStream) -> TokenStream {
    data::expand(args.into(), input.into()).into()
}

fn expand_channels(
    args: proc_macro2::TokenStream,
    input: proc_macro2::TokenStream,
) -> proc_macro2::TokenStream {
    let item: syn::ItemTrait = match syn::parse2(input.clone()) {
        Ok(item) => item,
        Err(_) => {
            let error = syn::Error::new_spanned(
                item_head(&input),
                "#[channels] applies to a trait: `#[channels] pub trait Todos { ... }`",
            );
            let mut out = error.to_compile_error();
            out.extend(input);
            return out;
        }
    };
    let mut errors = errors::Errors::default();
    let mut contract = parse::parse(args, &item, &mut errors);
    let faulty = match &contract {
        Some(contract) => check::check(contract, &mut errors),
        None => Vec::new(),
    };
    match (contract.as_mut(), errors.finish()) {
        (Some(contract), None) => render::render(contract),
        // As serde_derive does: the errors, and then everything that can still be generated
        // (the contract without its faulty methods), so that the code using the contract does
        // not fail again with "cannot find type `TodosClient`" or "expected a type, found a
        // trait".
        (Some(contract), Some(compile_errors)) if contract.trait_shape.is_empty() => {
            let mut index = 0;
            contract.methods.retain(|_| {
                index += 1;
                !faulty.contains(&(index - 1))
            });
            let mut out = compile_errors;
            out.extend(render::render(contract));
            out.extend(render::faulty_methods(&item, &faulty));
            out
        }
        (_, Some(compile_errors)) => {
            let mut out = compile_errors;
            out.extend(render::original_trait(&item));
            out
        }
        (None, None) => render::original_trait(&item),
    }
}

/// The tokens that name an item (`struct Todos`, `fn todos`), to point at when `#[channels]` is
/// applied to something other than a trait; the whole input when it is not an item.
fn item_head(input: &proc_macro2::TokenStream) -> proc_macro2::TokenStream {
    use quote::quote;
    match syn::parse2::<syn::Item>(input.clone()) {
        Ok(syn::Item::Struct(item)) => {
            let (keyword, ident) = (item.struct_token, item.ident);
            quote!(#keyword #ident)
        }
        Ok(syn::Item::Enum(item)) => {
            let (keyword, ident) = (item.enum_token, item.ident);
            quote!(#keyword #ident)
        }
        Ok(syn::Item::Union(item)) => {
            let (keyword, ident) = (item.union_token, item.ident);
            quote!(#keyword #ident)
        }
        Ok(syn::Item::Fn(item)) => {
            let (keyword, ident) = (item.sig.fn_token, item.sig.ident);
            quote!(#keyword #ident)
        }
        Ok(syn::Item::Impl(item)) => {
            let (keyword, ty) = (item.impl_token, item.self_ty);
            quote!(#keyword #ty)
        }
        Ok(syn::Item::Mod(item)) => {
            let (keyword, ident) = (item.mod_token, item.ident);
            quote!(#keyword #ident)
        }
        _ => input.clone(),
    }
}
