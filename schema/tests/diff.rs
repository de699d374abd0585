//! Contract evolution (`ipc_schema::diff` and `ipc-bindgen diff`): a table of pairs of contract
//! versions, one kind of change each, with the verdict each must get; the command's exit status.

use std::process::Command;

use ipc_schema::diff::{Verdict, diff};
use ipc_schema::{LargeInts, Method, MethodKind, Rule, Service, TypeDecl};

use MethodKind::{Event, Invoke, Request, Send};
use Verdict::{Breaking, Compatible};

fn service(methods: Vec<Method>) -> Service {
    let mut builder = Service::builder("Todos", "todos");
    for method in methods {
        builder = builder.method(method);
    }
    builder.build()
}

fn method(name: &str, kind: MethodKind) -> Method {
    Method::new(name, format!("todos:{name}"), kind)
}

fn decl(name: &str, declaration: &str) -> TypeDecl {
    TypeDecl::new(name, declaration, None)
}

/// `add(todo: Todo) -> u32` with `Todo` as given.
fn takes_todo(declaration: &str) -> Service {
    service(vec![
        method("add", Invoke)
            .param_raw("todo", "Todo", "Todo")
            .output_raw("u32", "number")
            .with_decls([decl("Todo", declaration)]),
    ])
}

/// `get() -> Todo` with `Todo` as given.
fn gives_todo(declaration: &str) -> Service {
    service(vec![
        method("get", Invoke)
            .output_raw("Todo", "Todo")
            .with_decls([decl("Todo", declaration)]),
    ])
}

fn theme_param(ts: &str) -> Service {
    service(vec![
        method("set_theme", Invoke)
            .param_raw("theme", "Theme", "Theme")
            .with_decls([decl("Theme", &format!("type Theme = {ts};"))]),
    ])
}

fn theme_result(ts: &str) -> Service {
    service(vec![
        method("theme", Invoke)
            .output_raw("Theme", "Theme")
            .with_decls([decl("Theme", &format!("type Theme = {ts};"))]),
    ])
}

fn with_namespace(namespace: &str) -> Service {
    Service::builder("Todos", namespace)
        .method(Method::new("list", format!("{namespace}:list"), Invoke))
        .build()
}

fn with_capability(param_ts: &str, rust: &str) -> Service {
    let file = Service::builder("File", "file")
        .method(
            Method::new("read", "file:read", Invoke)
                .param_raw("len", rust, param_ts)
                .output_raw("Vec<u8>", "Uint8Array"),
        )
        .build();
    let mut service = service(vec![
        method("open", Invoke).output_raw("Handle<File>", "IpcHandle<\"file\">"),
    ]);
    service.capabilities = vec![file];
    service
}

struct Case {
    kind: &'static str,
    old: Service,
    new: Service,
    verdict: Verdict,
    /// A phrase of the change that decides the verdict.
    says: &'static str,
}

fn cases() -> Vec<Case> {
    let list = || method("list", Invoke).output_raw("Vec<String>", "Array<string>");
    let add = |ts: &str, rust: &str| method("add", Invoke).param_raw("title", rust, ts);
    vec![
        Case {
            kind: "an invoke added",
            old: service(vec![list()]),
            new: service(vec![list(), add("string", "String")]),
            verdict: Compatible,
            says: "invoke added",
        },
        Case {
            kind: "an invoke removed",
            old: service(vec![list(), add("string", "String")]),
            new: service(vec![list()]),
            verdict: Breaking,
            says: "invoke removed",
        },
        Case {
            kind: "a send removed",
            old: service(vec![method("log", Send).param_raw("line", "String", "string")]),
            new: service(vec![]),
            verdict: Breaking,
            says: "send removed",
        },
        Case {
            kind: "an event removed",
            old: service(vec![method("changed", Event).param_raw("id", "u32", "number")]),
            new: service(vec![]),
            verdict: Compatible,
            says: "event removed",
        },
        Case {
            kind: "an event added",
            old: service(vec![]),
            new: service(vec![method("changed", Event).param_raw("id", "u32", "number")]),
            verdict: Compatible,
            says: "event added",
        },
        Case {
            kind: "a request added",
            old: service(vec![]),
            new: service(vec![
                method("confirm", Request)
                    .param_raw("question", "String", "string")
                    .output_raw("bool", "boolean"),
            ]),
            verdict: Breaking,
            says: "request added",
        },
        Case {
            kind: "a parameter's type changed",
            old: service(vec![add("string", "String")]),
            new: service(vec![add("number", "f64")]),
            verdict: Breaking,
            says: "type changed",
        },
        Case {
            kind: "a parameter added",
            old: service(vec![add("string", "String")]),
            new: service(vec![add("string", "String").param_raw("done", "bool", "boolean")]),
            verdict: Breaking,
            says: "2 arguments instead of 1",
        },
        Case {
            kind: "a parameter renamed",
            old: service(vec![add("string", "String")]),
            new: service(vec![method("add", Invoke).param_raw("name", "String", "string")]),
            verdict: Compatible,
            says: "travel by position",
        },
        Case {
            kind: "a result's type changed",
            old: service(vec![list()]),
            new: service(vec![method("list", Invoke).output_raw("u32", "number")]),
            verdict: Breaking,
            says: "type changed",
        },
        Case {
            kind: "a required field added to an argument's struct",
            old: takes_todo("type Todo = { title: string, };"),
            new: takes_todo("type Todo = { title: string, due: number, };"),
            verdict: Breaking,
            says: "field `due` is required by the newer side",
        },
        Case {
            kind: "an optional field added to an argument's struct",
            old: takes_todo("type Todo = { title: string, };"),
            new: takes_todo("type Todo = { title: string, due?: number, };"),
            verdict: Compatible,
            says: "field `due` is optional",
        },
        Case {
            kind: "an Option field added to an argument's struct",
            old: takes_todo("type Todo = { title: string, };"),
            new: takes_todo("type Todo = { title: string, note: string | null, };"),
            verdict: Compatible,
            says: "field `note` is optional",
        },
        Case {
            kind: "a field added to a result's struct",
            old: gives_todo("type Todo = { title: string, };"),
            new: gives_todo("type Todo = { title: string, done: boolean, };"),
            verdict: Compatible,
            says: "ignored by the older side",
        },
        Case {
            kind: "a field removed from a result's struct",
            old: gives_todo("type Todo = { title: string, done: boolean, };"),
            new: gives_todo("type Todo = { title: string, };"),
            verdict: Breaking,
            says: "field `done` is required by the older side",
        },
        Case {
            kind: "a field's type changed",
            old: gives_todo("type Todo = { title: string, };"),
            new: gives_todo("type Todo = { title: number, };"),
            verdict: Breaking,
            says: "title",
        },
        Case {
            kind: "an enum variant added to a result",
            old: theme_result("\"Light\" | \"Dark\""),
            new: theme_result("\"Light\" | \"Dark\" | \"Auto\""),
            verdict: Breaking,
            says: "\"Auto\", which the older side does not know",
        },
        Case {
            kind: "an enum variant added to an argument",
            old: theme_param("\"Light\" | \"Dark\""),
            new: theme_param("\"Light\" | \"Dark\" | \"Auto\""),
            verdict: Compatible,
            says: "never sends",
        },
        Case {
            kind: "an enum variant removed from an argument",
            old: theme_param("\"Light\" | \"Dark\" | \"Auto\""),
            new: theme_param("\"Light\" | \"Dark\""),
            verdict: Breaking,
            says: "\"Auto\", which the newer side does not know",
        },
        Case {
            kind: "a tagged variant added to an error",
            old: service(vec![
                method("toggle", Invoke)
                    .error_raw("TodoError", "TodoError")
                    .with_decls([decl(
                        "TodoError",
                        "type TodoError = { \"kind\": \"NotFound\", id: number, };",
                    )]),
            ]),
            new: service(vec![
                method("toggle", Invoke)
                    .error_raw("TodoError", "TodoError")
                    .with_decls([decl(
                        "TodoError",
                        "type TodoError = { \"kind\": \"NotFound\", id: number, } | { \"kind\": \"Locked\", };",
                    )]),
            ]),
            verdict: Breaking,
            says: "kind=\"Locked\"",
        },
        Case {
            kind: "an integer widened in an argument",
            old: service(vec![method("pick", Invoke).param_raw("n", "u8", "number")]),
            new: service(vec![method("pick", Invoke).param_raw("n", "u32", "number")]),
            verdict: Compatible,
            says: "fits",
        },
        Case {
            kind: "an integer widened in a result",
            old: service(vec![method("count", Invoke).output_raw("u8", "number")]),
            new: service(vec![method("count", Invoke).output_raw("u32", "number")]),
            verdict: Breaking,
            says: "may send an integer in 0..=4294967295",
        },
        Case {
            kind: "an optional argument made required",
            old: service(vec![method("find", Invoke).param_raw("q", "Option<String>", "string | null")]),
            new: service(vec![method("find", Invoke).param_raw("q", "String", "string")]),
            verdict: Breaking,
            says: "may send null",
        },
        Case {
            kind: "a required argument made optional",
            old: service(vec![method("find", Invoke).param_raw("q", "String", "string")]),
            new: service(vec![method("find", Invoke).param_raw("q", "Option<String>", "string | null")]),
            verdict: Compatible,
            says: "also takes null",
        },
        Case {
            kind: "a method's kind changed",
            old: service(vec![method("log", Send).param_raw("line", "String", "string")]),
            new: service(vec![method("log", Invoke).param_raw("line", "String", "string")]),
            verdict: Breaking,
            says: "kind changed from send to invoke",
        },
        Case {
            kind: "an application error added",
            old: service(vec![list()]),
            new: service(vec![list().error_raw("String", "string")]),
            verdict: Breaking,
            says: "may now fail",
        },
        Case {
            kind: "a policy added",
            old: service(vec![list()]),
            new: service(vec![list().policy(Rule::new().capability("admin"))]),
            verdict: Compatible,
            says: "policy changed",
        },
        Case {
            kind: "a sync deadline changed",
            old: service(vec![method("lookup", MethodKind::Sync).timeout_ms(1000)]),
            new: service(vec![method("lookup", MethodKind::Sync).timeout_ms(2000)]),
            verdict: Compatible,
            says: "1000 ms to 2000 ms",
        },
        Case {
            kind: "the 64-bit integer rule changed",
            old: service(vec![list()]),
            new: {
                let mut new = service(vec![list()]);
                new.large_ints = LargeInts::BigInt;
                new
            },
            verdict: Breaking,
            says: "64-bit integers",
        },
        Case {
            kind: "an event's payload gained a variant",
            old: service(vec![
                method("themed", Event)
                    .param_raw("theme", "Theme", "Theme")
                    .with_decls([decl("Theme", "type Theme = \"Light\" | \"Dark\";")]),
            ]),
            new: service(vec![
                method("themed", Event)
                    .param_raw("theme", "Theme", "Theme")
                    .with_decls([decl("Theme", "type Theme = \"Light\" | \"Dark\" | \"Auto\";")]),
            ]),
            verdict: Breaking,
            says: "which the older side does not know",
        },
        Case {
            kind: "the namespace changed",
            old: with_namespace("todos"),
            new: with_namespace("tasks"),
            verdict: Breaking,
            says: "namespace changed",
        },
        Case {
            kind: "a capability's method changed",
            old: with_capability("number", "u32"),
            new: with_capability("string", "String"),
            verdict: Breaking,
            says: "file:read, argument 1 (len)",
        },
    ]
}

#[test]
fn every_kind_of_change_gets_its_verdict_and_says_why() {
    let cases = cases();
    assert!(cases.len() >= 15);
    let mut wrong = Vec::new();
    for case in &cases {
        let changes = diff(&case.old, &case.new);
        let worst = changes.iter().map(|c| c.verdict).max();
        let said = changes.iter().any(|c| c.to_string().contains(case.says));
        if worst != Some(case.verdict) || !said {
            wrong.push(format!(
                "{}: expected {:?} saying {:?}, got {:?}:\n  {}",
                case.kind,
                case.verdict,
                case.says,
                worst,
                changes
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("\n  ")
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_same_contract_has_no_differences() {
    for case in cases() {
        assert_eq!(diff(&case.new, &case.new), Vec::new(), "{}", case.kind);
    }
}

#[test]
fn the_command_exits_non_zero_on_a_breaking_change() {
    let dir = std::env::temp_dir().join(format!("ipc-diff-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let write = |name: &str, service: &Service| {
        let path = dir.join(name);
        std::fs::write(&path, service.to_json()).unwrap();
        path
    };
    let run = |old: &std::path::Path, new: &std::path::Path| {
        Command::new(env!("CARGO_BIN_EXE_ipc-bindgen"))
            .arg("diff")
            .arg(old)
            .arg(new)
            .output()
            .unwrap()
    };
    let all = cases();
    let compatible = all.iter().find(|c| c.verdict == Compatible).unwrap();
    let breaking = all.iter().find(|c| c.verdict == Breaking).unwrap();
    let out = run(
        &write("old-ok.json", &compatible.old),
        &write("new-ok.json", &compatible.new),
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("0 breaking"));
    let out = run(
        &write("old-bad.json", &breaking.old),
        &write("new-bad.json", &breaking.new),
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("breaking"));
    let out = Command::new(env!("CARGO_BIN_EXE_ipc-bindgen"))
        .args(["diff", "only-one.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let _ = std::fs::remove_dir_all(&dir);
}
