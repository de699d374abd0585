//! The stable contract hash.
//!
//! The hash covers exactly what two peers must agree on: the namespace, every method's channel,
//! kind, parameter types (positional order) and result types, the TypeScript declarations of
//! the named types behind them (so changing a field of a struct used as an argument changes the
//! hash), and the contract of every capability a handle of it reaches (their methods travel on
//! the same connection: a changed capability is a changed contract). It leaves out what does
//! not change the wire: doc comments (also those inside type declarations), parameter names,
//! the Rust spelling of a type (`String` vs `std::string::String`) and the order of
//! declarations.
//!
//! Types are compared by their wire shape, which is their TypeScript form. A method's `u32` and
//! `i32` parameters are both `number` and hash alike; inside a `#[data]` type an integer of at
//! most 32 bits is described with its Rust type (`number /* u16 */`, kept by the hash), so there
//! its width counts. Both codecs are self-describing (JSON, MessagePack), so a change never
//! reinterprets bytes silently: a value out of the receiver's range fails to decode with a
//! `BadArguments`/`BadReply` error.
//!
//! The function is 64-bit FNV-1a over a canonical text form; it has no dependency on the compiler
//! version or on `std`'s randomized hashers, so it is stable across builds and machines.

use crate::model::Service;
use crate::naming;

/// Computes the contract hash of `service` as 16 lowercase hex digits.
///
/// # Examples
///
/// ```
/// use ipc_schema::{Method, MethodKind, Service};
///
/// let a = Service::builder("Todos", "todos")
///     .method(Method::new("add", "todos:add", MethodKind::Invoke).param_raw("title", "String", "string"))
///     .build();
/// let b = Service::builder("Todos", "todos")
///     .method(Method::new("add", "todos:add", MethodKind::Invoke).param_raw("title", "u32", "number"))
///     .build();
/// assert_ne!(a.hash, b.hash);
/// assert_eq!(a.hash, ipc_schema::hash::contract_hash(&a));
/// ```
pub fn contract_hash(service: &Service) -> String {
    format!("{:016x}", fnv1a64(canonical_form(service).as_bytes()))
}

/// The canonical text the hash is computed over (exposed so tools can show what changed).
pub fn canonical_form(service: &Service) -> String {
    let mut text = format!("ipc-contract/1\nnamespace {}\n", service.namespace);
    text.push_str(&format!("large_ints {:?}\n", service.large_ints));
    for method in &service.methods {
        text.push_str(&format!("{} {}(", method.kind.as_str(), method.channel));
        let params: Vec<&str> = method.params.iter().map(|p| p.ty.ts.as_str()).collect();
        text.push_str(&params.join(", "));
        text.push(')');
        if let Some(output) = &method.output {
            text.push_str(&format!(" -> {}", output.ts));
        }
        if let Some(error) = &method.error {
            text.push_str(&format!(" throws {}", error.ts));
        }
        text.push('\n');
    }
    for decl in service.types.values() {
        text.push_str(&strip_comments(&decl.declaration));
        text.push('\n');
    }
    // Each reached capability by its own contract's hash (computed, not taken from the field: a
    // schema read from JSON is checked against what it holds). The list is flat and holds every
    // capability reached, directly or through another.
    let mut capabilities: Vec<&Service> = service.capabilities.iter().collect();
    capabilities.sort_by(|a, b| a.namespace.cmp(&b.namespace));
    for capability in capabilities {
        let mut own = capability.clone();
        own.capabilities.clear();
        text.push_str(&format!(
            "capability {} {}\n",
            capability.namespace,
            contract_hash(&own)
        ));
    }
    text
}

/// A declaration without its `/** ... */` doc comments and with whitespace collapsed, so that
/// rewording a field's documentation does not change the hash.
fn strip_comments(declaration: &str) -> String {
    without_block_comments(declaration)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// `text` without its `/* ... */` comments (an unterminated one runs to the end), except that an
/// integer's description (`number /* u32 */`, [`naming::int_description`]) is kept, as the token
/// [`INT_TOKEN`]`u32`: the integer's type is part of what crosses (the checks read its range).
pub(crate) fn without_block_comments(text: &str) -> String {
    let mut kept = None;
    for int in naming::DESCRIBED_INTS {
        let description = naming::int_description(int);
        let current: &str = kept.as_deref().unwrap_or(text);
        if current.contains(&description) {
            kept = Some(current.replace(&description, &format!("{INT_TOKEN}{int}")));
        }
    }
    let text = kept.as_deref().unwrap_or(text);
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("/*") {
        out.push_str(&rest[..start]);
        rest = match rest[start + 2..].find("*/") {
            Some(end) => &rest[start + 2 + end + 2..],
            None => "",
        };
    }
    out.push_str(rest);
    out
}

/// What an integer's description becomes once comments are stripped (no TypeScript name starts
/// so).
pub(crate) const INT_TOKEN: &str = "__ipc_int_";

fn fnv1a64(bytes: &[u8]) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes.iter().fold(OFFSET, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(PRIME)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Method, MethodKind};

    #[test]
    fn a_reached_capability_is_part_of_the_contract() {
        let file = |output: &str| {
            Service::builder("File", "file")
                .method(
                    Method::new("read", "file:read", MethodKind::Invoke).output_raw(output, output),
                )
                .build()
        };
        let outer = Service::builder("Files", "files")
            .method(
                Method::new("open", "files:open", MethodKind::Invoke)
                    .output_raw("Handle<File>", "IpcHandle<\"file\">"),
            )
            .build();
        let with = |capability: Service| {
            let mut service = outer.clone();
            service.capabilities = vec![capability];
            contract_hash(&service)
        };
        assert_ne!(with(file("string")), outer.hash);
        assert_ne!(with(file("string")), with(file("number")));
        assert_eq!(with(file("string")), with(file("string")));
        // The capability's hash field is not trusted: its contents are hashed.
        let mut lying = file("number");
        lying.hash = file("string").hash;
        assert_eq!(with(lying), with(file("number")));
    }

    #[test]
    fn comments_and_layout_are_not_part_of_a_declaration() {
        assert_eq!(
            strip_comments("/** A todo. */\ntype Todo = {\n  /** Its id. */\n  id: number, }"),
            "type Todo = { id: number, }"
        );
    }

    #[test]
    fn fnv_known_vectors() {
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn docs_and_names_do_not_change_the_hash() {
        let make = |docs: &str, param: &str| {
            Service::builder("T", "t")
                .docs(docs)
                .method(
                    Method::new("f", "t:f", MethodKind::Invoke)
                        .docs(docs)
                        .param_raw(param, "String", "string")
                        .output_raw("u32", "number"),
                )
                .build()
        };
        assert_eq!(make("one", "a").hash, make("two", "b").hash);
    }

    #[test]
    fn kind_and_output_change_the_hash() {
        let base = Service::builder("T", "t")
            .method(Method::new("f", "t:f", MethodKind::Invoke).output_raw("u32", "number"))
            .build();
        let other_output = Service::builder("T", "t")
            .method(Method::new("f", "t:f", MethodKind::Invoke).output_raw("String", "string"))
            .build();
        let other_kind = Service::builder("T", "t")
            .method(Method::new("f", "t:f", MethodKind::Send))
            .build();
        assert_ne!(base.hash, other_output.hash);
        assert_ne!(base.hash, other_kind.hash);
    }
}
