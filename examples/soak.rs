//! A soak run: one main, a crowd of renderer processes working it hard, some killed at random
//! and replaced, for as long as you like. It reports throughput, losses and main's memory over
//! time, and fails if anything was lost.
//!
//! ```text
//! cargo run --release -p ipc-tests --example soak -- --seconds 60 --renderers 100
//! scripts/soak.sh            # the same, with the defaults
//! ```
//!
//! Each renderer process keeps `--in-flight` calls going at once (`echo` of a small sample,
//! checked), sends a `count` after every call, and follows the `tick` events main emits to
//! everyone every millisecond: each tick must be the one after the last, or a lag notice must
//! account for the gap (nothing may be missed silently). A renderer that sees a failed call, a
//! wrong answer or an unexplained gap reports a loss and exits. Every second main kills one
//! renderer at random (SIGKILL, mid-call) and starts another; every other renderer must not
//! notice.
//!
//! Options: `--seconds N` (default 60), `--renderers N` (default 100), `--in-flight N` (default
//! 64), `--kill-every-ms N` (default 1000, 0 for none).

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use ipc_runtime::{Caller, EventError, IpcError, Main, Renderer, RendererOptions, Target};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// A small record, echoed.
#[ipc_runtime::data]
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Sample {
    /// Some text.
    pub text: String,
    /// Some numbers.
    pub items: Vec<u32>,
}

/// What the soak exercises: calls, sends and events.
#[ipc_runtime::channels(namespace = "soak")]
pub trait Soak {
    /// Returns its argument.
    async fn echo(&self, sample: Sample) -> Sample;
    /// Counted by main.
    #[send]
    fn count(&self, n: u32);
    /// Emitted to everyone every millisecond, numbered from 1.
    #[event]
    fn tick(&self, value: u32);
}

struct SoakBackend {
    sends: Arc<AtomicU64>,
}

impl SoakHandler for SoakBackend {
    async fn echo(&self, _caller: &Caller, sample: Sample) -> Sample {
        sample
    }

    async fn count(&self, _caller: &Caller, _n: u32) {
        self.sends.fetch_add(1, Ordering::Relaxed);
    }
}

#[derive(Clone, Copy)]
struct Options {
    seconds: u64,
    renderers: usize,
    in_flight: usize,
    kill_every: Option<Duration>,
}

fn parse_options(args: &[String]) -> Result<Options, String> {
    let mut options = Options {
        seconds: 60,
        renderers: 100,
        in_flight: 64,
        kill_every: Some(Duration::from_secs(1)),
    };
    let mut args = args.iter();
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .ok_or(format!("{flag} needs a value"))?
            .parse::<u64>()
            .map_err(|e| format!("{flag}: {e}"))?;
        match flag.as_str() {
            "--seconds" => options.seconds = value,
            "--renderers" => options.renderers = value as usize,
            "--in-flight" => options.in_flight = value.max(1) as usize,
            "--kill-every-ms" => {
                options.kill_every = (value > 0).then(|| Duration::from_millis(value))
            }
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok(options)
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outcome = match args.first().map(String::as_str) {
        Some("--renderer") => match (args.get(1), args.get(2)) {
            (Some(path), Some(in_flight)) => {
                renderer(Path::new(path), in_flight.parse().unwrap_or(64)).await
            }
            _ => Err("usage: soak --renderer <socket> <in flight>".into()),
        },
        _ => match parse_options(&args) {
            Ok(options) => soak(options).await,
            Err(error) => Err(error),
        },
    };
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("soak: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Main's side

/// What the renderer processes reported, summed.
#[derive(Default)]
struct Totals {
    calls: AtomicU64,
    events: AtomicU64,
    lagged: AtomicU64,
    losses: AtomicU64,
}

struct Crowd {
    children: HashMap<u64, Child>,
    next: u64,
    exe: PathBuf,
    socket: PathBuf,
    in_flight: usize,
    totals: Arc<Totals>,
}

impl Crowd {
    fn start_one(&mut self) -> Result<(), String> {
        let mut child = Command::new(&self.exe)
            .arg("--renderer")
            .arg(&self.socket)
            .arg(self.in_flight.to_string())
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("cannot start a renderer: {e}"))?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let totals = self.totals.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let mut words = line.split_whitespace();
                match (
                    words.next(),
                    words.next().and_then(|n| n.parse::<u64>().ok()),
                ) {
                    (Some("calls"), Some(n)) => totals.calls.fetch_add(n, Ordering::Relaxed),
                    (Some("events"), Some(n)) => totals.events.fetch_add(n, Ordering::Relaxed),
                    (Some("lagged"), Some(n)) => totals.lagged.fetch_add(n, Ordering::Relaxed),
                    (Some("LOSS"), _) => {
                        eprintln!("soak: renderer reported: {line}");
                        totals.losses.fetch_add(1, Ordering::Relaxed)
                    }
                    _ => 0,
                };
            }
        });
        self.children.insert(self.next, child);
        self.next += 1;
        Ok(())
    }

    /// Kills one renderer at random (without warning, mid-call) and starts another.
    async fn replace_one(&mut self, seed: u64) -> Result<(), String> {
        let keys: Vec<u64> = self.children.keys().copied().collect();
        if let Some(&key) = keys.get((seed as usize) % keys.len().max(1)) {
            if let Some(mut child) = self.children.remove(&key) {
                let _ = child.kill().await;
            }
        }
        self.start_one()
    }

    /// Renderers that exited on their own: each is a loss (they only exit when something failed).
    fn reap(&mut self) -> u64 {
        let mut exited = Vec::new();
        for (key, child) in &mut self.children {
            if let Ok(Some(status)) = child.try_wait() {
                eprintln!("soak: renderer {key} exited on its own ({status})");
                exited.push(*key);
            }
        }
        for key in &exited {
            self.children.remove(key);
        }
        exited.len() as u64
    }
}

/// Main's resident memory in KiB, from `/proc/self/status`.
fn resident_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmRSS:"))
                .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        })
        .unwrap_or(0)
}

async fn soak(options: Options) -> Result<(), String> {
    let main = Main::new();
    let sends = Arc::new(AtomicU64::new(0));
    let backend = SoakBackend {
        sends: sends.clone(),
    };
    let _ = Soak::handle(&main, backend).map_err(|e| e.to_string())?;
    let dir = std::env::temp_dir().join(format!("ipc-soak-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let socket = dir.join("main.sock");
    let _ = std::fs::remove_file(&socket);
    let _listener = main.listen_unix(&socket).map_err(|e| e.to_string())?;

    // A tick to everyone every millisecond, numbered from 1.
    let ticker = tokio::spawn({
        let main = main.clone();
        async move {
            let events = Soak::events(&main);
            let mut interval = tokio::time::interval(Duration::from_millis(1));
            for value in 1u32.. {
                interval.tick().await;
                events.tick(Target::All, value);
            }
        }
    });

    let totals = Arc::new(Totals::default());
    let mut crowd = Crowd {
        children: HashMap::new(),
        next: 0,
        exe: std::env::current_exe().map_err(|e| e.to_string())?,
        socket,
        in_flight: options.in_flight,
        totals: totals.clone(),
    };
    for _ in 0..options.renderers {
        crowd.start_one()?;
    }
    println!(
        "soak: {} renderer processes x {} calls in flight, a tick event every ms, {} for {} s",
        options.renderers,
        options.in_flight,
        match options.kill_every {
            Some(every) => format!("one renderer killed every {every:?}"),
            None => "no kills".into(),
        },
        options.seconds
    );
    println!(
        "{:>6} {:>10} {:>12} {:>10} {:>10} {:>10} {:>8} {:>8} {:>10}",
        "time",
        "renderers",
        "calls/s",
        "sends/s",
        "events/s",
        "lagged",
        "killed",
        "losses",
        "main RSS"
    );

    let started = Instant::now();
    let end = started + Duration::from_secs(options.seconds);
    let mut next_kill = options.kill_every.map(|every| started + every);
    let mut next_report = started + Duration::from_secs(5);
    let mut last = (started, 0u64, 0u64, 0u64);
    let mut killed = 0u64;
    let mut exited = 0u64;
    let mut rss = Vec::new();
    let mut seed = u64::from(std::process::id());
    while Instant::now() < end {
        tokio::time::sleep(Duration::from_millis(50)).await;
        exited += crowd.reap();
        while crowd.children.len() < options.renderers {
            crowd.start_one()?;
        }
        if let (Some(at), Some(every)) = (next_kill, options.kill_every) {
            if Instant::now() >= at {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                crowd.replace_one(seed >> 33).await?;
                killed += 1;
                next_kill = Some(at + every);
            }
        }
        if Instant::now() >= next_report {
            let now = Instant::now();
            let calls = totals.calls.load(Ordering::Relaxed);
            let events = totals.events.load(Ordering::Relaxed);
            let sent = sends.load(Ordering::Relaxed);
            let seconds = now.duration_since(last.0).as_secs_f64();
            let kib = resident_kib();
            rss.push(kib);
            println!(
                "{:>5.0}s {:>10} {:>12.0} {:>10.0} {:>10.0} {:>10} {:>8} {:>8} {:>6} MiB",
                now.duration_since(started).as_secs_f64(),
                main.renderer_count(),
                (calls - last.1) as f64 / seconds,
                (sent - last.3) as f64 / seconds,
                (events - last.2) as f64 / seconds,
                totals.lagged.load(Ordering::Relaxed),
                killed,
                totals.losses.load(Ordering::Relaxed) + exited,
                kib / 1024,
            );
            let _ = std::io::stdout().flush();
            last = (now, calls, events, sent);
            next_report += Duration::from_secs(5);
        }
    }
    ticker.abort();
    drop(crowd);
    let elapsed = started.elapsed().as_secs_f64();
    let calls = totals.calls.load(Ordering::Relaxed);
    let losses = totals.losses.load(Ordering::Relaxed) + exited;
    println!(
        "soak: {calls} calls in {elapsed:.0} s ({:.0} calls/s), {} sends, {} events, {} lagged \
         (each accounted for by a lag notice), {killed} renderers killed, {losses} losses; main \
         RSS {} to {} MiB",
        calls as f64 / elapsed,
        sends.load(Ordering::Relaxed),
        totals.events.load(Ordering::Relaxed),
        totals.lagged.load(Ordering::Relaxed),
        rss.iter().min().copied().unwrap_or(0) / 1024,
        rss.iter().max().copied().unwrap_or(0) / 1024,
    );
    if losses > 0 {
        return Err(format!("{losses} losses"));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// A renderer process

/// Reports a loss on stdout (main counts it) and fails.
fn loss(what: String) -> String {
    println!("LOSS {what}");
    what
}

async fn renderer(socket: &Path, in_flight: usize) -> Result<(), String> {
    let options = RendererOptions::new("soak").contract(Soak::schema());
    let renderer = Renderer::connect_unix(socket, options)
        .await
        .map_err(|e| loss(format!("cannot connect: {e}")))?;
    let client = Soak::client(&renderer);
    let calls = Arc::new(AtomicU64::new(0));
    let events = Arc::new(AtomicU64::new(0));
    let lagged = Arc::new(AtomicU64::new(0));

    // Ticks: each is the one after the last, or a lag notice counts the ones in between.
    let mut ticks = client.on_tick();
    let follower = tokio::spawn({
        let (events, lagged) = (events.clone(), lagged.clone());
        async move {
            let mut last: Option<u32> = None;
            let mut missed = 0u64;
            while let Some(item) = ticks.next().await {
                match item {
                    Ok(value) => {
                        if let Some(last) = last {
                            let expected = u64::from(last) + 1 + missed;
                            if u64::from(value) != expected {
                                return Err(loss(format!(
                                    "tick {value} after {last} with {missed} missed: expected \
                                     {expected}"
                                )));
                            }
                        }
                        last = Some(value);
                        missed = 0;
                        events.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(EventError::Lagged { missed: n }) => {
                        missed += n;
                        lagged.fetch_add(n, Ordering::Relaxed);
                    }
                    Err(error) => return Err(loss(format!("tick stream: {error}"))),
                }
            }
            Ok(())
        }
    });

    // Callers: `echo` checked, then a `mark_send`.
    let mut workers = Vec::new();
    for worker in 0..in_flight {
        let client = client.clone();
        let calls = calls.clone();
        workers.push(tokio::spawn(async move {
            let sample = Sample {
                text: format!("worker {worker}"),
                items: vec![worker as u32; 4],
            };
            for n in 0u32.. {
                match client.echo(sample.clone()).await {
                    Ok(answer) if answer == sample => {}
                    Ok(answer) => return Err(loss(format!("wrong echo {answer:?}"))),
                    Err(error) => return Err(loss(format!("echo failed: {error}"))),
                }
                calls.fetch_add(1, Ordering::Relaxed);
                match client.count(n) {
                    Ok(()) | Err(IpcError::TooManyInFlight { .. }) => {}
                    Err(error) => return Err(loss(format!("send failed: {error}"))),
                }
            }
            Ok(())
        }));
    }

    // Report every second (deltas); stop at the first failure.
    let mut reported = (0, 0, 0);
    let mut every = tokio::time::interval(Duration::from_secs(1));
    loop {
        every.tick().await;
        let now = (
            calls.load(Ordering::Relaxed),
            events.load(Ordering::Relaxed),
            lagged.load(Ordering::Relaxed),
        );
        println!(
            "calls {}\nevents {}\nlagged {}",
            now.0 - reported.0,
            now.1 - reported.1,
            now.2 - reported.2
        );
        reported = now;
        if follower.is_finished() || workers.iter().any(|w| w.is_finished()) {
            return Err("a worker stopped".into());
        }
    }
}
