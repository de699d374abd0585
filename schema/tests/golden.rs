//! Golden files for every JavaScript/TypeScript generator: the output for fixed contracts is
//! compared byte for byte with the files under `tests/golden/`. After an intended change of the
//! generators, rewrite them with `UPDATE_GOLDEN=1 cargo test -p ipc-schema --test golden` and
//! review the diff.

use std::path::{Path, PathBuf};

use ipc_schema::js::{Bindings, Error, Isolation, StaleReason, read_schemas};
use ipc_schema::{LargeInts, Method, MethodKind, Service, TypeDecl};

/// A mirror of the examples' `Todos` contract, written out so this crate's tests need no macro.
fn todos() -> Service {
    let todo = TypeDecl::new(
        "Todo",
        "type Todo = { \n/**\n * Its id.\n */\nid: number, \n/**\n * What to do.\n */\ntitle: string, \n/**\n * Whether it is done.\n */\ndone: boolean, };",
        Some("/**\n * One item of the todo list.\n */".into()),
    );
    let error_decl = TypeDecl::new(
        "TodoError",
        "type TodoError = { \"kind\": \"NotFound\", \n/**\n * The id that was asked for.\n */\nid: number, };",
        Some("/**\n * Why a todo operation failed.\n */".into()),
    );
    Service::builder("Todos", "todos")
        .docs("Todo list backend.")
        .large_ints(LargeInts::BigInt)
        .method(
            Method::new("add", "todos:add", MethodKind::Invoke)
                .docs("Adds a todo and returns it.")
                .param_raw("title", "String", "string")
                .output_raw("Todo", "Todo")
                .with_decls([todo.clone()]),
        )
        .method(
            Method::new("toggle", "todos:toggle", MethodKind::Invoke)
                .docs("Toggles a todo's `done` flag.")
                .param_raw("id", "u32", "number")
                .output_raw("Todo", "Todo")
                .error_raw("TodoError", "TodoError")
                .with_decls([todo.clone(), error_decl.clone()]),
        )
        .method(
            Method::new("list", "todos:list", MethodKind::Invoke)
                .docs("Lists every todo.")
                .output_raw("Vec<Todo>", "Array<Todo>")
                .with_decls([todo.clone()]),
        )
        .method(
            Method::new("log", "todos:log", MethodKind::Send)
                .docs("Fire-and-forget log line from a renderer.")
                .param_raw("line", "String", "string"),
        )
        .method(
            Method::new("changed", "todos:changed", MethodKind::Event)
                .docs("Pushed to renderers whenever a todo changes.")
                .param_raw("todo", "Todo", "Todo")
                .with_decls([todo.clone()]),
        )
        .method(
            Method::new("watch", "todos:watch", MethodKind::Invoke)
                .docs("Every todo as it is now, then each change as it happens: `limit` todos in all.")
                .param_raw("limit", "u32", "number")
                .output_raw("Stream<Todo>", "IpcStream<Todo, never>")
                .with_decls([todo.clone()]),
        )
        .method(
            Method::new("import", "todos:import", MethodKind::Invoke)
                .docs("Adds a todo for each title of the stream (an upload); returns how many were added.")
                .param_raw("titles", "Stream<String>", "IpcStream<string, never>")
                .output_raw("u32", "number"),
        )
        .method(
            Method::new("chat", "todos:chat", MethodKind::Invoke)
                .docs("Opens a chat with main: main answers each line with the line in upper case.")
                .output_raw("Port<String, String>", "IpcPort<string, string>"),
        )
        .method(
            Method::new("rename_all", "todos:rename_all", MethodKind::Invoke)
                .docs("Renames todos by id (a map from id to title); returns how many were renamed.")
                .param_raw("titles", "BTreeMap<u32,String>", "{ [key in number]: string }")
                .output_raw("u32", "number"),
        )
        .method(
            Method::new("attach", "todos:attach", MethodKind::Invoke)
                .docs("Stores a file on a todo, replacing the one it had; returns the stored size in bytes.")
                .param_raw("id", "u32", "number")
                .param_raw("file", "Bytes", "Uint8Array")
                .output_raw("u32", "number")
                .error_raw("TodoError", "TodoError")
                .with_decls([error_decl.clone()]),
        )
        .method(
            Method::new("attachment", "todos:attachment", MethodKind::Invoke)
                .docs("The file stored on a todo (empty when it has none).")
                .param_raw("id", "u32", "number")
                .output_raw("Bytes", "Uint8Array")
                .error_raw("TodoError", "TodoError")
                .with_decls([error_decl.clone()]),
        )
        .method(
            Method::new("lookup", "todos:lookup", MethodKind::Sync)
                .docs("Finds a todo by id while the caller is blocked.")
                .timeout_ms(1000)
                .param_raw("id", "u32", "number")
                .param_raw("delay_ms", "u32", "number")
                .output_raw("Todo", "Todo")
                .error_raw("TodoError", "TodoError")
                .with_decls([todo.clone(), error_decl]),
        )
        .method(
            Method::new("schedule", "todos:schedule", MethodKind::Invoke)
                .docs("Sets a todo's schedule, replacing the one it had; returns it as stored.")
                .param_raw("id", "u32", "number")
                .param_raw("schedule", "Schedule", "Schedule")
                .output_raw("Schedule", "Schedule")
                .with_decls([TypeDecl::new(
                    "Schedule",
                    "type Schedule = { due: Date, remind_every: number | null, snoozed: Array<Date>, };",
                    Some("/**\n * When a todo is due, and how it reminds.\n */".into()),
                )]),
        )
        .method(
            Method::new("postpone", "todos:postpone", MethodKind::Invoke)
                .docs("`at` moved later by `by` (earlier when `back`): time values in and out of a call.")
                .param_raw("at", "SystemTime", "Date")
                .param_raw("by", "Duration", "number")
                .param_raw("back", "bool", "boolean")
                .output_raw("SystemTime", "Date"),
        )
        .method(
            Method::new("measure", "todos:measure", MethodKind::Invoke)
                .docs("`usage` with `extra` more bytes: 64-bit integers in and out of a call.")
                .param_raw("usage", "Usage", "Usage")
                .param_raw("extra", "u64", "bigint")
                .output_raw("Usage", "Usage")
                .with_decls([TypeDecl::new(
                    "Usage",
                    "type Usage = { bytes: bigint, delta: bigint, history: Array<bigint>, };",
                    None,
                )]),
        )
        .method(
            Method::new("confirm", "todos:confirm", MethodKind::Request)
                .docs("Main asks the renderer a yes/no question (a request: the renderer answers).")
                .param_raw("question", "String", "string")
                .output_raw("bool", "boolean"),
        )
        .method(
            Method::new("introduce", "todos:introduce", MethodKind::Event)
                .docs("Main introduces two renderers to each other: each gets one end of a port pair (sent to\none renderer at a time, `Target::Renderer`) and talks to the other through it.")
                .param_raw("peer", "Port<String, String>", "IpcPort<string, string>"),
        )
        .build()
}

/// A second contract with the shapes the argument checks understand, and awkward names.
fn settings() -> Service {
    let theme = TypeDecl::new("Theme", "type Theme = \"Light\" | \"Dark\";", None);
    Service::builder("Settings", "app_settings")
        .docs("Application settings.\n\nValues are validated by main.")
        .method(
            Method::new("set_theme", "app_settings:set_theme", MethodKind::Invoke)
                .docs("Sets the theme; `*/` in docs is escaped.")
                .param_raw("theme", "Theme", "Theme")
                .param_raw("r#class", "Option<String>", "string | null")
                .param_raw("options", "Vec<i8>", "Array<number>")
                .param_raw("pair", "(u16, bool)", "[number, boolean]")
                .output_raw("()", "null")
                .with_decls([theme]),
        )
        .method(
            Method::new("moved", "app_settings:window.moved", MethodKind::Event)
                .docs("The window moved.")
                .param_raw("x", "i32", "number")
                .param_raw("y", "i32", "number"),
        )
        .build()
}

/// A contract whose parameters hold nested data, where the plain-data checks of the JavaScript
/// bindings reach (tests/js feeds these bindings every kind of value that cannot be sent).
fn notes() -> Service {
    let note = TypeDecl::new(
        "Note",
        "type Note = { title: string, tags: Array<string>, extra: unknown, };",
        Some("/**\n * A note.\n */".into()),
    );
    Service::builder("Notes", "notes")
        .docs("Notes with free-form data.")
        .method(
            Method::new("save", "notes:save", MethodKind::Invoke)
                .docs("Saves a note; returns its id.")
                .param_raw("note", "Note", "Note")
                .output_raw("u32", "number")
                .with_decls([note.clone()]),
        )
        .method(
            Method::new("put", "notes:put", MethodKind::Invoke)
                .docs("Stores any JSON value under a key.")
                .param_raw("key", "String", "string")
                .param_raw("value", "serde_json::Value", "unknown")
                .output_raw("()", "null"),
        )
        .method(
            Method::new("record", "notes:record", MethodKind::Send)
                .docs("Records notes without waiting.")
                .param_raw("notes", "Vec<Note>", "Array<Note>")
                .with_decls([note.clone()]),
        )
        .method(
            Method::new("saved", "notes:saved", MethodKind::Event)
                .docs("A note was saved.")
                .param_raw("note", "Note", "Note")
                .with_decls([note]),
        )
        .method(
            Method::new("mark", "notes:mark", MethodKind::Send)
                .docs("Marks notes: a mark of every serde enum representation, counts by tag.")
                .param_raw("mark", "Mark", "Mark")
                .param_raw("counts", "HashMap<String, u32>", "{ [key in string]?: number }")
                .with_decls([
                    TypeDecl::new(
                        "Mark",
                        "type Mark = { \"kind\": \"Label\", text: string, } | { \"kind\": \"Color\", \"value\": Array<number>, } | { \"Pinned\": { until: number, } } | \"None\";",
                        None,
                    ),
                ]),
        )
        .build()
}

fn golden_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("golden")
        .join(name)
}

/// Compares (or, with `UPDATE_GOLDEN=1`, rewrites) every generated file and the schema JSON.
fn assert_golden(name: &str, services: &[&Service], bindings: &Bindings<'_>) {
    let dir = golden_dir(name);
    let mut files = bindings.generate().expect("bindings generate");
    let schema = if services.len() == 1 {
        services[0].to_json()
    } else {
        let all: Vec<&Service> = services.to_vec();
        serde_json::to_string_pretty(&all).unwrap()
    };
    files.push(ipc_schema::js::GeneratedFile {
        path: "schema.json".into(),
        contents: format!("{schema}\n"),
    });
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(&dir).unwrap();
        for file in &files {
            std::fs::write(dir.join(&file.path), &file.contents).unwrap();
        }
        return;
    }
    let mut stale = Vec::new();
    for file in &files {
        let path = dir.join(&file.path);
        let expected = std::fs::read_to_string(&path).unwrap_or_default();
        if expected != file.contents {
            stale.push(format!(
                "{}{}",
                path.display(),
                first_difference(&expected, &file.contents)
            ));
        }
    }
    assert!(
        stale.is_empty(),
        "generated files differ from the golden files (rerun with UPDATE_GOLDEN=1 if the change \
         is intended):\n{}",
        stale.join("\n")
    );
}

fn first_difference(expected: &str, actual: &str) -> String {
    for (n, (e, a)) in expected.lines().zip(actual.lines()).enumerate() {
        if e != a {
            return format!(":{}\n  golden:    {e}\n  generated: {a}", n + 1);
        }
    }
    format!(
        " ({} vs {} lines)",
        expected.lines().count(),
        actual.lines().count()
    )
}

#[test]
fn one_service() {
    let todos = todos();
    assert_golden("todos", &[&todos], &Bindings::new(&[&todos]));
}

#[test]
fn nested_data() {
    let notes = notes();
    assert_golden("notes", &[&notes], &Bindings::new(&[&notes]));
}

#[test]
fn several_services_under_one_key() {
    let (todos, settings) = (todos(), settings());
    assert_golden(
        "app",
        &[&todos, &settings],
        &Bindings::new(&[&todos, &settings])
            .api_key("app")
            .isolation(Isolation::ContextIsolated),
    );
}

#[test]
fn golden_schemas_read_back() {
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        return; // the files are being rewritten by the other tests
    }
    let json = std::fs::read_to_string(golden_dir("app").join("schema.json")).unwrap();
    assert_eq!(read_schemas(&json).unwrap(), vec![todos(), settings()]);
}

#[test]
fn generation_is_deterministic() {
    let (todos, settings) = (todos(), settings());
    let bindings = Bindings::new(&[&todos, &settings]);
    assert_eq!(bindings.generate().unwrap(), bindings.generate().unwrap());
}

#[test]
fn the_isolation_mode_changes_only_the_preload_setting() {
    let todos = todos();
    let generate = |mode| Bindings::new(&[&todos]).isolation(mode).generate().unwrap();
    let auto = generate(Isolation::Auto);
    for (mode, name) in [
        (Isolation::ContextIsolated, "isolated"),
        (Isolation::NoIsolation, "none"),
    ] {
        let forced = generate(mode);
        for (a, f) in auto.iter().zip(&forced) {
            if a.path != "preload.js" {
                assert_eq!(a, f);
                continue;
            }
            let differing: Vec<(&str, &str)> = a
                .contents
                .lines()
                .zip(f.contents.lines())
                .filter(|(x, y)| x != y)
                .collect();
            assert_eq!(
                differing,
                [
                    (
                        "// Isolation (generated as \"auto\"; \"auto\" reads `process.contextIsolated`):",
                        &*format!(
                            "// Isolation (generated as \"{name}\"; \"auto\" reads `process.contextIsolated`):"
                        )
                    ),
                    (
                        "const ISOLATION = \"auto\";",
                        &*format!("const ISOLATION = \"{name}\";")
                    ),
                ]
            );
        }
    }
}

#[test]
fn contracts_with_64_bit_integers_are_refused() {
    let service = Service::builder("Big", "big")
        .method(
            Method::new("count", "big:count", MethodKind::Invoke)
                .param_raw("n", "u64", "bigint")
                .output_raw("u32", "number"),
        )
        .build();
    match Bindings::new(&[&service]).generate() {
        Err(Error::LargeInts { service, uses }) => {
            assert_eq!(service, "Big");
            assert_eq!(uses, ["big:count: u64"]);
        }
        other => panic!("expected LargeInts, got {other:?}"),
    }
    let error = Bindings::new(&[&service]).generate().unwrap_err();
    assert!(error.to_string().contains("large_ints = \"number\""));

    // Opted in: they are numbers, checked as safe integers.
    let opted = Service::builder("Big", "big")
        .large_ints(LargeInts::Number)
        .method(
            Method::new("count", "big:count", MethodKind::Invoke)
                .param_raw("n", "u64", "number")
                .output_raw("u32", "number"),
        )
        .build();
    let files = Bindings::new(&[&opted]).generate().unwrap();
    assert!(
        files[0]
            .contents
            .contains("[\"n\", [\"int\", 0, 9007199254740991]]")
    );
}

#[test]
fn names_that_would_collide_are_refused() {
    let todos = todos();
    assert!(matches!(
        Bindings::new(&[&todos, &todos]).generate(),
        Err(Error::Conflict { .. })
    ));
    let reserved = Service::builder("R", "r")
        .method(
            Method::new("f", "r:f", MethodKind::Invoke)
                .output_raw("IpcAppError", "IpcAppError")
                .with_decls([TypeDecl::new(
                    "IpcAppError",
                    "type IpcAppError = number;",
                    None,
                )]),
        )
        .build();
    let error = Bindings::new(&[&reserved]).generate().unwrap_err();
    assert!(error.to_string().contains("`IpcAppError`"), "{error}");
    let shadowing = Service::builder("S", "s")
        .method(
            Method::new("f", "s:f", MethodKind::Invoke)
                .output_raw("Date", "Date")
                .with_decls([TypeDecl::new("Date", "type Date = { day: number, };", None)]),
        )
        .build();
    let error = Bindings::new(&[&shadowing]).generate().unwrap_err();
    assert!(
        error.to_string().contains("would hide JavaScript's `Date`"),
        "{error}"
    );
    assert!(matches!(
        Bindings::new(&[&todos]).api_key("my-api").generate(),
        Err(Error::InvalidKey { .. })
    ));
    assert!(matches!(
        Bindings::new(&[]).generate(),
        Err(Error::NoServices)
    ));

    // The framework's own channels (`__ipc:cancel`, `__ipc:lag`) cannot come from a contract,
    // not even a hand-written schema.
    let internal = Service::builder("Internal", "__ipc")
        .method(
            Method::new("cancel", "__ipc:cancel", MethodKind::Send)
                .param_raw("id", "u32", "number"),
        )
        .build();
    let error = Bindings::new(&[&internal]).generate().unwrap_err();
    assert!(error.to_string().contains("reserved"), "{error}");
    let mislabelled = Service::builder("Internal", "internal")
        .method(Method::new("lag", "__ipc:lag", MethodKind::Send).param_raw("id", "u32", "number"))
        .build();
    let error = Bindings::new(&[&mislabelled]).generate().unwrap_err();
    assert!(error.to_string().contains("`__ipc:lag`"), "{error}");
}

#[test]
fn write_then_check_detects_stale_files() {
    let dir = std::env::temp_dir().join(format!("ipc-golden-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let todos = todos();
    let bindings = Bindings::new(&[&todos]);
    assert!(matches!(
        bindings.check(&dir),
        Err(Error::Stale(stale)) if stale.files.len() == 5
            && stale.files.iter().all(|f| f.reason == StaleReason::Missing)
    ));
    assert_eq!(bindings.write_to(&dir).unwrap().len(), 5);
    bindings.check(&dir).unwrap();
    assert!(
        bindings.write_to(&dir).unwrap().is_empty(),
        "unchanged files are not rewritten"
    );

    std::fs::write(dir.join("bridge.js"), "// edited by hand\n").unwrap();
    match bindings.check(&dir) {
        Err(Error::Stale(stale)) => {
            assert_eq!(stale.files.len(), 1);
            assert_eq!(stale.files[0].path, dir.join("bridge.js"));
            assert_eq!(stale.files[0].reason, StaleReason::Different);
        }
        other => panic!("expected Stale, got {other:?}"),
    }
    assert_eq!(
        bindings.write_to(&dir).unwrap(),
        vec![dir.join("bridge.js")]
    );
    bindings.check(&dir).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_schema_with_a_wrong_hash_is_refused() {
    let mut service = todos();
    service.hash = "0123456789abcdef".into();
    let json = serde_json::to_string(&service).unwrap();
    let error = read_schemas(&json).unwrap_err();
    assert!(error.to_string().contains("0123456789abcdef"), "{error}");
    assert!(matches!(
        read_schemas("{\"name\": 1}"),
        Err(Error::Schema { .. })
    ));
}

/// A sync method cannot carry a stream or a port (an alias the macro cannot see through is
/// caught here, from the types' wire forms).
#[test]
fn a_sync_method_with_a_stream_is_refused() {
    let service = Service::builder("Feed", "feed")
        .method(
            Method::new("tail", "feed:tail", MethodKind::Sync)
                .timeout_ms(100)
                .output_raw("Lines", "IpcStream<string, never>"),
        )
        .build();
    match Bindings::new(&[&service]).generate() {
        Err(error @ Error::Unsupported { .. }) => {
            assert!(
                error.to_string().contains("sync method `tail` of `feed`"),
                "{error}"
            );
        }
        other => panic!("expected Unsupported, got {other:?}"),
    }
}

/// A handle to a capability the schema does not include (a hand-written or stale schema) gets
/// no bindings, with the reason, also inside a declared type; with the capability's contract
/// it gets an object type and a method table; a capability method named like a handle's own
/// member is refused.
#[test]
fn capability_handles_need_their_contract_and_get_its_methods() {
    let service = Service::builder("Files", "files")
        .method(
            Method::new("open", "files:open", MethodKind::Invoke)
                .param_raw("path", "String", "string")
                .output_raw("Handle<FileHandle>", "IpcHandle<\"file\">"),
        )
        .build();
    match Bindings::new(&[&service]).generate() {
        Err(error @ Error::Unsupported { .. }) => {
            let message = error.to_string();
            assert!(
                message.contains("method `open` of `files` carries a handle to capability `file`"),
                "{message}"
            );
        }
        other => panic!("expected Unsupported, got {other:?}"),
    }
    let nested = Service::builder("Files", "files")
        .method(
            Method::new("open_all", "files:open_all", MethodKind::Invoke)
                .output_raw("Listing", "Listing")
                .with_decls([
                    TypeDecl::new(
                        "Listing",
                        "type Listing = { entries: Array<Entry>, };",
                        None,
                    ),
                    TypeDecl::new(
                        "Entry",
                        "type Entry = { file: IpcHandle<\"file\">, };",
                        None,
                    ),
                ]),
        )
        .build();
    match Bindings::new(&[&nested]).generate() {
        Err(error @ Error::Unsupported { .. }) => {
            assert!(error.to_string().contains("method `open_all`"), "{error}");
        }
        other => panic!("expected Unsupported, got {other:?}"),
    }

    let file = |method: &str| {
        Service::builder("File", "file")
            .method(
                Method::new(method, format!("file:{method}"), MethodKind::Invoke)
                    .param_raw("len", "u32", "number")
                    .output_raw("Vec<u8>", "Uint8Array"),
            )
            .build()
    };
    let mut with_file = service.clone();
    with_file.capabilities = vec![file("read")];
    let files = Bindings::new(&[&with_file]).generate().expect("bindings");
    let text = |name: &str| {
        files
            .iter()
            .find(|f| f.path.ends_with(name))
            .map(|f| f.contents.clone())
            .unwrap_or_default()
    };
    assert!(text("files.d.ts").contains("export interface FileHandle {"));
    assert!(
        text("files.d.ts")
            .contains("read(len: number, options?: IpcCallOptions): Promise<Uint8Array>;")
    );
    assert!(
        text("files.d.ts")
            .contains("export type IpcHandle<N extends keyof IpcHandles> = IpcHandles[N];")
    );
    assert!(text("preload.js").contains(
        "\"file\": { name: \"File\", methods: [\n    { name: \"read\", wire: \"read\", channel: \"file:read\", params: [[\"len\", [\"int\", 0, 4294967295]]] },"
    ));
    assert!(text("preload.js").contains("returns: [\"handle\", \"file\"]"));

    let mut clashing = service.clone();
    clashing.capabilities = vec![file("release")];
    match Bindings::new(&[&clashing]).generate() {
        Err(error @ Error::Conflict { .. }) => {
            assert!(
                error
                    .to_string()
                    .contains("method `release` of capability `file`"),
                "{error}"
            );
        }
        other => panic!("expected Conflict, got {other:?}"),
    }
}
