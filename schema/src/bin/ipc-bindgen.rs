//! `ipc-bindgen`: generates the JavaScript/TypeScript bindings of one or more contracts.
//!
//! ```text
//! ipc-bindgen --schema <file.json> [--schema <file.json> ...] --out <dir>
//!             [--key <name>] [--isolation auto|isolated|none] [--check]
//! ipc-bindgen diff <old.json> <new.json>
//! ```
//!
//! `diff` compares two versions of the same contracts (matched by namespace) and prints every
//! difference, compatible or breaking, with the reason (`ipc_schema::diff`); its exit status is 1
//! when any difference is breaking, so that CI can hold a release that would break renderers
//! built from the old contract.
//!
//! Each schema file holds the JSON of one `Service` or an array of them (`Service::to_json`).
//! Without `--check` the files are written into `--out` (unchanged files are left alone); with
//! `--check` nothing is written and the exit status is 1 when any file is missing or differs.
//! Exit status 2 means bad usage or a contract that cannot be generated.

#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;

use ipc_schema::js::{Bindings, Error, Isolation, read_schemas};

const USAGE: &str = "usage: ipc-bindgen --schema <file.json> [--schema <file.json> ...] --out <dir> \
[--key <name>] [--isolation auto|isolated|none] [--check]\n       ipc-bindgen diff <old.json> <new.json>";

struct Args {
    schemas: Vec<PathBuf>,
    out: PathBuf,
    key: Option<String>,
    isolation: Isolation,
    check: bool,
}

fn parse(args: impl Iterator<Item = String>) -> Result<Option<Args>, String> {
    let mut schemas = Vec::new();
    let mut out = None;
    let mut key = None;
    let mut isolation = Isolation::Auto;
    let mut check = false;
    let mut args = args;
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => {
                (flag.to_string(), Some(value.to_string()))
            }
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match flag.as_str() {
            "--schema" => schemas.push(PathBuf::from(value("--schema")?)),
            "--out" => out = Some(PathBuf::from(value("--out")?)),
            "--key" => key = Some(value("--key")?),
            "--isolation" => isolation = value("--isolation")?.parse()?,
            "--check" => check = true,
            "-h" | "--help" => return Ok(None),
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    if schemas.is_empty() {
        return Err("give at least one --schema".into());
    }
    let out = out.ok_or("give --out <dir>")?;
    Ok(Some(Args {
        schemas,
        out,
        key,
        isolation,
        check,
    }))
}

/// The services of a schema file.
fn services_in(path: &std::path::Path) -> Result<Vec<ipc_schema::Service>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    read_schemas(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// `ipc-bindgen diff <old.json> <new.json>`.
fn diff(paths: &[String]) -> ExitCode {
    let [old, new] = paths else {
        eprintln!("ipc-bindgen: diff takes two schema files: the old version and the new\n{USAGE}");
        return ExitCode::from(2);
    };
    let (old, new) = match (services_in(old.as_ref()), services_in(new.as_ref())) {
        (Ok(old), Ok(new)) => (old, new),
        (Err(error), _) | (_, Err(error)) => {
            eprintln!("ipc-bindgen: {error}");
            return ExitCode::from(2);
        }
    };
    let mut changes = Vec::new();
    for old_service in &old {
        match new.iter().find(|s| s.namespace == old_service.namespace) {
            Some(new_service) => changes.extend(ipc_schema::diff::diff(old_service, new_service)),
            None => changes.push(ipc_schema::diff::Change {
                location: format!("contract {}", old_service.namespace),
                what: "removed: older renderers still call its channels".into(),
                verdict: ipc_schema::diff::Verdict::Breaking,
            }),
        }
    }
    for new_service in &new {
        if !old.iter().any(|s| s.namespace == new_service.namespace) {
            changes.push(ipc_schema::diff::Change {
                location: format!("contract {}", new_service.namespace),
                what: "added: older renderers do not use it".into(),
                verdict: ipc_schema::diff::Verdict::Compatible,
            });
        }
    }
    for change in &changes {
        println!("{change}");
    }
    let breaking = changes.iter().filter(|c| c.is_breaking()).count();
    println!(
        "ipc-bindgen: {} difference{}, {breaking} breaking",
        changes.len(),
        if changes.len() == 1 { "" } else { "s" }
    );
    if breaking > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn main() -> ExitCode {
    let all: Vec<String> = std::env::args().skip(1).collect();
    if all.first().map(String::as_str) == Some("diff") {
        return diff(&all[1..]);
    }
    let args = match parse(all.into_iter()) {
        Ok(Some(args)) => args,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("ipc-bindgen: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let mut services = Vec::new();
    for path in &args.schemas {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(error) => {
                eprintln!("ipc-bindgen: {}: {error}", path.display());
                return ExitCode::from(2);
            }
        };
        match read_schemas(&text) {
            Ok(read) => services.extend(read),
            Err(error) => {
                eprintln!("ipc-bindgen: {}: {error}", path.display());
                return ExitCode::from(2);
            }
        }
    }
    let refs: Vec<&ipc_schema::Service> = services.iter().collect();
    let mut bindings = Bindings::new(&refs).isolation(args.isolation);
    if let Some(key) = &args.key {
        bindings = bindings.api_key(key.clone());
    }
    if args.check {
        match bindings.check(&args.out) {
            Ok(()) => {
                println!("ipc-bindgen: {} is up to date", args.out.display());
                ExitCode::SUCCESS
            }
            Err(Error::Stale(stale)) => {
                eprintln!("ipc-bindgen: {stale}");
                ExitCode::from(1)
            }
            Err(error) => {
                eprintln!("ipc-bindgen: {error}");
                ExitCode::from(2)
            }
        }
    } else {
        match bindings.write_to(&args.out) {
            Ok(written) => {
                for path in &written {
                    println!("wrote {}", path.display());
                }
                if written.is_empty() {
                    println!("ipc-bindgen: {} is up to date", args.out.display());
                }
                ExitCode::SUCCESS
            }
            Err(error) => {
                eprintln!("ipc-bindgen: {error}");
                ExitCode::from(2)
            }
        }
    }
}
