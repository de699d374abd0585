//! Naming rules shared by the `#[channels]` macro and the generators: the one place where a wire
//! channel name, a JavaScript name or a default namespace is derived.
//!
//! Both the proc-macro (at compile time) and the JavaScript generators (from the schema) call these
//! functions, so a channel can never be spelled two ways.

/// Joins a namespace and a method's channel segment into the wire channel name (`"todos:add"`).
///
/// # Examples
///
/// ```
/// assert_eq!(ipc_schema::naming::channel_name("todos", "add"), "todos:add");
/// ```
pub fn channel_name(namespace: &str, segment: &str) -> String {
    format!("{namespace}{CHANNEL_SEPARATOR}{segment}")
}

/// The separator between namespace and method segment in a channel name.
pub const CHANNEL_SEPARATOR: char = ':';

/// Checks one segment of a channel name (a namespace, or a method's segment).
///
/// A segment is 1 to 64 ASCII characters from `A-Z a-z 0-9 _ - .`, starting with a letter or `_`.
/// The rule keeps channel names safe to embed in JavaScript, file names and log lines.
///
/// # Errors
///
/// Returns a sentence that says what is wrong and what is allowed.
///
/// # Examples
///
/// ```
/// use ipc_schema::naming::validate_segment;
/// assert!(validate_segment("todos").is_ok());
/// assert!(validate_segment("mark-done").is_ok());
/// assert!(validate_segment("a:b").is_err());
/// ```
pub fn validate_segment(segment: &str) -> Result<(), String> {
    if segment.is_empty() {
        return Err("a channel segment must not be empty".into());
    }
    if segment.len() > 64 {
        return Err(format!(
            "channel segment `{segment}` is {} characters long; at most 64 are allowed",
            segment.len()
        ));
    }
    let first = segment.chars().next().unwrap_or('_');
    if !(first.is_ascii_alphabetic() || first == '_') {
        return Err(format!(
            "channel segment `{segment}` must start with an ASCII letter or `_`"
        ));
    }
    if let Some(bad) = segment
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')))
    {
        return Err(format!(
            "channel segment `{segment}` contains `{bad}`; only ASCII letters, digits, `_`, `-` and `.` are allowed"
        ));
    }
    Ok(())
}

/// Removes the `r#` prefix of a raw identifier (`r#type` becomes `type`).
///
/// # Examples
///
/// ```
/// assert_eq!(ipc_schema::naming::unraw("r#type"), "type");
/// assert_eq!(ipc_schema::naming::unraw("add"), "add");
/// ```
pub fn unraw(ident: &str) -> &str {
    ident.strip_prefix("r#").unwrap_or(ident)
}

/// The default namespace of a trait: its name in `snake_case` (`TodoList` becomes `todo_list`).
///
/// # Examples
///
/// ```
/// assert_eq!(ipc_schema::naming::default_namespace("TodoList"), "todo_list");
/// ```
pub fn default_namespace(trait_name: &str) -> String {
    to_snake_case(unraw(trait_name))
}

/// The JavaScript name of a Rust method or parameter: `lowerCamelCase` (`mark_done` becomes
/// `markDone`).
///
/// # Examples
///
/// ```
/// assert_eq!(ipc_schema::naming::js_name("mark_done"), "markDone");
/// assert_eq!(ipc_schema::naming::js_name("r#type"), "type");
/// ```
pub fn js_name(rust_name: &str) -> String {
    let mut out = String::new();
    let mut upper_next = false;
    for c in unraw(rust_name).chars() {
        if c == '_' && out.chars().all(|o| o == '_') {
            out.push('_');
        } else if c == '_' {
            upper_next = true;
        } else if upper_next {
            out.extend(c.to_uppercase());
            upper_next = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// The JavaScript subscription name of an event: `on` + `PascalCase` (`changed` becomes
/// `onChanged`).
///
/// # Examples
///
/// ```
/// assert_eq!(ipc_schema::naming::js_event_name("item_moved"), "onItemMoved");
/// ```
pub fn js_event_name(rust_name: &str) -> String {
    let camel = js_name(rust_name);
    let mut chars = camel.chars();
    match chars.next() {
        Some(first) => format!("on{}{}", first.to_uppercase(), chars.as_str()),
        None => "on".into(),
    }
}

/// The Rust constant name of a method's channel descriptor: `SCREAMING_SNAKE_CASE`.
///
/// # Examples
///
/// ```
/// assert_eq!(ipc_schema::naming::const_name("mark_done"), "MARK_DONE");
/// ```
pub fn const_name(rust_name: &str) -> String {
    unraw(rust_name).to_uppercase()
}

/// Converts `PascalCase` or `camelCase` to `snake_case`.
///
/// # Examples
///
/// ```
/// assert_eq!(ipc_schema::naming::to_snake_case("HTTPServer"), "http_server");
/// ```
pub fn to_snake_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_uppercase() {
            let prev_lower =
                i > 0 && (chars[i - 1].is_lowercase() || chars[i - 1].is_ascii_digit());
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            let prev_upper = i > 0 && chars[i - 1].is_uppercase();
            if i > 0 && (prev_lower || (prev_upper && next_lower)) && !out.ends_with('_') {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Integer types that cannot cross to JavaScript as a JSON number without losing precision.
pub const LARGE_INT_TYPES: &[&str] = &["u64", "i64", "u128", "i128", "usize", "isize"];

/// Is `ident` one of [`LARGE_INT_TYPES`] (or a `NonZero` wrapper of one)?
///
/// # Examples
///
/// ```
/// assert!(ipc_schema::naming::is_large_int("u64"));
/// assert!(!ipc_schema::naming::is_large_int("u32"));
/// ```
pub fn is_large_int(ident: &str) -> bool {
    let base = ident.strip_prefix("NonZero").map(str::to_lowercase);
    let base = base.as_deref().unwrap_or(ident);
    LARGE_INT_TYPES.contains(&base)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_case_handles_acronyms_and_digits() {
        assert_eq!(to_snake_case("Todos"), "todos");
        assert_eq!(to_snake_case("TodoList"), "todo_list");
        assert_eq!(to_snake_case("IPCBridge2Go"), "ipc_bridge2_go");
    }

    #[test]
    fn js_names() {
        assert_eq!(js_name("add"), "add");
        assert_eq!(js_name("_private_thing"), "_privateThing");
        assert_eq!(js_event_name("changed"), "onChanged");
        assert!(is_large_int("NonZeroU64"));
    }

    #[test]
    fn segments() {
        assert!(validate_segment("9lives").is_err());
        assert!(validate_segment(&"a".repeat(65)).is_err());
        assert!(validate_segment("a b").is_err());
    }
}
