//! Values of a contract's types that cross in a form of their own, or that are described more
//! exactly than TypeScript's own types say: which types hold them, and how each such type is
//! described and carried.
//!
//! - Time values (`docs/PROTOCOL.md` §4, "Time values"). Serde's own forms of time types differ
//!   from crate to crate, so every time value crosses in one wire form instead: generated code
//!   carries a type holding one through the runtime's `serde_with` adapters. Time types are
//!   recognised by name, as the macro sees them: `SystemTime`, `Duration`, `DateTime<..>` and
//!   `TimeDelta` (chrono), `OffsetDateTime` and `UtcDateTime` (time), `SignedDuration` and
//!   `jiff::Timestamp` (jiff; `Timestamp` alone is a common name of one's own types, so it needs
//!   its crate's path).
//! - Bytes: the `Vec<u8>`s of a `#[data]` field declared `#[bytes]` cross as bytes (a
//!   `Uint8Array` in JavaScript), through the same adapters.
//! - Integers of at most 32 bits in `#[data]` fields: carried as they are, described as
//!   `number /* u32 */` (`ipc_schema::naming::int_description`), so that JavaScript checks their
//!   range wherever they are nested. Only where an adapter's description reaches (the standard
//!   containers, not a map's keys); elsewhere they stay `number`.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};

/// What one leaf of a type is.
#[derive(Clone, Copy)]
enum Leaf {
    Timestamp,
    Millis,
    Bytes,
    /// An integer of at most 32 bits: described with its range, carried as it is.
    Int(&'static str),
}

/// A type with values of a form or a description of their own.
pub(crate) struct TimeType {
    /// The type with each such value replaced by its marker: what describes it to TypeScript
    /// (`Option<Timestamp>` is `Date | null`).
    pub(crate) describe: TokenStream,
    /// The `serde_with` adapter: the markers, with `Same` for everything carried as it is.
    pub(crate) form: TokenStream,
    /// Whether serde must carry the value through `form` (it holds a time value or bytes); if
    /// not, only its description differs.
    pub(crate) carried: bool,
}

/// How `ty` carries time values: `Ok(None)` when it holds none, an error when it holds one where
/// no adapter reaches (inside a type other than the standard containers).
pub(crate) fn time_type(ty: &syn::Type, krate: &syn::Path) -> syn::Result<Option<TimeType>> {
    Walker {
        krate,
        bytes: false,
        ints: false,
    }
    .type_of(ty)
}

/// [`time_type`] for the type of a `#[data]` field: its small integers are described with their
/// range too, and its `Vec<u8>`s are carried as bytes when `bytes` (the field is declared
/// `#[bytes]`).
pub(crate) fn field_type(
    ty: &syn::Type,
    krate: &syn::Path,
    bytes: bool,
) -> syn::Result<Option<TimeType>> {
    Walker {
        krate,
        bytes,
        ints: true,
    }
    .type_of(ty)
}

struct Walker<'a> {
    krate: &'a syn::Path,
    bytes: bool,
    ints: bool,
}

enum Walked {
    Plain,
    Marked {
        describe: TokenStream,
        form: TokenStream,
        /// What the first value serde must carry in a form of its own is ("a time value",
        /// "bytes"), if there is one.
        carried: Option<&'static str>,
    },
}

impl Walked {
    fn carried(&self) -> Option<&'static str> {
        match self {
            Walked::Marked { carried, .. } => *carried,
            Walked::Plain => None,
        }
    }
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

fn time_form(path: &syn::Path) -> Option<Leaf> {
    let last = path.segments.last()?;
    let name = last.ident.to_string();
    let generic = !matches!(last.arguments, syn::PathArguments::None);
    let parent = path
        .segments
        .len()
        .checked_sub(2)
        .map(|i| path.segments[i].ident.to_string());
    match name.as_str() {
        "SystemTime" | "OffsetDateTime" | "UtcDateTime" if !generic => Some(Leaf::Timestamp),
        "DateTime" if generic => Some(Leaf::Timestamp),
        "Timestamp" if !generic && parent.as_deref() == Some("jiff") => Some(Leaf::Timestamp),
        "Duration" | "TimeDelta" | "SignedDuration" if !generic => Some(Leaf::Millis),
        _ => None,
    }
}

impl Walker<'_> {
    fn type_of(&self, ty: &syn::Type) -> syn::Result<Option<TimeType>> {
        Ok(match self.walk(ty)? {
            Walked::Plain => None,
            Walked::Marked {
                describe,
                form,
                carried,
            } => Some(TimeType {
                describe,
                form,
                carried: carried.is_some(),
            }),
        })
    }

    fn leaf(&self, path: &syn::Path) -> Option<Leaf> {
        if let Some(leaf) = time_form(path) {
            return Some(leaf);
        }
        if self.bytes && is_vec_u8(path) {
            return Some(Leaf::Bytes);
        }
        if self.ints {
            let ident = path.get_ident()?.to_string();
            return ipc_schema::naming::DESCRIBED_INTS
                .iter()
                .find(|int| **int == ident)
                .map(|int| Leaf::Int(int));
        }
        None
    }

    fn walk(&self, ty: &syn::Type) -> syn::Result<Walked> {
        match ty {
            syn::Type::Paren(inner) => self.walk(&inner.elem),
            syn::Type::Group(inner) => self.walk(&inner.elem),
            syn::Type::Array(array) => match self.walk(&array.elem)? {
                Walked::Plain => Ok(Walked::Plain),
                Walked::Marked {
                    describe,
                    form,
                    carried,
                } => {
                    let len = &array.len;
                    Ok(Walked::Marked {
                        describe: quote!([#describe; #len]),
                        form: quote!([#form; #len]),
                        carried,
                    })
                }
            },
            syn::Type::Tuple(tuple) => {
                let items = tuple
                    .elems
                    .iter()
                    .map(|item| self.walk(item))
                    .collect::<syn::Result<Vec<_>>>()?;
                if items.iter().all(|item| matches!(item, Walked::Plain)) {
                    return Ok(Walked::Plain);
                }
                let carried = items.iter().find_map(Walked::carried);
                let (describe, form): (Vec<_>, Vec<_>) = items
                    .into_iter()
                    .zip(&tuple.elems)
                    .map(|(item, original)| split(item, original, self.krate))
                    .unzip();
                Ok(Walked::Marked {
                    describe: quote!((#(#describe,)*)),
                    form: quote!((#(#form,)*)),
                    carried,
                })
            }
            syn::Type::Path(path) if path.qself.is_none() => self.walk_path(&path.path),
            _ => Ok(Walked::Plain),
        }
    }

    fn walk_path(&self, path: &syn::Path) -> syn::Result<Walked> {
        let krate = self.krate;
        if let Some(leaf) = self.leaf(path) {
            check_time_zone(path)?;
            let (marker, carried) = match leaf {
                Leaf::Timestamp => (
                    quote!(#krate::__private::time::Timestamp),
                    Some("a time value"),
                ),
                Leaf::Millis => (
                    quote!(#krate::__private::time::Millis),
                    Some("a time value"),
                ),
                Leaf::Bytes => (quote!(#krate::__private::AsBytes), Some("bytes")),
                Leaf::Int(int) => {
                    let marker = quote::format_ident!("{}", int.to_uppercase());
                    (quote!(#krate::__private::ints::#marker), None)
                }
            };
            let form = match carried {
                Some(_) => marker.clone(),
                None => quote!(#krate::__private::serde_with::Same),
            };
            return Ok(Walked::Marked {
                describe: marker,
                form,
                carried,
            });
        }
        let Some(last) = path.segments.last() else {
            return Ok(Walked::Plain);
        };
        let syn::PathArguments::AngleBracketed(arguments) = &last.arguments else {
            return Ok(Walked::Plain);
        };
        let types = crate::parse::type_arguments(arguments);
        let mut walked = types
            .iter()
            .map(|ty| self.walk(ty))
            .collect::<syn::Result<Vec<_>>>()?;
        let name = last.ident.to_string();
        let is_map = name == "BTreeMap" || name == "HashMap";
        if !CONTAINERS.contains(&name.as_str()) {
            return match walked.iter().find_map(Walked::carried) {
                Some(what) => Err(syn::Error::new_spanned(
                    last,
                    format!(
                        "{what} inside `{name}<..>` cannot be given its wire form: only Option, \
                         Vec, VecDeque, Box, Rc, Arc, maps, sets, arrays and tuples can hold one \
                         directly; put it in a #[data] struct"
                    ),
                )),
                // Only described parts: described as their type says, then.
                None => Ok(Walked::Plain),
            };
        }
        if is_map && let Some(key) = walked.first_mut() {
            if let Some(what) = key.carried() {
                return Err(syn::Error::new_spanned(
                    last,
                    format!(
                        "{what} cannot be the key of `{name}<..>`: a JavaScript object's keys \
                         are strings; key the map by text or a number"
                    ),
                ));
            }
            // A key is written as a property name; its description stays the type's own.
            *key = Walked::Plain;
        }
        if walked.iter().all(|item| matches!(item, Walked::Plain)) {
            return Ok(Walked::Plain);
        }
        let carried = walked.iter().find_map(Walked::carried);
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
        Ok(Walked::Marked {
            describe: quote!(#prefix<#(#describe),*>),
            form: quote!(#prefix<#(#form),*>),
            carried,
        })
    }
}

/// `Vec<u8>` (by that name, any path to it).
fn is_vec_u8(path: &syn::Path) -> bool {
    let Some(last) = path.segments.last() else {
        return false;
    };
    let syn::PathArguments::AngleBracketed(arguments) = &last.arguments else {
        return false;
    };
    last.ident == "Vec"
        && arguments.args.len() == 1
        && matches!(
            arguments.args.first(),
            Some(syn::GenericArgument::Type(syn::Type::Path(item)))
                if item.qself.is_none() && item.path.is_ident("u8")
        )
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

/// One part of a type: how it is described, and its adapter.
fn split(item: Walked, original: &syn::Type, krate: &syn::Path) -> (TokenStream, TokenStream) {
    match item {
        Walked::Plain => (
            original.to_token_stream(),
            quote!(#krate::__private::serde_with::Same),
        ),
        Walked::Marked { describe, form, .. } => (describe, form),
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
