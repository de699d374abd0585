//! `#[data]`: derives the TypeScript description of a type used in a contract, through the
//! runtime's re-export (user crates never depend on the backend directly).

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use syn::visit::Visit;

use crate::errors::Errors;

pub(crate) fn expand(args: TokenStream, input: TokenStream) -> TokenStream {
    let mut krate: syn::Path = syn::parse_quote!(::ipc_runtime);
    let mut large_ints_allowed = false;
    let parser = syn::meta::parser(|meta| {
        if meta.path.is_ident("crate") {
            let lit: syn::LitStr = meta.value()?.parse()?;
            krate = lit.parse()?;
            Ok(())
        } else if meta.path.is_ident("large_ints") {
            let lit: syn::LitStr = meta.value()?.parse()?;
            if lit.value() != "number" && lit.value() != "bigint" {
                return Err(syn::Error::new(
                    lit.span(),
                    "unknown large_ints rule; expected \"bigint\" (64-bit integers as JavaScript bigints) or \"number\" (as numbers, exact up to 2^53); the contract's own rule decides which",
                ));
            }
            large_ints_allowed = true;
            Ok(())
        } else {
            Err(meta.error(
                "unknown #[data] argument; allowed: crate = \"...\", large_ints = \"bigint\" | \"number\"",
            ))
        }
    });
    if let Err(error) = syn::parse::Parser::parse2(parser, args) {
        let mut out = error.to_compile_error();
        out.extend(input);
        return out;
    }
    let mut item: syn::DeriveInput = match syn::parse2(input.clone()) {
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
    let mut errors = Errors::default();
    if !large_ints_allowed {
        check_large_ints(&item, &mut errors);
    }
    mark_defaulted_options(&mut item);
    carry_time_values(&mut item, &krate, &mut errors);
    let shim = prelude_shim(&item);
    // The errors come with the type as it would have been, so the rest of the crate still
    // resolves it.
    let errors = errors.finish().unwrap_or_default();
    quote! {
        #errors
        #shim
        #[derive(#krate::__private::ts_rs::TS)]
        #[ts(crate = #backend)]
        #item
    }
}

/// Every field whose type holds a 64-bit or pointer-sized integer, which JavaScript numbers
/// cannot hold exactly, is an error naming the field, unless the type opts in
/// (`large_ints = "number"`) or the field says itself how it crosses (`#[ts(type = ...)]`,
/// `#[ts(as = ...)]`, or it is skipped).
fn check_large_ints(item: &syn::DeriveInput, errors: &mut Errors) {
    let name = ipc_schema::naming::unraw(&item.ident.to_string()).to_owned();
    let mut check = |fields: &syn::Fields, owner: &str| {
        for (index, field) in fields.iter().enumerate() {
            let told = has_argument(&field.attrs, "ts", &["type", "as", "skip"])
                || has_argument(&field.attrs, "serde", &["skip"]);
            if told {
                continue;
            }
            let mut find = LargeInt(None);
            find.visit_type(&field.ty);
            let Some(int) = find.0 else {
                continue;
            };
            let field_name = match &field.ident {
                Some(ident) => format!("field `{}`", ipc_schema::naming::unraw(&ident.to_string())),
                None => format!("field {index}"),
            };
            let ty = field.ty.to_token_stream().to_string().replace(' ', "");
            errors.spanned(
                &field.ty,
                format!(
                    "{field_name} of {owner} is `{ty}`: `{int}` cannot cross to JavaScript exactly \
                     (numbers hold 53 bits); use a 32-bit integer, `f64` or a `String`, or opt in \
                     with #[ipc_runtime::data(large_ints = \"bigint\")] (or \"number\")"
                ),
            );
        }
    };
    match &item.data {
        syn::Data::Struct(data) => check(&data.fields, &format!("`{name}`")),
        syn::Data::Enum(data) => {
            for variant in &data.variants {
                let owner = format!("variant `{}` of `{name}`", variant.ident);
                check(&variant.fields, &owner);
            }
        }
        syn::Data::Union(_) => {}
    }
}

/// The first 64-bit or pointer-sized integer named in a type.
struct LargeInt(Option<String>);

impl<'ast> Visit<'ast> for LargeInt {
    fn visit_path_segment(&mut self, segment: &'ast syn::PathSegment) {
        let name = segment.ident.to_string();
        if self.0.is_none() && ipc_schema::naming::is_large_int(&name) {
            self.0 = Some(name);
        }
        syn::visit::visit_path_segment(self, segment);
    }

    fn visit_expr(&mut self, _: &'ast syn::Expr) {
        // An array's length is an expression, not a type that crosses.
    }
}

/// An `Option<T>` field serde fills in when it is missing (`#[serde(default)]` on the field or
/// on the type) may be left out by whoever sends it: its TypeScript property is optional
/// (`note?: T | null`, ts-rs's `#[ts(optional = nullable)]`), so a JavaScript caller may omit it.
/// Fields that already say how they are typed (`#[ts(...)]` with `optional` or `type`) are left
/// alone.
fn mark_defaulted_options(item: &mut syn::DeriveInput) {
    let type_default = serde_default(&item.attrs);
    let mark = |fields: &mut syn::Fields| {
        let syn::Fields::Named(named) = fields else {
            return;
        };
        for field in &mut named.named {
            let told = has_argument(&field.attrs, "ts", &["optional", "type", "as"]);
            if !told && is_option(&field.ty) && (type_default || serde_default(&field.attrs)) {
                field
                    .attrs
                    .push(syn::parse_quote!(#[ts(optional = nullable)]));
            }
        }
    };
    match &mut item.data {
        syn::Data::Struct(data) => mark(&mut data.fields),
        syn::Data::Enum(data) => {
            for variant in &mut data.variants {
                mark(&mut variant.fields);
            }
        }
        syn::Data::Union(_) => {}
    }
}

/// Every field holding time values crosses in their wire form (`docs/PROTOCOL.md` §4, "Time values"): serde
/// carries it through the runtime's adapter, and it is described with the form's TypeScript type
/// (`Date` for a timestamp). Fields that say themselves how they cross are left alone. A field
/// declared `#[bytes]` has its `Vec<u8>`s carried the same way, as bytes (a `Uint8Array`).
fn carry_time_values(item: &mut syn::DeriveInput, krate: &syn::Path, errors: &mut Errors) {
    let type_default = serde_default(&item.attrs);
    let mut carry = |fields: &mut syn::Fields| {
        for field in fields.iter_mut() {
            let bytes_attr = take_bytes_attr(field, errors);
            let told = has_argument(&field.attrs, "ts", &["type", "as", "skip"])
                || has_argument(
                    &field.attrs,
                    "serde",
                    &["with", "serialize_with", "deserialize_with", "skip"],
                );
            if told {
                if let Some(attr) = bytes_attr {
                    errors.spanned(
                        &attr,
                        "#[bytes] says how this field crosses, and so does its #[serde(with ...)] \
                         or #[ts(...)]: keep one",
                    );
                }
                continue;
            }
            match crate::forms::field_type(&field.ty, krate, bytes_attr.is_some()) {
                // A flattened or inlined field is written into its parent by the backend, which
                // takes no description in its place: its integers stay `number`.
                Ok(Some(marked))
                    if !marked.carried
                        && (has_argument(&field.attrs, "serde", &["flatten"])
                            || has_argument(&field.attrs, "ts", &["flatten", "inline"])) =>
                {
                    if let Some(attr) = bytes_attr {
                        errors.spanned(&attr, NO_BYTES);
                    }
                }
                Ok(Some(marked)) => {
                    if marked.carried {
                        let form = &marked.form;
                        let with = quote!(#krate::__private::serde_with::As::<#form>)
                            .to_string()
                            .replace(' ', "");
                        // With an adapter serde no longer reads a missing `Option` as `None`:
                        // say so.
                        if is_option(&field.ty) && !type_default && !serde_default(&field.attrs) {
                            field.attrs.push(syn::parse_quote!(#[serde(default)]));
                        }
                        field.attrs.push(syn::parse_quote!(#[serde(with = #with)]));
                    } else if let Some(attr) = bytes_attr {
                        errors.spanned(&attr, NO_BYTES);
                    }
                    let describe = marked.describe.to_string();
                    field.attrs.push(syn::parse_quote!(#[ts(as = #describe)]));
                }
                Ok(None) => {
                    if let Some(attr) = bytes_attr {
                        errors.spanned(&attr, NO_BYTES);
                    }
                }
                Err(error) => {
                    errors.push(error);
                    // Reported once: the description would fail on the same type again.
                    field.attrs.push(syn::parse_quote!(#[ts(type = "unknown")]));
                }
            }
        }
    };
    match &mut item.data {
        syn::Data::Struct(data) => carry(&mut data.fields),
        syn::Data::Enum(data) => {
            for variant in &mut data.variants {
                carry(&mut variant.fields);
            }
        }
        syn::Data::Union(_) => {}
    }
}

const NO_BYTES: &str = "#[bytes] carries the `Vec<u8>`s of a field as bytes (a Uint8Array in \
                        JavaScript), and this field holds none";

/// Removes the field's `#[bytes]` (ours: nothing else could read it) and returns it; one with
/// arguments is an error.
fn take_bytes_attr(field: &mut syn::Field, errors: &mut Errors) -> Option<syn::Attribute> {
    let index = field
        .attrs
        .iter()
        .position(|attr| attr.path().is_ident("bytes"))?;
    let attr = field.attrs.remove(index);
    if !matches!(attr.meta, syn::Meta::Path(_)) {
        errors.spanned(&attr, "#[bytes] takes no arguments");
    }
    Some(attr)
}

/// Whether `attrs` hold `#[serde(default)]` or `#[serde(default = "...")]`.
fn serde_default(attrs: &[syn::Attribute]) -> bool {
    has_argument(attrs, "serde", &["default"])
}

/// Whether an attribute `#[tool(...)]` among `attrs` has one of the arguments `names`.
fn has_argument(attrs: &[syn::Attribute], tool: &str, names: &[&str]) -> bool {
    attrs
        .iter()
        .filter(|attr| attr.path().is_ident(tool))
        .any(|attr| {
            let mut found = false;
            // Arguments that are not ours to judge are skipped; what does not parse is no match.
            let _ = attr.parse_nested_meta(|meta| {
                found |= names.iter().any(|name| meta.path.is_ident(name));
                crate::parse::skip_value(&meta)
            });
            found
        })
}

/// Whether `ty` is written `Option<...>` (any path ending in it).
fn is_option(ty: &syn::Type) -> bool {
    matches!(ty, syn::Type::Path(path)
    if path.qself.is_none()
        && path.path.segments.last().is_some_and(|last| {
            last.ident == "Option" && matches!(last.arguments, syn::PathArguments::AngleBracketed(_))
        }))
}

/// The `ts-rs` derive writes prelude names (`String`, `Option`, `Some`, `format!`, `std::...`,
/// `.to_owned()`) unqualified, so on its own it fails in a `#![no_implicit_prelude]` module. This
/// brings exactly those names into the type's module, through a glob import: a glob never
/// overrides the module's own items or explicit imports, and where the prelude is in scope it
/// names the same items, so the module's own code resolves as before. (A name the module defines
/// itself, such as its own `String`, still shadows the glob; only `ts-rs` can fix that.)
///
/// The type's own `#[cfg]` attributes are repeated on the shim, so that two definitions of one type
/// under opposite `#[cfg]`s do not define the shim twice.
fn prelude_shim(item: &syn::DeriveInput) -> TokenStream {
    let module = quote::format_ident!(
        "__ipc_data_prelude_{}",
        ipc_schema::naming::unraw(&item.ident.to_string())
    );
    let cfgs: Vec<&syn::Attribute> = item
        .attrs
        .iter()
        .filter(|attr| attr.path().is_ident("cfg"))
        .collect();
    quote! {
        #(#cfgs)*
        #[doc(hidden)]
        #[allow(non_snake_case, unused_imports)]
        mod #module {
            pub use ::std;
            pub use ::std::borrow::ToOwned;
            pub use ::std::convert::{From, Into};
            pub use ::std::iter::Iterator;
            pub use ::std::option::Option::{self, None, Some};
            pub use ::std::string::{String, ToString};
            pub use ::std::vec::Vec;
            pub use ::std::{format, panic, stringify, vec, write};
        }
        #(#cfgs)*
        #[doc(hidden)]
        #[allow(unused_imports)]
        use #module::*;
    }
}
