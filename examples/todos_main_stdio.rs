//! The `Todos` contract served over this process's stdin/stdout, for the JavaScript bridge tests.
//!
//! The generated Electron bridge (`bridge.js`) spawns this binary and talks to it with the
//! msgpack codec: `cargo run --example todos_main_stdio` waits for one hello on stdin (a bridge, which
//! names the window behind each call, or a plain renderer), serves it until stdin closes, then
//! exits. `--schema` prints the contract as JSON instead (the input of
//! `ipc-bindgen`). Nothing but frames is written to stdout; diagnostics go to stderr.

mod todos;

use std::sync::Arc;
use std::time::Duration;

use ipc_runtime::{Main, Stdio};
use todos::{Backend, Stats, Todos};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        [] => {}
        ["--schema"] => {
            println!("{}", Todos::schema().to_json());
            return Ok(());
        }
        _ => {
            eprintln!("usage: todos_main_stdio [--schema]");
            std::process::exit(2);
        }
    }

    // The `crash` handler panics on purpose; keep stderr to one line per panic.
    std::panic::set_hook(Box::new(|info| {
        eprintln!("todos_main_stdio: handler panicked: {info}")
    }));
    let main = Main::new();
    let stats = Arc::new(Stats::default());
    let backend = Backend::new(Todos::events(&main), stats, false);
    let _registration = Todos::handle(&main, backend)?;
    // The Electron bridge multiplexes its windows over this one connection.
    main.accept_bridge(Stdio::current()).await?;
    // Serve until the peer closes stdin: the connection ends and main forgets the renderer.
    while main.renderer_count() > 0 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}
