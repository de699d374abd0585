//! Inputs that would make a decoder allocate from a length the peer announced, sent to a real
//! main over a real Unix socket, with every allocation of the process counted (this test binary's
//! global allocator): each is answered with a typed error and costs main next to nothing,
//! whatever size it claims. A well-behaved renderer is served throughout, its latency reported.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::raw::*;
use common::{Probe, within};
use ipc_runtime::{Main, Renderer, RendererOptions};

/// Counts the bytes allocated now and the most allocated at once since the last reset.
struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded to the system allocator unchanged; only counters are added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc` is passed on as it is.
        let pointer = unsafe { System.alloc(layout) };
        if !pointer.is_null() {
            let now = CURRENT.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        pointer
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        // SAFETY: as for `alloc`.
        unsafe { System.dealloc(pointer, layout) };
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let moved = unsafe { System.realloc(pointer, layout, new_size) };
        if !moved.is_null() {
            if new_size >= layout.size() {
                let grown = new_size - layout.size();
                let now = CURRENT.fetch_add(grown, Ordering::Relaxed) + grown;
                PEAK.fetch_max(now, Ordering::Relaxed);
            } else {
                CURRENT.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        moved
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The most the process allocated at once while `work` ran, above what it held before.
async fn peak_during<F: std::future::Future>(work: F) -> (F::Output, usize) {
    let before = CURRENT.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let output = work.await;
    let peak = PEAK.load(Ordering::Relaxed).saturating_sub(before);
    (output, peak)
}

/// What an attack may cost main at most: well below every size the attacks claim (4 GiB for
/// the MessagePack ones, 4 MiB for the frame, 1 GiB for the chunks).
const AT_MOST: usize = 2 * 1024 * 1024;

/// MessagePack values whose declared length is far larger than the input.
fn lying_payloads() -> Vec<(&'static str, Vec<u8>)> {
    let mut nested_maps = vec![0x91];
    for _ in 0..1000 {
        nested_maps.extend_from_slice(&[0xdf, 0xff, 0xff, 0xff, 0xff]);
    }
    vec![
        ("1000 nested maps of 4G entries", nested_maps),
        (
            "an array of 4G elements",
            vec![0xdd, 0xff, 0xff, 0xff, 0xff],
        ),
        ("binary of 4 GiB", vec![0x91, 0xc6, 0xff, 0xff, 0xff, 0xff]),
        (
            "a string of 4 GiB",
            vec![0x91, 0xdb, 0xff, 0xff, 0xff, 0xff],
        ),
        (
            "an extension of 4 GiB",
            vec![0x91, 0xc9, 0xff, 0xff, 0xff, 0xff, 1],
        ),
        ("nesting 100000 deep", {
            let mut deep = vec![0x91; 100_000];
            deep.push(1);
            deep
        }),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lying_lengths_cost_main_nothing_and_get_typed_errors() {
    let fx = Fixture::new("amplification", Main::builder()).await;

    // Binary codec: payloads that announce far more than they hold.
    let mut raw = fx.raw(Wire::Binary).await;
    for (id, (what, payload)) in (1u64..).zip(lying_payloads()) {
        let frame = bin_invoke(id, "probe:echo", &payload);
        let (reply, peak) = peak_during(async {
            raw.send(&frame).await;
            raw.expect(what).await
        })
        .await;
        assert_eq!(reply["t"], "reply", "{what}: {reply}");
        assert_eq!(reply["id"], id, "{what}: {reply}");
        let code = reply["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(
            code == "bad_arguments" || code == "protocol",
            "{what}: {reply}"
        );
        println!("{what}: `{code}`, main allocated at most {peak} bytes");
        assert!(peak < AT_MOST, "{what}: {peak} bytes allocated");
    }
    // A channel name announced as 2^62 bytes long.
    let mut frame = vec![INVOKE];
    varint(&mut frame, 99);
    varint(&mut frame, 1 << 62);
    frame.extend_from_slice(b"probe:echo");
    let (answer, peak) = peak_during(async {
        raw.send(&frame).await;
        raw.expect("an answer to a channel of 2^62 bytes").await
    })
    .await;
    assert_eq!(answer["error"]["code"], "protocol", "{answer}");
    assert!(peak < AT_MOST, "{peak} bytes allocated");
    raw.assert_answers(100).await;

    // JSON nested 100000 deep: refused at serde_json's depth limit, no stack overflow.
    let mut json_raw = RawPeer::renderer(fx.path(), Wire::Json).await;
    let mut deep = br#"{"t":"invoke","id":5,"ch":"probe:echo","args":"#.to_vec();
    deep.extend(std::iter::repeat_n(b'[', 100_000));
    let (answer, peak) = peak_during(async {
        json_raw.send(&deep).await;
        json_raw
            .expect("an answer to JSON nested 100000 deep")
            .await
    })
    .await;
    assert_eq!(answer["error"]["code"], "protocol", "{answer}");
    println!("JSON nested 100000 deep: main allocated at most {peak} bytes");
    assert!(peak < AT_MOST, "{peak} bytes allocated");
    json_raw.assert_answers(6).await;

    // A frame of 4 MiB announced, 5 bytes sent; then 16 chunked messages of 64 MiB announced,
    // one byte of each sent.
    let (_, peak) = peak_during(async {
        let mut bytes = (4u32 << 20).to_be_bytes().to_vec();
        bytes.extend_from_slice(b"{\"t\":");
        json_raw.write_raw(&bytes).await.unwrap();
        let mut other = RawPeer::renderer(fx.path(), Wire::Json).await;
        for id in 0..16u32 {
            let mut body = vec![0u8];
            for field in [id, 64 << 20, 0] {
                body.extend_from_slice(&field.to_be_bytes());
            }
            body.push(b'{');
            other.send(&body).await;
        }
        // Main has read them all once it answers the next frame.
        other.assert_answers(1).await;
        other
    })
    .await;
    println!("announced 4 MiB + 16 x 64 MiB, sent 21 bytes: main allocated at most {peak} bytes");
    assert!(peak < AT_MOST, "{peak} bytes allocated");
    drop(json_raw);
    drop(raw);
    fx.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_lying_frames_holds_up_no_other_renderer() {
    let fx = Fixture::new("amplification-flood", Main::builder()).await;
    let good = {
        let options = RendererOptions::new("measured").contract(Probe::schema());
        Renderer::connect_unix(fx.path(), options).await.unwrap()
    };
    let probe = Probe::client(&good);
    let mut baseline = Vec::new();
    for n in 0..200 {
        let started = Instant::now();
        assert_eq!(within("a call", probe.echo(n)).await, Ok(n));
        baseline.push(started.elapsed());
    }

    let path = fx.path().to_path_buf();
    let attack = tokio::spawn(async move {
        let mut raw = RawPeer::renderer(&path, Wire::Binary).await;
        let payloads = lying_payloads();
        // In bursts of 100, reading the answers after each (main stops reading a peer that
        // does not read what it writes).
        for burst in 0..50u64 {
            for id in burst * 100..(burst + 1) * 100 {
                let (_, payload) = &payloads[id as usize % 5];
                raw.send(&bin_invoke(id, "probe:echo", payload)).await;
            }
            for _ in 0..100 {
                let reply = raw.expect("an error reply").await;
                assert_eq!(reply["t"], "reply", "{reply}");
            }
        }
    });
    let mut during = Vec::new();
    let ((), peak) = peak_during(async {
        for n in 0..200 {
            let started = Instant::now();
            assert_eq!(
                within("a call during the flood", probe.echo(n)).await,
                Ok(n)
            );
            during.push(started.elapsed());
        }
    })
    .await;
    within("the attack to be answered", attack).await.unwrap();
    let median = |times: &mut Vec<Duration>| {
        times.sort();
        times[times.len() / 2]
    };
    println!(
        "good renderer during 5000 lying frames: median {:?} (before: {:?}), slowest {:?}; \
         process allocated at most {peak} bytes more",
        median(&mut during),
        median(&mut baseline),
        during.last().unwrap(),
    );
    assert!(
        peak < 16 * AT_MOST,
        "{peak} bytes allocated during the flood"
    );
    fx.assert_served("after the flood").await;
}
