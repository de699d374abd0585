//! Naming rules shared by the `#[channels]` macro and the generators: the one place where a wire
//! channel name, a generated Rust or JavaScript name or a default namespace is derived.
//!
//! Both the proc-macro (at compile time) and the JavaScript generators (from the schema) call these
//! functions, so a channel can never be spelled two ways. Nothing here needs the `types` feature:
//! the macro uses this module with the crate's default features off.

use crate::model::MethodKind;

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

/// A method's segment of the channel name: its `#[rename]` when it has one, else its name without
/// `r#`.
///
/// # Examples
///
/// ```
/// use ipc_schema::naming::channel_segment;
/// assert_eq!(channel_segment("r#move", None), "move");
/// assert_eq!(channel_segment("mark_done", Some("done")), "done");
/// ```
pub fn channel_segment<'a>(rust_name: &'a str, rename: Option<&'a str>) -> &'a str {
    rename.unwrap_or_else(|| unraw(rust_name))
}

/// The channel the preload uses to tell the bridge that a call is no longer wanted.
///
/// No contract channel can collide with it: namespaces starting with
/// [`RESERVED_NAMESPACE_PREFIX`] are refused by [`validate_namespace`], which the `#[channels]`
/// macro applies to every namespace (given or derived from the trait's name) and the JavaScript
/// generators to every contract they read.
///
/// # Examples
///
/// ```
/// use ipc_schema::naming::{CANCEL_CHANNEL, validate_namespace};
/// assert_eq!(CANCEL_CHANNEL, "__ipc:cancel");
/// assert!(validate_namespace("__ipc").is_err());
/// ```
pub const CANCEL_CHANNEL: &str = "__ipc:cancel";

/// The channel the bridge uses to tell a window's preload that the Rust main dropped events of
/// one of its channels (`webContents.send(LAG_CHANNEL, channel, missed)`). Reserved like
/// [`CANCEL_CHANNEL`].
///
/// # Examples
///
/// ```
/// assert_eq!(ipc_schema::naming::LAG_CHANNEL, "__ipc:lag");
/// ```
pub const LAG_CHANNEL: &str = "__ipc:lag";

/// The `code` of every framework error (`docs/PROTOCOL.md` §6), as `IpcError::code` writes it
/// and the JavaScript side recognizes it.
///
/// ```
/// assert!(ipc_schema::naming::FRAMEWORK_ERROR_CODES.contains(&"too_many_connections"));
/// ```
pub const FRAMEWORK_ERROR_CODES: &[&str] = &[
    "no_handler",
    "bad_arguments",
    "bad_reply",
    "cancelled",
    "timeout",
    "disconnected",
    "handler_panicked",
    "too_large",
    "too_many_in_flight",
    "too_many_connections",
    "too_many_ports",
    "forbidden",
    "version_mismatch",
    "protocol",
    "encode",
    "revoked",
];

/// Namespaces starting with this are the framework's own ([`CANCEL_CHANNEL`], [`LAG_CHANNEL`]).
pub const RESERVED_NAMESPACE_PREFIX: &str = "__";

/// Checks a contract's namespace: a valid channel segment ([`validate_segment`]) that does not
/// start with [`RESERVED_NAMESPACE_PREFIX`], so that no contract channel can be one of the
/// framework's own.
///
/// # Errors
///
/// Returns a sentence that says what is wrong and what is allowed.
///
/// # Examples
///
/// ```
/// use ipc_schema::naming::validate_namespace;
/// assert!(validate_namespace("todos").is_ok());
/// assert!(validate_namespace("_private").is_ok());
/// assert!(validate_namespace("__ipc").is_err());
/// assert!(validate_namespace("todos:v2").is_err());
/// ```
pub fn validate_namespace(namespace: &str) -> Result<(), String> {
    validate_segment(namespace)?;
    if namespace.starts_with(RESERVED_NAMESPACE_PREFIX) {
        return Err(format!(
            "namespace `{namespace}` starts with `{RESERVED_NAMESPACE_PREFIX}`, which is reserved \
             for the framework's own channels (`{CANCEL_CHANNEL}`, `{LAG_CHANNEL}`)"
        ));
    }
    Ok(())
}

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
    format!("on{}", upper_first(&js_name(rust_name)))
}

/// The JavaScript name of a request's handler registration on the page's API object: `handle` +
/// its name in `PascalCase` (`confirm_quit` gives `handleConfirmQuit`).
///
/// # Examples
///
/// ```
/// assert_eq!(ipc_schema::naming::js_request_name("confirm_quit"), "handleConfirmQuit");
/// ```
pub fn js_request_name(rust_name: &str) -> String {
    format!("handle{}", upper_first(&js_name(rust_name)))
}

/// The JavaScript name of a method on the page's API object: [`js_event_name`] for an event,
/// [`js_request_name`] for a request, [`js_name`] otherwise.
///
/// # Examples
///
/// ```
/// use ipc_schema::MethodKind;
/// use ipc_schema::naming::js_method_name;
/// assert_eq!(js_method_name("mark_done", MethodKind::Invoke), "markDone");
/// assert_eq!(js_method_name("changed", MethodKind::Event), "onChanged");
/// assert_eq!(js_method_name("confirm", MethodKind::Request), "handleConfirm");
/// ```
pub fn js_method_name(rust_name: &str, kind: MethodKind) -> String {
    match kind {
        MethodKind::Event => js_event_name(rust_name),
        MethodKind::Request => js_request_name(rust_name),
        MethodKind::Invoke | MethodKind::Send | MethodKind::Sync => js_name(rust_name),
    }
}

/// The method of the generated Rust client (`TodosClient`): the method's name, or `on_` + its
/// name for an event (the client subscribes to it).
///
/// # Examples
///
/// ```
/// use ipc_schema::MethodKind;
/// use ipc_schema::naming::client_method_name;
/// assert_eq!(client_method_name("r#move", MethodKind::Invoke), "move");
/// assert_eq!(client_method_name("changed", MethodKind::Event), "on_changed");
/// ```
pub fn client_method_name(rust_name: &str, kind: MethodKind) -> String {
    let name = unraw(rust_name);
    match kind {
        MethodKind::Event => format!("on_{name}"),
        // Main calls a request through `{Trait}RendererClient`, under the method's own name.
        MethodKind::Invoke | MethodKind::Send | MethodKind::Request | MethodKind::Sync => {
            name.to_owned()
        }
    }
}

/// The handler trait the macro generates for a contract (`Todos` gives `TodosHandler`).
///
/// # Examples
///
/// ```
/// assert_eq!(ipc_schema::naming::handler_type("Todos"), "TodosHandler");
/// ```
pub fn handler_type(trait_name: &str) -> String {
    format!("{}Handler", unraw(trait_name))
}

/// The renderer-side client type the macro generates for a contract (`TodosClient`).
///
/// # Examples
///
/// ```
/// assert_eq!(ipc_schema::naming::client_type("Todos"), "TodosClient");
/// ```
pub fn client_type(trait_name: &str) -> String {
    format!("{}Client", unraw(trait_name))
}

/// The renderer-side handler trait the macro generates for a contract's requests
/// (`TodosRendererHandler`: the renderer implements it, main calls it).
///
/// # Examples
///
/// ```
/// assert_eq!(ipc_schema::naming::renderer_handler_type("Todos"), "TodosRendererHandler");
/// ```
pub fn renderer_handler_type(trait_name: &str) -> String {
    format!("{}RendererHandler", unraw(trait_name))
}

/// The main-side client of one renderer's request handlers (`TodosRendererClient`).
///
/// # Examples
///
/// ```
/// assert_eq!(ipc_schema::naming::renderer_client_type("Todos"), "TodosRendererClient");
/// ```
pub fn renderer_client_type(trait_name: &str) -> String {
    format!("{}RendererClient", unraw(trait_name))
}

/// The event emitter type the macro generates for a contract (`TodosEvents`).
///
/// # Examples
///
/// ```
/// assert_eq!(ipc_schema::naming::events_type("Todos"), "TodosEvents");
/// ```
pub fn events_type(trait_name: &str) -> String {
    format!("{}Events", unraw(trait_name))
}

/// The JavaScript property of a namespace: `lowerCamelCase`, also across `-` and `.`
/// (`app_settings` and `app-settings` both become `appSettings`).
///
/// # Examples
///
/// ```
/// assert_eq!(ipc_schema::naming::js_property("app-settings.v2"), "appSettingsV2");
/// ```
pub fn js_property(namespace: &str) -> String {
    js_name(&namespace.replace(['-', '.'], "_"))
}

/// `PascalCase` of a `snake_case` or `PascalCase` name (`todo_list` becomes `TodoList`); an
/// empty name gives `Service`, so that derived type names stay valid.
///
/// # Examples
///
/// ```
/// assert_eq!(ipc_schema::naming::pascal_case("todo_list"), "TodoList");
/// assert_eq!(ipc_schema::naming::pascal_case("Todos"), "Todos");
/// ```
pub fn pascal_case(name: &str) -> String {
    match upper_first(&js_name(name)) {
        pascal if pascal.is_empty() => "Service".into(),
        pascal => pascal,
    }
}

/// `text` with its first character in upper case.
fn upper_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The TypeScript interface of a service's API object (`Todos` gives `TodosApi`).
///
/// # Examples
///
/// ```
/// assert_eq!(ipc_schema::naming::ts_api_type("todo_list"), "TodoListApi");
/// ```
pub fn ts_api_type(service_name: &str) -> String {
    format!("{}Api", pascal_case(service_name))
}

/// The TypeScript interface mapping each invoke of a service to what it rejects with (`Todos`
/// gives `TodosErrors`).
///
/// # Examples
///
/// ```
/// assert_eq!(ipc_schema::naming::ts_errors_type("Todos"), "TodosErrors");
/// ```
pub fn ts_errors_type(service_name: &str) -> String {
    format!("{}Errors", pascal_case(service_name))
}

/// The TypeScript interface of a handle to an object of a capability contract (`Notebook`
/// gives `NotebookHandle`): its methods, `release()` and `released`.
///
/// # Examples
///
/// ```
/// assert_eq!(ipc_schema::naming::ts_handle_type("Notebook"), "NotebookHandle");
/// ```
pub fn ts_handle_type(service_name: &str) -> String {
    format!("{}Handle", pascal_case(service_name))
}

/// The TypeScript interface of an object a page serves as a capability (`Notebook` gives
/// `NotebookObject`): the capability's methods, each answering with a value or a promise of it.
///
/// # Examples
///
/// ```
/// assert_eq!(ipc_schema::naming::ts_object_type("Notebook"), "NotebookObject");
/// ```
pub fn ts_object_type(service_name: &str) -> String {
    format!("{}Object", pascal_case(service_name))
}

/// The `window` key (and `.d.ts` file name) of bindings for several services.
pub const DEFAULT_API_KEY: &str = "ipc";

/// The `window` key of bindings for these namespaces when none is given: the [`js_property`] of a
/// single namespace, [`DEFAULT_API_KEY`] otherwise.
///
/// # Examples
///
/// ```
/// use ipc_schema::naming::default_api_key;
/// assert_eq!(default_api_key(&["app_settings"]), "appSettings");
/// assert_eq!(default_api_key(&["todos", "app_settings"]), "ipc");
/// ```
pub fn default_api_key(namespaces: &[&str]) -> String {
    match namespaces {
        [one] => js_property(one),
        _ => DEFAULT_API_KEY.into(),
    }
}

/// Is `name` a plain JavaScript identifier (ASCII)?
///
/// # Examples
///
/// ```
/// use ipc_schema::naming::is_js_identifier;
/// assert!(is_js_identifier("$api_2"));
/// assert!(!is_js_identifier("my-api"));
/// ```
pub fn is_js_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
}

/// The parameter names of one generated JavaScript/TypeScript function, from the parameters'
/// [`js_name`]s: a name that is not an identifier becomes `arg`, and `_` is appended until the
/// name is not a reserved word, not taken by an earlier parameter, and not `options` or
/// `listener` (the generated signatures add those themselves).
///
/// # Examples
///
/// ```
/// let names = ipc_schema::naming::js_param_names(["class", "options", "2d", "arg"]);
/// assert_eq!(names, ["class_", "options_", "arg", "arg_"]);
/// ```
pub fn js_param_names<'a>(js_names: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for js_name in js_names {
        let mut name = if is_js_identifier(js_name) {
            js_name.to_owned()
        } else {
            "arg".to_owned()
        };
        while JS_RESERVED_WORDS.contains(&name.as_str())
            || names.contains(&name)
            || name == "options"
            || name == "listener"
        {
            name.push('_');
        }
        names.push(name);
    }
    names
}

/// JavaScript reserved words (and strict-mode restricted names) that cannot name a parameter.
const JS_RESERVED_WORDS: &[&str] = &[
    "arguments",
    "await",
    "break",
    "case",
    "catch",
    "class",
    "const",
    "continue",
    "debugger",
    "default",
    "delete",
    "do",
    "else",
    "enum",
    "eval",
    "export",
    "extends",
    "false",
    "finally",
    "for",
    "function",
    "if",
    "implements",
    "import",
    "in",
    "instanceof",
    "interface",
    "let",
    "new",
    "null",
    "package",
    "private",
    "protected",
    "public",
    "return",
    "static",
    "super",
    "switch",
    "this",
    "throw",
    "true",
    "try",
    "typeof",
    "var",
    "void",
    "while",
    "with",
    "yield",
];

/// Does the generated TypeScript declare a type of this name itself, so that a contract type
/// must not use it?
///
/// # Examples
///
/// ```
/// assert!(ipc_schema::naming::is_reserved_type_name("IpcCallOptions"));
/// assert!(!ipc_schema::naming::is_reserved_type_name("Todo"));
/// ```
pub fn is_reserved_type_name(name: &str) -> bool {
    RESERVED_TYPE_NAMES.contains(&name)
}

/// Names the generators declare themselves.
const RESERVED_TYPE_NAMES: &[&str] = &[
    "IpcAppError",
    "IpcFrameworkError",
    "IpcErrorCode",
    "IpcCallOptions",
    "IpcSubscribeOptions",
    "IpcDisposer",
    "IpcApi",
    "IpcHandle",
    "IpcHandles",
    "IpcObject",
    "IpcObjects",
    "IpcStream",
    "IpcStreamSource",
    "IpcPort",
    "ConnectOptions",
    "Window",
];

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

/// How an integer of at most 32 bits inside a `#[data]` type is described to TypeScript:
/// `number`, with the Rust type in a comment that the generated checks read for its range (and a
/// reader of the `.d.ts` for its meaning). Unlike other comments, it is part of the contract
/// hash ([`crate::hash`]): the width is part of what crosses.
///
/// # Examples
///
/// ```
/// use ipc_schema::naming::{described_int, int_description};
///
/// assert_eq!(int_description("u32"), "number /* u32 */");
/// assert_eq!(described_int("number /* u32 */"), Some("u32"));
/// assert_eq!(described_int("number"), None);
/// ```
pub fn int_description(int: &str) -> String {
    debug_assert!(DESCRIBED_INTS.contains(&int));
    format!("number /* {int} */")
}

/// The integer type an [`int_description`] names, if `ts` is one.
pub fn described_int(ts: &str) -> Option<&str> {
    let int = ts.trim().strip_prefix("number /* ")?.strip_suffix(" */")?;
    DESCRIBED_INTS.contains(&int).then_some(int)
}

/// The integer types described with their range inside `#[data]` types ([`int_description`]);
/// wider ones follow the contract's `large_ints` rule.
pub const DESCRIBED_INTS: &[&str] = &["u8", "u16", "u32", "i8", "i16", "i32"];

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
    fn namespace_properties() {
        assert_eq!(js_property("todos"), "todos");
        assert_eq!(js_property("app_settings"), "appSettings");
        assert_eq!(js_property("app-settings.v2"), "appSettingsV2");
    }

    #[test]
    fn pascal() {
        assert_eq!(pascal_case("Todos"), "Todos");
        assert_eq!(pascal_case("todo_list"), "TodoList");
        assert_eq!(pascal_case(""), "Service");
        assert_eq!(js_event_name(""), "on");
    }

    #[test]
    fn identifiers() {
        assert!(is_js_identifier("todos"));
        assert!(is_js_identifier("$api_2"));
        assert!(!is_js_identifier("2api"));
        assert!(!is_js_identifier("my-api"));
        assert!(!is_js_identifier(""));
    }

    #[test]
    fn param_names_avoid_reserved_and_generated_names() {
        assert_eq!(
            js_param_names(["listener", "listener_", "await"]),
            ["listener_", "listener__", "await_"]
        );
    }

    #[test]
    fn reserved_namespaces() {
        for reserved in ["__ipc", "__", "__Todos"] {
            let problem = validate_namespace(reserved).unwrap_err();
            assert!(problem.contains("reserved"), "{problem}");
        }
        assert!(validate_namespace("_ipc").is_ok());
        assert!(validate_namespace("a__b").is_ok());
        for channel in [CANCEL_CHANNEL, LAG_CHANNEL] {
            let (namespace, _) = channel.split_once(CHANNEL_SEPARATOR).unwrap();
            assert!(validate_namespace(namespace).is_err(), "{channel}");
        }
    }

    #[test]
    fn segments() {
        assert!(validate_segment("9lives").is_err());
        assert!(validate_segment(&"a".repeat(65)).is_err());
        assert!(validate_segment("a b").is_err());
    }
}
