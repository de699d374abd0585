//! A hundred thousand capability handles made and dropped over a real Unix socket leave nothing
//! behind: main's objects and port table, and this process's memory. Alone in its test binary,
//! because it measures the whole process's resident memory, which tests running beside it in
//! the same process would grow.

mod common;

use std::time::Duration;

use common::on_socket::OnSocket;
use common::within;
use ipc_runtime::Main;
use ipc_tests::Conformance;

/// This process's resident memory, in bytes (Linux).
fn resident_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

/// A hundred thousand handles made and dropped (eight callers at a time): main's objects, its
/// port table for the renderer and this process's memory come back to where they started.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_thousand_handles_leave_nothing_behind() {
    const HANDLES: u32 = 100_000;
    const CALLERS: u32 = 8;
    let main = Main::new();
    let served = OnSocket::serve(&main, "capability-churn");
    let state = &served.state;
    let renderer = served.connect("churn").await;
    let client = Conformance::client(&renderer);
    let churn = |count: u32| {
        let tasks: Vec<_> = (0..CALLERS)
            .map(|_| {
                let client = client.clone();
                tokio::spawn(async move {
                    for n in 0..count / CALLERS {
                        let counter = client.counter(1).await.unwrap().client();
                        if n % 1000 == 0 {
                            assert_eq!(counter.add(1).await, Ok(2));
                        }
                    }
                })
            })
            .collect();
        futures_util::future::join_all(tasks)
    };
    let settled = |created: u32| {
        let (state, main, id) = (state.clone(), main.clone(), renderer.id());
        async move {
            while state.counter_stats().live > 0 || main.open_ports(id) != Some(0) {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            assert_eq!(state.counter_stats().created, created);
        }
    };
    // A warm-up, so that buffers and tables have their working size.
    for done in within("the warm-up", churn(2_000)).await {
        done.unwrap();
    }
    within("the warm-up's release", settled(2_000)).await;
    let before = resident_bytes();
    let churned = tokio::time::timeout(Duration::from_secs(600), churn(HANDLES))
        .await
        .expect("the churn ends");
    for done in churned {
        done.unwrap();
    }
    within("every handle's release", settled(2_000 + HANDLES)).await;
    let grown = resident_bytes().saturating_sub(before);
    eprintln!("resident memory after {HANDLES} handles: {grown} bytes more");
    assert!(
        grown < 16 * 1024 * 1024,
        "{grown} bytes more after {HANDLES} handles"
    );
}
