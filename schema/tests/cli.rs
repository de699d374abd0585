//! The `ipc-bindgen` command line: writes the bindings from schema JSON, `--check` fails (and
//! lists the files) when they are stale, and bad input is refused with exit status 2.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bindgen(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ipc-bindgen"))
        .args(args)
        .output()
        .expect("ipc-bindgen runs")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn golden(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("golden")
        .join(name)
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ipc-bindgen-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn writes_the_golden_files_and_checks_them() {
    let out = temp_dir("write");
    let schema = golden("todos").join("schema.json");
    let (schema, out_arg) = (schema.to_str().unwrap(), out.to_str().unwrap());

    let check = bindgen(&["--schema", schema, "--out", out_arg, "--check"]);
    assert_eq!(check.status.code(), Some(1), "{}", text(&check));
    assert!(
        text(&check).contains("preload.js (missing)"),
        "{}",
        text(&check)
    );

    let write = bindgen(&["--schema", schema, "--out", out_arg]);
    assert!(write.status.success(), "{}", text(&write));
    for file in [
        "preload.js",
        "todos.d.ts",
        "bridge.js",
        "client.mjs",
        "client.d.mts",
    ] {
        assert_eq!(
            std::fs::read_to_string(out.join(file)).unwrap(),
            std::fs::read_to_string(golden("todos").join(file)).unwrap(),
            "{file}"
        );
    }
    let check = bindgen(&["--schema", schema, "--out", out_arg, "--check"]);
    assert!(check.status.success(), "{}", text(&check));

    std::fs::write(out.join("todos.d.ts"), "stale").unwrap();
    let check = bindgen(&["--schema", schema, "--out", out_arg, "--check"]);
    assert_eq!(check.status.code(), Some(1));
    let message = text(&check);
    assert!(message.contains("todos.d.ts (differs)"), "{message}");
    assert!(!message.contains("preload.js"), "{message}");
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn several_schemas_key_and_isolation() {
    let out = temp_dir("several");
    // The app golden schema is an array of two services; give it as two files.
    let json = std::fs::read_to_string(golden("app").join("schema.json")).unwrap();
    let services: Vec<serde_json::Value> = serde_json::from_str(&json).unwrap();
    std::fs::create_dir_all(&out).unwrap();
    let mut args = Vec::new();
    for (n, service) in services.iter().enumerate() {
        let path = out.join(format!("schema-{n}.json"));
        std::fs::write(&path, serde_json::to_string(service).unwrap()).unwrap();
        args.push("--schema".to_string());
        args.push(path.to_str().unwrap().to_string());
    }
    let generated = out.join("generated");
    args.extend(
        [
            "--out",
            generated.to_str().unwrap(),
            "--key=app",
            "--isolation",
            "isolated",
        ]
        .map(String::from),
    );
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let write = bindgen(&args);
    assert!(write.status.success(), "{}", text(&write));
    for file in ["preload.js", "app.d.ts", "bridge.js", "client.mjs"] {
        assert_eq!(
            std::fs::read_to_string(generated.join(file)).unwrap(),
            std::fs::read_to_string(golden("app").join(file)).unwrap(),
            "{file}"
        );
    }
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn bad_input_exits_with_status_2() {
    let out = temp_dir("bad");
    std::fs::create_dir_all(&out).unwrap();
    let out_arg = out.to_str().unwrap();

    let usage = bindgen(&["--out", out_arg]);
    assert_eq!(usage.status.code(), Some(2));
    assert!(text(&usage).contains("give at least one --schema"));

    let unknown = bindgen(&["--frobnicate"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(text(&unknown).contains("unknown argument `--frobnicate`"));

    let schema = golden("todos").join("schema.json");
    let mode = bindgen(&[
        "--schema",
        schema.to_str().unwrap(),
        "--out",
        out_arg,
        "--isolation",
        "sometimes",
    ]);
    assert_eq!(mode.status.code(), Some(2));
    assert!(text(&mode).contains("unknown isolation mode `sometimes`"));

    let missing = bindgen(&["--schema", "/nonexistent/schema.json", "--out", out_arg]);
    assert_eq!(missing.status.code(), Some(2));

    let big = out.join("big.json");
    let service = ipc_schema::Service::builder("Big", "big")
        .method(
            ipc_schema::Method::new("count", "big:count", ipc_schema::MethodKind::Invoke)
                .param_raw("n", "u64", "bigint")
                .output_raw("u32", "number"),
        )
        .build();
    std::fs::write(&big, service.to_json()).unwrap();
    let refused = bindgen(&["--schema", big.to_str().unwrap(), "--out", out_arg]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        text(&refused).contains("carries 64-bit integers"),
        "{}",
        text(&refused)
    );
    assert!(!out.join("preload.js").exists());

    let help = bindgen(&["--help"]);
    assert!(help.status.success());
    assert!(text(&help).starts_with("usage: ipc-bindgen"));
    std::fs::remove_dir_all(&out).unwrap();
}
