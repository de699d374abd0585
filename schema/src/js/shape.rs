//! Argument checks derived from TypeScript types: a small, conservative reading of the type
//! expressions ts-rs writes. Whatever is not understood is not checked (`any`); the Rust side
//! still refuses wrong arguments with `bad_arguments`.

use std::collections::BTreeMap;

use crate::model::{TypeDecl, TypeRef};
use crate::naming;

/// What a value must look like.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Shape {
    Any,
    String,
    Number,
    Boolean,
    Null,
    /// Binary data (`Uint8Array`: any `ArrayBuffer` or view of one is accepted).
    Bytes,
    /// A 64-bit integer of a contract that opted into `bigint` (`large_ints = "bigint"`).
    BigInt,
    /// A timestamp: a `Date` in JavaScript, an RFC 3339 string on the wire (PROTOCOL.md §4, "Time values").
    Date,
    /// An integer in `min..=max`.
    Int(i64, i64),
    Object,
    /// An object with these fields (name, shape, whether it may be absent). Fields that are
    /// absent are not checked (serde may default them); other fields are allowed.
    Struct(Vec<(String, Shape, bool)>),
    /// An object used as a map: every key (a JSON object key is a string) and value.
    Map(Box<Shape>, Box<Shape>),
    /// Every one of these (`A & B`: a flattened or internally tagged type).
    All(Vec<Shape>),
    Array(Box<Shape>),
    Tuple(Vec<Shape>),
    /// One of these literal values (JSON literals).
    OneOf(Vec<String>),
    Union(Vec<Shape>),
    /// A stream (`IpcStream<T, E>`) of items of this shape: in parameter position, an iterable
    /// the page uploads.
    Stream(Box<Shape>),
    /// A port end (`IpcPort<Out, In>`): the shapes of what this end sends and receives.
    Port(Box<Shape>, Box<Shape>),
    /// A handle to an object of the capability of this namespace (`IpcHandle<"ns">`): a port
    /// reference on the wire, an object with the capability's methods in JavaScript.
    Handle(String),
}

const MAX_SAFE: i64 = (1 << 53) - 1;
const MAX_DEPTH: usize = 8;

/// The check for a parameter of type `ty`.
pub(crate) fn of(ty: &TypeRef, types: &BTreeMap<String, TypeDecl>) -> Shape {
    let shape = parse(&ty.ts, types, 0);
    match (shape, int_range(&ty.rust)) {
        (Shape::Number, Some((min, max))) => Shape::Int(min, max),
        (shape, _) => shape,
    }
}

/// The range of a Rust integer type written as a bare primitive (`u32`, `std::primitive::i16`).
fn int_range(rust: &str) -> Option<(i64, i64)> {
    let name = rust.rsplit("::").next().unwrap_or(rust).trim();
    Some(match name {
        "u8" => (0, u8::MAX.into()),
        "u16" => (0, u16::MAX.into()),
        "u32" => (0, u32::MAX.into()),
        "i8" => (i8::MIN.into(), i8::MAX.into()),
        "i16" => (i16::MIN.into(), i16::MAX.into()),
        "i32" => (i32::MIN.into(), i32::MAX.into()),
        // Only with `large_ints = "number"`: JavaScript holds integers exactly up to 2^53.
        "u64" | "u128" | "usize" => (0, MAX_SAFE),
        "i64" | "i128" | "isize" => (-MAX_SAFE, MAX_SAFE),
        _ => return None,
    })
}

fn parse(ts: &str, types: &BTreeMap<String, TypeDecl>, depth: usize) -> Shape {
    if depth > MAX_DEPTH {
        return Shape::Any;
    }
    let ts = strip_parens(ts.trim());
    let alternatives = split_top(ts, '|');
    if alternatives.len() > 1 {
        return union(
            alternatives
                .iter()
                .map(|alt| parse(alt, types, depth + 1))
                .collect(),
        );
    }
    let parts = split_top(ts, '&');
    if parts.len() > 1 {
        let parts: Vec<Shape> = parts
            .iter()
            .map(|part| parse(part, types, depth + 1))
            .filter(|part| *part != Shape::Any)
            .collect();
        return match parts.len() {
            0 => Shape::Any,
            1 => parts.into_iter().next().unwrap_or(Shape::Any),
            _ => Shape::All(parts),
        };
    }
    if let Some(int) = ts
        .strip_prefix(crate::hash::INT_TOKEN)
        .or_else(|| naming::described_int(ts))
        && let Some((min, max)) = int_range(int)
    {
        return Shape::Int(min, max);
    }
    match ts {
        "string" => return Shape::String,
        "number" => return Shape::Number,
        "boolean" => return Shape::Boolean,
        "Uint8Array" => return Shape::Bytes,
        "bigint" => return Shape::BigInt,
        // The global `Date`, unless the contract declares a type of that name.
        "Date" if !types.contains_key("Date") => return Shape::Date,
        "null" | "undefined" => return Shape::Null,
        "true" | "false" => return Shape::OneOf(vec![ts.to_string()]),
        _ => {}
    }
    if ts.starts_with('"') && ts.ends_with('"') && ts.len() >= 2 {
        return match serde_json::from_str::<String>(ts) {
            Ok(_) => Shape::OneOf(vec![ts.to_string()]),
            Err(_) => Shape::Any,
        };
    }
    if ts.parse::<f64>().is_ok_and(f64::is_finite) && ts.bytes().all(|b| b != b' ') {
        return Shape::OneOf(vec![ts.to_string()]);
    }
    if let Some(inner) = ts.strip_suffix("[]") {
        if balanced(inner) {
            return Shape::Array(Box::new(parse(inner, types, depth + 1)));
        }
    }
    if let Some(inner) = generic_argument(ts, "Array") {
        return Shape::Array(Box::new(parse(inner, types, depth + 1)));
    }
    if let Some(inner) = generic_argument(ts, "IpcStream") {
        let item = split_top(inner, ',').first().copied().unwrap_or("unknown");
        return Shape::Stream(Box::new(parse(item, types, depth + 1)));
    }
    if let Some(inner) = generic_argument(ts, "IpcPort") {
        let ends = split_top(inner, ',');
        let end = |i: usize| {
            Box::new(parse(
                ends.get(i).copied().unwrap_or("unknown"),
                types,
                depth + 1,
            ))
        };
        return Shape::Port(end(0), end(1));
    }
    if let Some(inner) = generic_argument(ts, "IpcHandle") {
        return match serde_json::from_str::<String>(inner.trim()) {
            Ok(namespace) => Shape::Handle(namespace),
            Err(_) => Shape::Any,
        };
    }
    if ts.starts_with('[') && ts.ends_with(']') && balanced(&ts[1..ts.len() - 1]) {
        let inner = ts[1..ts.len() - 1].trim();
        if inner.is_empty() {
            return Shape::Tuple(Vec::new());
        }
        let items = split_top(inner, ',');
        if items
            .iter()
            .any(|i| i.contains('?') || i.trim_start().starts_with("..."))
        {
            return Shape::Array(Box::new(Shape::Any));
        }
        return Shape::Tuple(
            items
                .iter()
                .map(|item| parse(item, types, depth + 1))
                .collect(),
        );
    }
    if ts.starts_with('{') && ts.ends_with('}') && balanced(&ts[1..ts.len() - 1]) {
        return object_literal(&strip_comments(&ts[1..ts.len() - 1]), types, depth)
            .unwrap_or(Shape::Object);
    }
    for object_like in ["Record", "Partial", "Required", "Readonly", "Omit", "Pick"] {
        if generic_argument(ts, object_like).is_some() {
            return Shape::Object;
        }
    }
    let name = ts.split('<').next().unwrap_or(ts).trim();
    if let Some(decl) = types.get(name) {
        return match declaration_body(&decl.declaration) {
            Some(Body::Alias(body)) => parse(&body, types, depth + 1),
            Some(Body::Interface) => Shape::Object,
            None => Shape::Any,
        };
    }
    Shape::Any
}

/// The members of `{ a: T, "b"?: U, [key in K]?: V }` (comments already removed), or `None`
/// when a member is not one of these forms (the object is then checked only as an object).
fn object_literal(body: &str, types: &BTreeMap<String, TypeDecl>, depth: usize) -> Option<Shape> {
    let mut fields = Vec::new();
    let mut map = None;
    for member in split_top(body, ',') {
        let member = member.trim();
        // The `:` that separates the key from the type (outside brackets and strings).
        let colon = *top_level(member, ':').first()?;
        let (key, value) = (member[..colon].trim(), member[colon + 1..].trim());
        let (key, optional) = match key.strip_suffix('?') {
            Some(key) => (key.trim(), true),
            None => (key, false),
        };
        let value = parse(value, types, depth + 1);
        if let Some(index) = key.strip_prefix('[').and_then(|k| k.strip_suffix(']')) {
            // `[key in K]` (ts-rs) or `[key: K]`.
            let key_type = index
                .split_once(" in ")
                .or_else(|| index.split_once(':'))
                .map(|(_, k)| k.trim())?;
            map = Some(Shape::Map(
                Box::new(map_key(parse(key_type, types, depth + 1))),
                Box::new(value),
            ));
            continue;
        }
        let name = if key.starts_with('"') {
            serde_json::from_str::<String>(key).ok()?
        } else if !key.is_empty()
            && key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
        {
            key.to_string()
        } else {
            return None;
        };
        fields.push((name, value, optional));
    }
    match (map, fields.is_empty()) {
        (Some(map), true) => Some(map),
        // A map with named members too is not a form ts-rs writes.
        (Some(_), false) => None,
        (None, _) => Some(Shape::Struct(fields)),
    }
}

/// A map's key shape. A JavaScript object's keys are strings: a numeric key is the digits of its
/// number there (checked as such), and travels as a number (the generated peers convert it).
fn map_key(key: Shape) -> Shape {
    match key {
        Shape::String | Shape::OneOf(_) | Shape::Number | Shape::Int(..) => key,
        _ => Shape::Any,
    }
}

fn union(alternatives: Vec<Shape>) -> Shape {
    let mut flat = Vec::new();
    let mut literals = Vec::new();
    for alternative in alternatives {
        match alternative {
            Shape::Any => return Shape::Any,
            Shape::Union(inner) => flat.extend(inner),
            Shape::OneOf(values) => literals.extend(values),
            other => flat.push(other),
        }
    }
    if !literals.is_empty() {
        flat.push(Shape::OneOf(literals));
    }
    let mut unique: Vec<Shape> = Vec::new();
    for shape in flat {
        if !unique.contains(&shape) {
            unique.push(shape);
        }
    }
    if unique.len() == 1 {
        unique.pop().unwrap_or(Shape::Any)
    } else {
        Shape::Union(unique)
    }
}

enum Body {
    Alias(String),
    Interface,
}

/// The right-hand side of `type Name<…> = …;`, without comments.
fn declaration_body(declaration: &str) -> Option<Body> {
    let text = strip_comments(declaration);
    let text = text
        .trim()
        .strip_prefix("export ")
        .unwrap_or(text.trim())
        .trim();
    if text.starts_with("interface ") {
        return Some(Body::Interface);
    }
    let rest = text.strip_prefix("type ")?;
    let eq = top_level_eq(rest)?;
    let body = rest[eq + 1..].trim();
    Some(Body::Alias(
        body.strip_suffix(';').unwrap_or(body).trim().to_string(),
    ))
}

/// The `=` that ends `Name<T = X>` (skipping defaults inside the generic parameters).
fn top_level_eq(text: &str) -> Option<usize> {
    let mut depth = 0i32;
    for (i, c) in text.char_indices() {
        match c {
            '<' => depth += 1,
            '>' => depth -= 1,
            '=' if depth == 0 => return Some(i),
            _ => {}
        }
    }
    None
}

fn strip_comments(text: &str) -> String {
    crate::hash::without_block_comments(text)
}

/// `Name<inner>` to `inner`, when the brackets enclose the rest of the text.
pub(super) fn generic_argument<'t>(ts: &'t str, name: &str) -> Option<&'t str> {
    let inner = ts.strip_prefix(name)?.trim_start().strip_prefix('<')?;
    let inner = inner.strip_suffix('>')?;
    balanced(inner).then_some(inner)
}

/// Removes parentheses that enclose the whole text.
fn strip_parens(ts: &str) -> &str {
    let mut ts = ts;
    while ts.starts_with('(') && ts.ends_with(')') && balanced(&ts[1..ts.len() - 1]) {
        ts = ts[1..ts.len() - 1].trim();
    }
    ts
}

/// Are the brackets of `text` balanced, never closing more than were opened?
fn balanced(text: &str) -> bool {
    let mut depth = 0i32;
    let mut quote = false;
    let mut escaped = false;
    for c in text.chars() {
        if quote {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => quote = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => quote = true,
            '<' | '{' | '[' | '(' => depth += 1,
            '>' | '}' | ']' | ')' => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            _ => {}
        }
    }
    depth == 0 && !quote
}

/// Splits at `separator` outside brackets and string literals.
pub(super) fn split_top(text: &str, separator: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    for at in top_level(text, separator) {
        parts.push(text[start..at].trim());
        start = at + separator.len_utf8();
    }
    parts.push(text[start..].trim());
    parts.retain(|p| !p.is_empty());
    parts
}

/// Where `separator` stands outside brackets and string literals.
fn top_level(text: &str, separator: char) -> Vec<usize> {
    let mut positions = Vec::new();
    let mut depth = 0i32;
    let mut quote = false;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        if quote {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => quote = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => quote = true,
            '<' | '{' | '[' | '(' => depth += 1,
            '>' | '}' | ']' | ')' => depth -= 1,
            c if c == separator && depth == 0 => positions.push(i),
            _ => {}
        }
    }
    positions
}

impl Shape {
    /// Whether a value of this shape holds what JavaScript reads into a value of its own as it
    /// arrives: a timestamp (a `Date`), a 64-bit integer (a `bigint`) or a capability handle
    /// (an object with its methods).
    pub(crate) fn needs_reading(&self) -> bool {
        match self {
            Shape::Date | Shape::BigInt | Shape::Handle(_) => true,
            Shape::Struct(fields) => fields.iter().any(|(_, shape, _)| shape.needs_reading()),
            Shape::Map(key, value) => key.needs_reading() || value.needs_reading(),
            Shape::All(shapes) | Shape::Tuple(shapes) | Shape::Union(shapes) => {
                shapes.iter().any(Shape::needs_reading)
            }
            Shape::Array(item) | Shape::Stream(item) => item.needs_reading(),
            Shape::Port(out, into) => out.needs_reading() || into.needs_reading(),
            _ => false,
        }
    }

    /// The namespaces of the capability handles this shape holds (`IpcHandle<"ns">`).
    pub(crate) fn handles(&self, found: &mut std::collections::BTreeSet<String>) {
        match self {
            Shape::Handle(namespace) => {
                found.insert(namespace.clone());
            }
            Shape::Struct(fields) => fields.iter().for_each(|(_, shape, _)| shape.handles(found)),
            Shape::Map(key, value) | Shape::Port(key, value) => {
                key.handles(found);
                value.handles(found);
            }
            Shape::All(shapes) | Shape::Tuple(shapes) | Shape::Union(shapes) => {
                shapes.iter().for_each(|shape| shape.handles(found));
            }
            Shape::Array(item) | Shape::Stream(item) => item.handles(found),
            _ => {}
        }
    }

    /// The check as a JavaScript literal read by the generated `shapeProblem`.
    pub(crate) fn to_js(&self) -> String {
        match self {
            Shape::Any => "\"any\"".into(),
            Shape::String => "\"string\"".into(),
            Shape::Number => "\"number\"".into(),
            Shape::Boolean => "\"boolean\"".into(),
            Shape::Bytes => "\"bytes\"".into(),
            Shape::Date => "\"date\"".into(),
            Shape::BigInt => "\"bigint\"".into(),
            Shape::Null => "\"null\"".into(),
            Shape::Object => "\"object\"".into(),
            Shape::Struct(fields) => list(
                "struct",
                fields.iter().map(|(name, shape, optional)| {
                    format!(
                        "[{}, {}, {}]",
                        super::text::js_string(name),
                        shape.to_js(),
                        u8::from(*optional)
                    )
                }),
            ),
            Shape::Map(key, value) => format!("[\"map\", {}, {}]", key.to_js(), value.to_js()),
            Shape::All(parts) => list("all", parts.iter().map(Shape::to_js)),
            Shape::Int(min, max) => format!("[\"int\", {min}, {max}]"),
            Shape::Array(item) => format!("[\"array\", {}]", item.to_js()),
            Shape::Tuple(items) => list("tuple", items.iter().map(Shape::to_js)),
            Shape::OneOf(values) => list("oneOf", values.iter().cloned()),
            Shape::Union(shapes) => list("union", shapes.iter().map(Shape::to_js)),
            Shape::Stream(item) => format!("[\"stream\", {}]", item.to_js()),
            Shape::Port(out, into) => format!("[\"port\", {}, {}]", out.to_js(), into.to_js()),
            Shape::Handle(namespace) => {
                format!("[\"handle\", {}]", super::text::js_string(namespace))
            }
        }
    }
}

fn list(tag: &str, items: impl Iterator<Item = String>) -> String {
    let mut out = format!("[\"{tag}\"");
    for item in items {
        out.push_str(", ");
        out.push_str(&item);
    }
    out.push(']');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(ts: &str) -> Shape {
        let mut types = BTreeMap::new();
        types.insert(
            "Todo".to_string(),
            TypeDecl::new(
                "Todo",
                "type Todo = { /** Its id. */ id: number, title: string, };",
                None,
            ),
        );
        types.insert(
            "Color".to_string(),
            TypeDecl::new("Color", "type Color = \"Red\" | \"Green\";", None),
        );
        types.insert(
            "Loop".to_string(),
            TypeDecl::new("Loop", "type Loop = Loop | null;", None),
        );
        types.insert(
            "Page".to_string(),
            TypeDecl::new("Page", "type Page<T> = { items: Array<T>, };", None),
        );
        parse(ts, &types, 0)
    }

    fn todo() -> Shape {
        Shape::Struct(vec![
            ("id".into(), Shape::Number, false),
            ("title".into(), Shape::String, false),
        ])
    }

    #[test]
    fn objects_tagged_enums_and_intersections() {
        assert_eq!(
            shape("{ \"kind\": \"NotFound\", id: number, } | { \"kind\": \"Empty\" }").to_js(),
            "[\"union\", [\"struct\", [\"kind\", [\"oneOf\", \"NotFound\"], 0], [\"id\", \"number\", 0]], \
             [\"struct\", [\"kind\", [\"oneOf\", \"Empty\"], 0]]]"
        );
        assert_eq!(
            shape("{ \"t\": \"A\" } & Todo"),
            Shape::All(vec![
                Shape::Struct(vec![(
                    "t".into(),
                    Shape::OneOf(vec!["\"A\"".into()]),
                    false
                )]),
                todo()
            ])
        );
        assert_eq!(
            shape("{ note?: string | null, \"two words\": boolean }"),
            Shape::Struct(vec![
                (
                    "note".into(),
                    Shape::Union(vec![Shape::String, Shape::Null]),
                    true
                ),
                ("two words".into(), Shape::Boolean, false),
            ])
        );
        // What is not understood is checked only as an object.
        assert_eq!(shape("{ (x: number): string }"), Shape::Object);
        assert_eq!(shape("{}"), Shape::Struct(Vec::new()));
    }

    #[test]
    fn primitives_and_literals() {
        assert_eq!(shape("string"), Shape::String);
        assert_eq!(shape("number"), Shape::Number);
        assert_eq!(shape("boolean"), Shape::Boolean);
        assert_eq!(shape("Uint8Array"), Shape::Bytes);
        assert_eq!(shape("Date"), Shape::Date);
        assert!(shape("Array<Date | null>").needs_reading());
        assert!(shape("{ n: bigint, }").needs_reading());
        assert!(!shape("Todo").needs_reading());
        assert_eq!(shape("null"), Shape::Null);
        assert_eq!(shape("\"a\""), Shape::OneOf(vec!["\"a\"".into()]));
        assert_eq!(shape("bigint"), Shape::BigInt);
    }

    #[test]
    fn described_integers_keep_their_range_anywhere() {
        assert_eq!(shape("number /* u8 */"), Shape::Int(0, 255));
        assert_eq!(
            shape("{ n: number /* i16 */, all: Array<number /* u32 */>, }"),
            Shape::Struct(vec![
                ("n".into(), Shape::Int(-32768, 32767), false),
                (
                    "all".into(),
                    Shape::Array(Box::new(Shape::Int(0, 4_294_967_295))),
                    false
                ),
            ])
        );
        assert_eq!(
            shape("number /* i8 */ | null"),
            Shape::Union(vec![Shape::Int(-128, 127), Shape::Null])
        );
        // Any other comment is only a comment.
        assert_eq!(
            shape("{ n: number /* u64 */ }"),
            Shape::Struct(vec![("n".into(), Shape::Number, false)])
        );
    }

    #[test]
    fn containers() {
        assert_eq!(
            shape("Array<string>"),
            Shape::Array(Box::new(Shape::String))
        );
        assert_eq!(shape("number[]"), Shape::Array(Box::new(Shape::Number)));
        assert_eq!(
            shape("[number, string]"),
            Shape::Tuple(vec![Shape::Number, Shape::String])
        );
        assert_eq!(
            shape("{ [key in string]?: number }"),
            Shape::Map(Box::new(Shape::String), Box::new(Shape::Number))
        );
        // A numeric key stays numeric: checked as the digits of a number, sent as a number.
        assert_eq!(
            shape("{ [key in number]?: string }"),
            Shape::Map(Box::new(Shape::Number), Box::new(Shape::String))
        );
        assert_eq!(shape("Record<string, number>"), Shape::Object);
        assert_eq!(
            shape("Array<Todo> | null"),
            Shape::Union(vec![Shape::Array(Box::new(todo())), Shape::Null])
        );
    }

    #[test]
    fn named_types_resolve_and_recursion_stops() {
        assert_eq!(shape("Todo"), todo());
        // Generic parameters are not substituted: their uses are not checked.
        assert_eq!(
            shape("Page<Todo>"),
            Shape::Struct(vec![(
                "items".into(),
                Shape::Array(Box::new(Shape::Any)),
                false
            )])
        );
        assert_eq!(
            shape("Color"),
            Shape::OneOf(vec!["\"Red\"".into(), "\"Green\"".into()])
        );
        assert_eq!(shape("Loop"), Shape::Any);
        assert_eq!(shape("Unknown"), Shape::Any);
        assert_eq!(shape("string | Unknown"), Shape::Any);
    }

    #[test]
    fn integers_come_from_the_rust_type() {
        let types = BTreeMap::new();
        assert_eq!(
            of(&TypeRef::new("u32", "number"), &types),
            Shape::Int(0, 4_294_967_295)
        );
        assert_eq!(of(&TypeRef::new("f64", "number"), &types), Shape::Number);
        assert_eq!(
            of(&TypeRef::new("i8", "number"), &types).to_js(),
            "[\"int\", -128, 127]"
        );
    }

    #[test]
    fn streams_and_ports() {
        assert_eq!(
            shape("IpcStream<Todo, never>"),
            Shape::Stream(Box::new(todo()))
        );
        assert_eq!(
            shape("IpcStream<string>"),
            Shape::Stream(Box::new(Shape::String))
        );
        assert_eq!(
            shape("IpcPort<string, Array<number>>").to_js(),
            "[\"port\", \"string\", [\"array\", \"number\"]]"
        );
        assert_eq!(
            shape("IpcHandle<\"notebook\"> | null").to_js(),
            "[\"union\", [\"handle\", \"notebook\"], \"null\"]"
        );
        assert_eq!(shape("IpcHandle<notebook>"), Shape::Any);
        assert_eq!(
            shape("IpcStream<number, TodoError> | null").to_js(),
            "[\"union\", [\"stream\", \"number\"], \"null\"]"
        );
    }

    #[test]
    fn js_literals() {
        assert_eq!(
            Shape::Union(vec![Shape::Array(Box::new(Shape::String)), Shape::Null]).to_js(),
            "[\"union\", [\"array\", \"string\"], \"null\"]"
        );
    }
}
