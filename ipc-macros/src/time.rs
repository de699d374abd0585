//! Time values in a contract's types: which types hold them, and how each such type is described
//! and carried (`docs/PROTOCOL.md` §4, "Time values"). Serde's own forms of time types differ from crate to
//! crate, so every time value crosses in one wire form instead: generated code carries a type
//! holding one through the runtime's `serde_with` adapters.
//!
//! Time types are recognised by name, as the macro sees them: `SystemTime`, `Duration`,
//! `DateTime<..>` and `TimeDelta` (chrono), `OffsetDateTime` and `UtcDateTime` (time),
//! `SignedDuration` and `jiff::Timestamp` (jiff; `Timestamp` alone is a common name of one's own
//! types, so it needs its crate's path).

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};

/// The wire form of one time value.
#[derive(Clone, Copy)]
enum Form {
    Timestamp,
    Millis,
}

/// A type that holds time values.
pub(crate) struct TimeType {
    /// The type with each time value replaced by its form's marker: what describes it to
    /// TypeScript (`Option<Timestamp>` is `Date | null`).
    pub(crate) describe: TokenStream,
    /// The `serde_with` adapter: the markers, with `Same` for everything carried as it is.
    pub(crate) form: TokenStream,
}

/// How `ty` carries time values: `Ok(None)` when it holds none, an error when it holds one where
/// no adapter reaches (inside a type other than the standard containers).
pub(crate) fn time_type(ty: &syn::Type, krate: &syn::Path) -> syn::Result<Option<TimeType>> {
    match walk(ty, krate)? {
        Walked::Plain => Ok(None),
        Walked::Time { describe, form } => Ok(Some(TimeType { describe, form })),
    }
}

enum Walked {
    Plain,
    Time {
        describe: TokenStream,
        form: TokenStream,
    },
}

/// Containers whose every type argument `serde_with` adapts (`Option<Timestamp>`,
/// `BTreeMap<Same, Millis>`).
const CONTAINERS: &[&str] = &[
    "Option",
    "Vec",
    "VecDeque",
    "LinkedList",
    "Box",
    "Rc",
    "Arc",
    "BTreeMap",
    "HashMap",
    "BTreeSet",
    "HashSet",
    "BinaryHeap",
];

fn time_form(path: &syn::Path) -> Option<Form> {
    let last = path.segments.last()?;
    let name = last.ident.to_string();
    let generic = !matches!(last.arguments, syn::PathArguments::None);
    let parent = path
        .segments
        .len()
        .checked_sub(2)
        .map(|i| path.segments[i].ident.to_string());
    match name.as_str() {
        "SystemTime" | "OffsetDateTime" | "UtcDateTime" if !generic => Some(Form::Timestamp),
        "DateTime" if generic => Some(Form::Timestamp),
        "Timestamp" if !generic && parent.as_deref() == Some("jiff") => Some(Form::Timestamp),
        "Duration" | "TimeDelta" | "SignedDuration" if !generic => Some(Form::Millis),
        _ => None,
    }
}

fn walk(ty: &syn::Type, krate: &syn::Path) -> syn::Result<Walked> {
    match ty {
        syn::Type::Paren(inner) => walk(&inner.elem, krate),
        syn::Type::Group(inner) => walk(&inner.elem, krate),
        syn::Type::Array(array) => match walk(&array.elem, krate)? {
            Walked::Plain => Ok(Walked::Plain),
            Walked::Time { describe, form } => {
                let len = &array.len;
                Ok(Walked::Time {
                    describe: quote!([#describe; #len]),
                    form: quote!([#form; #len]),
                })
            }
        },
        syn::Type::Tuple(tuple) => {
            let items = tuple
                .elems
                .iter()
                .map(|item| walk(item, krate))
                .collect::<syn::Result<Vec<_>>>()?;
            if items.iter().all(|item| matches!(item, Walked::Plain)) {
                return Ok(Walked::Plain);
            }
            let (describe, form): (Vec<_>, Vec<_>) = items
                .into_iter()
                .zip(&tuple.elems)
                .map(|(item, original)| split(item, original, krate))
                .unzip();
            Ok(Walked::Time {
                describe: quote!((#(#describe,)*)),
                form: quote!((#(#form,)*)),
            })
        }
        syn::Type::Path(path) if path.qself.is_none() => walk_path(&path.path, krate),
        _ => Ok(Walked::Plain),
    }
}

fn walk_path(path: &syn::Path, krate: &syn::Path) -> syn::Result<Walked> {
    if let Some(form) = time_form(path) {
        check_time_zone(path)?;
        let marker = match form {
            Form::Timestamp => quote!(#krate::__private::time::Timestamp),
            Form::Millis => quote!(#krate::__private::time::Millis),
        };
        return Ok(Walked::Time {
            describe: marker.clone(),
            form: marker,
        });
    }
    let Some(last) = path.segments.last() else {
        return Ok(Walked::Plain);
    };
    let syn::PathArguments::AngleBracketed(arguments) = &last.arguments else {
        return Ok(Walked::Plain);
    };
    let types: Vec<&syn::Type> = arguments
        .args
        .iter()
        .filter_map(|argument| match argument {
            syn::GenericArgument::Type(ty) => Some(ty),
            _ => None,
        })
        .collect();
    let walked = types
        .iter()
        .map(|ty| walk(ty, krate))
        .collect::<syn::Result<Vec<_>>>()?;
    if walked.iter().all(|item| matches!(item, Walked::Plain)) {
        return Ok(Walked::Plain);
    }
    let name = last.ident.to_string();
    if !CONTAINERS.contains(&name.as_str()) {
        return Err(syn::Error::new_spanned(
            last,
            format!(
                "a time value inside `{name}<..>` cannot be given its wire form: only Option, \
                 Vec, VecDeque, Box, Rc, Arc, maps, sets, arrays and tuples can hold one \
                 directly; put it in a #[data] struct"
            ),
        ));
    }
    let is_map = name == "BTreeMap" || name == "HashMap";
    if is_map && matches!(walked.first(), Some(Walked::Time { .. })) {
        return Err(syn::Error::new_spanned(
            last,
            format!(
                "a time value cannot be the key of `{name}<..>`: a JavaScript object's keys are \
                 strings; key the map by the time's text or a number"
            ),
        ));
    }
    // A hasher (`HashMap<K, V, S>`, `HashSet<T, S>`) is a type argument, not an element.
    let elements = if is_map { 2 } else { 1 };
    let (describe, form): (Vec<_>, Vec<_>) = walked
        .into_iter()
        .zip(&types)
        .enumerate()
        .map(|(index, (item, original))| {
            if index >= elements && name.starts_with("Hash") {
                (original.to_token_stream(), original.to_token_stream())
            } else {
                split(item, original, krate)
            }
        })
        .unzip();
    // The container's own path, its arguments replaced (`std::collections::HashMap<..>`).
    let mut prefix = path.clone();
    if let Some(last) = prefix.segments.last_mut() {
        last.arguments = syn::PathArguments::None;
    }
    Ok(Walked::Time {
        describe: quote!(#prefix<#(#describe),*>),
        form: quote!(#prefix<#(#form),*>),
    })
}

/// chrono's `DateTime<Tz>` crosses for the zones whose instant is all there is to it.
fn check_time_zone(path: &syn::Path) -> syn::Result<()> {
    let Some(last) = path.segments.last() else {
        return Ok(());
    };
    let syn::PathArguments::AngleBracketed(arguments) = &last.arguments else {
        return Ok(());
    };
    if last.ident != "DateTime" {
        return Ok(());
    }
    let zone = arguments.args.iter().find_map(|argument| match argument {
        syn::GenericArgument::Type(syn::Type::Path(zone)) => zone.path.segments.last(),
        _ => None,
    });
    match zone {
        Some(zone) if zone.ident == "Utc" || zone.ident == "FixedOffset" => Ok(()),
        _ => Err(syn::Error::new_spanned(
            last,
            "a timestamp crosses as its instant in UTC: use chrono's `DateTime<Utc>` or \
             `DateTime<FixedOffset>` (convert a local time with `.with_timezone(&Utc)`)",
        )),
    }
}

/// One part of a type holding time values: how it is described, and its adapter.
fn split(item: Walked, original: &syn::Type, krate: &syn::Path) -> (TokenStream, TokenStream) {
    match item {
        Walked::Plain => (
            original.to_token_stream(),
            quote!(#krate::__private::serde_with::Same),
        ),
        Walked::Time { describe, form } => (describe, form),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forms(ty: &str) -> Option<(String, String)> {
        let ty: syn::Type = syn::parse_str(ty).unwrap();
        let krate: syn::Path = syn::parse_quote!(k);
        time_type(&ty, &krate)
            .unwrap()
            .map(|t| (t.describe.to_string(), t.form.to_string()))
    }

    #[test]
    fn time_values_are_found_through_containers_and_tuples() {
        assert_eq!(forms("String"), None);
        assert_eq!(forms("Vec<u32>"), None);
        assert_eq!(forms("MyDuration"), None);
        assert_eq!(forms("Timestamp"), None);
        let (describe, form) = forms("Option<std::time::SystemTime>").unwrap();
        assert_eq!(describe, "Option < k :: __private :: time :: Timestamp >");
        assert_eq!(form, describe);
        let (describe, form) = forms("HashMap<String, Vec<(Duration, u8)>>").unwrap();
        assert_eq!(
            describe,
            "HashMap < String , Vec < (k :: __private :: time :: Millis , u8 ,) > >"
        );
        assert_eq!(
            form,
            "HashMap < k :: __private :: serde_with :: Same , Vec < (k :: __private :: time :: Millis , k :: __private :: serde_with :: Same ,) > >"
        );
        assert!(forms("chrono::DateTime<chrono::Utc>").is_some());
        assert!(forms("jiff::Timestamp").is_some());
        assert!(forms("[time::OffsetDateTime; 2]").is_some());
    }

    #[test]
    fn a_time_value_in_another_generic_type_is_an_error() {
        let ty: syn::Type = syn::parse_str("Page<SystemTime>").unwrap();
        let krate: syn::Path = syn::parse_quote!(k);
        let error = time_type(&ty, &krate).err().unwrap().to_string();
        assert!(error.contains("inside `Page<..>`"), "{error}");
        let error = |ty: &str| {
            let ty: syn::Type = syn::parse_str(ty).unwrap();
            time_type(&ty, &krate).err().unwrap().to_string()
        };
        assert!(error("BTreeMap<SystemTime, u8>").contains("cannot be the key"));
        assert!(error("Vec<DateTime<Local>>").contains("DateTime<Utc>"));
    }

    #[test]
    fn a_hasher_is_kept_as_it_is() {
        let (describe, form) = forms("HashMap<String, SystemTime, MyHasher>").unwrap();
        assert!(describe.ends_with(", MyHasher >"), "{describe}");
        assert!(form.ends_with(", MyHasher >"), "{form}");
    }
}
