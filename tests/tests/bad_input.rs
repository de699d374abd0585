//! Bad input over a real Unix socket: a raw client writes malformed, oversized, truncated,
//! unexpected or abusive frames to `Main::listen_unix`, and a fake main writes bad frames to a
//! real `Renderer`.
//!
//! For every case: a typed error reply where a reply is possible (its `error.code` checked),
//! otherwise the connection closes with a stated reason (an error frame and/or a goodbye with a
//! reason, then EOF); a second, well-behaved renderer (the real `Renderer::connect_unix` and a
//! generated client) is served before and after; and nothing in the runtime panics (a panic
//! hook counts every panic that does not come from the test code itself).
//!
//! Expected answers follow `docs/PROTOCOL.md` §7. The raw peer and the fixture are in
//! `common::raw`.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::raw::*;
use common::{Probe, Todos, eventually, within};
use ipc_runtime::{Codec, InvokeChannel, IpcError, Main, Never, Renderer, RendererOptions};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixListener;

// ---------------------------------------------------------------------------------------------
// 1. Truncated frame

#[test]
fn truncated_frame_closes_only_that_connection() {
    both_codecs(|wire| async move {
        let fx = Fixture::new(&format!("truncated-{}", wire.name()), Main::builder()).await;
        let mut raw = fx.raw(wire).await;
        let mut bytes = 100u32.to_be_bytes().to_vec();
        bytes.extend_from_slice(br#"{"t":"inv"#);
        raw.write_raw(&bytes).await.unwrap();
        raw.shutdown_write().await;
        let frames = raw.until_closed().await;
        let reason = assert_closed_with_reason(&frames);
        assert!(reason.contains("truncated"), "{frames:?}");
        fx.finish().await;
    });
}

// 2. Frame over the limit

#[test]
fn oversized_frame_is_refused_from_its_header() {
    both_codecs(|wire| async move {
        let builder = Main::builder().max_frame_size(1024);
        let fx = Fixture::new(&format!("too-large-{}", wire.name()), builder).await;
        let mut raw = RawPeer::connect(fx.path()).await;
        raw.send_json(&renderer_hello(wire.name())).await;
        let answer = raw.expect("main's hello").await;
        assert_eq!(answer["max_frame"], 1024, "{answer}");
        raw.wire = wire;
        eventually("main to register it", || fx.main.renderer_count() == 2).await;

        // Announce 1 MiB and send only a few bytes of it.
        let mut bytes = (1u32 << 20).to_be_bytes().to_vec();
        bytes.extend_from_slice(&[0u8; 16]);
        raw.write_raw(&bytes).await.unwrap();
        let frames = raw.until_closed().await;
        assert_eq!(frames.len(), 2, "an error frame and a goodbye: {frames:?}");
        assert_eq!(frames[0]["t"], "error", "{frames:?}");
        assert_eq!(frames[0]["error"]["code"], "too_large", "{frames:?}");
        assert_eq!(frames[0]["error"]["size"], 1 << 20, "{frames:?}");
        assert_eq!(frames[0]["error"]["limit"], 1024, "{frames:?}");
        let reason = assert_closed_with_reason(&frames);
        assert!(
            reason.contains("1048576") && reason.contains("1024"),
            "{reason}"
        );
        fx.finish().await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_first_frame_is_refused_at_the_handshake() {
    let fx = Fixture::new("too-large-hello", Main::builder().max_frame_size(1024)).await;
    let mut raw = RawPeer::connect(fx.path()).await;
    raw.write_raw(&(1u32 << 20).to_be_bytes()).await.unwrap();
    let frame = assert_refused(&mut raw, "too_large").await;
    assert_eq!(frame["error"]["size"], 1 << 20, "{frame}");
    assert_eq!(frame["error"]["limit"], 1024, "{frame}");
    fx.finish().await;
}

// 3. Invalid JSON

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_json_is_a_protocol_error_and_the_connection_survives() {
    let fx = Fixture::new("invalid-json", Main::builder()).await;
    let mut raw = fx.raw(Wire::Json).await;
    let bodies: [&[u8]; 8] = [
        br#"{"t":"invoke","id":1,"#,
        b"",
        b"\xff\xfe\x00garbage",
        b"[1,2,3]",
        b"null",
        br#""invoke""#,
        br#"{"t":"invoke","id":1,"ch":"probe:echo","args":[1]} trailing"#,
        br#"{"t":"invoke","t":"send","id":1,"ch":"probe:echo","args":[1]}"#,
    ];
    for (n, body) in bodies.iter().enumerate() {
        raw.send(body).await;
        let frame = raw.expect_error("protocol").await;
        let message = frame["error"]["message"].as_str().unwrap();
        assert!(message.contains("protocol error"), "{message}");
        raw.assert_answers(n as u64 + 1).await;
    }
    fx.assert_served("meanwhile").await;
    drop(raw);
    fx.finish().await;
}

// 4. Unknown frame types, and frames main does not receive

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_frame_type_is_named_and_the_connection_survives() {
    let fx = Fixture::new("unknown-type", Main::builder()).await;
    let mut raw = fx.raw(Wire::Json).await;

    raw.send_json(&json!({"t": "bogus"})).await;
    let frame = raw.expect_error("protocol").await;
    assert!(
        frame["error"]["message"]
            .as_str()
            .unwrap()
            .contains("bogus"),
        "{frame}"
    );
    raw.assert_answers(1).await;

    let cases = [
        (json!({"ch": "probe:echo"}), "`t`"),
        (json!({"t": 7}), "`t`"),
        (renderer_hello("json"), "hello"),
        (
            json!({"t": "event", "ch": "todos:changed", "args": []}),
            "event",
        ),
    ];
    for (n, (frame, needle)) in cases.into_iter().enumerate() {
        raw.send_json(&frame).await;
        let error = raw.expect_error("protocol").await;
        let message = error["error"]["message"].as_str().unwrap();
        assert!(message.contains(needle), "{needle}: {error}");
        raw.assert_answers(n as u64 + 2).await;
    }

    // A renderer's error report needs no answer, and is not fatal.
    raw.send_json(&json!({"t": "error", "error": {"code": "x", "message": "y"}}))
        .await;
    raw.assert_answers(10).await;
    fx.assert_served("meanwhile").await;
    drop(raw);
    fx.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_frame_type_with_an_id_is_not_taken_for_a_call() {
    let mut fx = Fixture::new("unknown-type-id", Main::builder()).await;
    let mut raw = fx.raw(Wire::Json).await;
    // Call 3 is in flight when a frame of an unknown type arrives carrying `"id": 3`: the
    // error must not be delivered as call 3's reply (which would answer that call twice).
    raw.send_json(&invoke(3, "probe:block", json!([3]))).await;
    fx.probe.wait_started(1).await;
    raw.send_json(&json!({"t": "bogus", "id": 3})).await;
    let error = raw.expect_error("protocol").await;
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("bogus"),
        "{error}"
    );
    fx.probe.release.add_permits(1);
    assert_eq!(
        raw.expect("call 3's reply").await,
        json!({"t": "reply", "id": 3, "ok": 3})
    );
    drop(raw);
    fx.finish().await;
}

// 5. Missing or malformed required fields

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invoke_missing_fields_gets_a_protocol_reply_to_its_id() {
    let fx = Fixture::new("missing-fields", Main::builder()).await;
    let mut raw = fx.raw(Wire::Json).await;
    let cases = [
        (json!({"t": "invoke", "id": 5, "args": ["x"]}), "`ch`"),
        (json!({"t": "invoke", "id": 6, "ch": "todos:add"}), "`args`"),
        (
            json!({"t": "invoke", "id": 7, "ch": 42, "args": ["x"]}),
            "`ch`",
        ),
        (
            json!({"t": "invoke", "id": 8, "ch": "todos:add", "args": ["x"], "timeout_ms": "soon"}),
            "`timeout_ms`",
        ),
    ];
    for (frame, needle) in cases {
        let id = frame["id"].as_u64().unwrap();
        raw.send_json(&frame).await;
        let reply = raw.expect_reply_error(id, "protocol").await;
        let message = reply["error"]["message"].as_str().unwrap();
        assert!(message.contains(needle), "{needle}: {reply}");
    }
    raw.assert_answers(9).await;

    // Without a readable invoke id there is no call to answer: an error frame instead. (A
    // reply's id names a call of main's, never one of the renderer's, so it is not answered
    // as a call.)
    let no_id = [
        json!({"t": "reply", "id": 4}),
        json!({"t": "reply", "id": 4, "ok": 1, "app": 2}),
        json!({"id": 3}),
        json!({"t": "invoke", "ch": "probe:echo", "args": [1]}),
        json!({"t": "invoke", "id": -1, "ch": "probe:echo", "args": [1]}),
        json!({"t": "invoke", "id": "1", "ch": "probe:echo", "args": [1]}),
        json!({"t": "cancel"}),
        json!({"t": "send", "args": ["line"]}),
        json!({"t": "reply", "ok": 1}),
    ];
    for (n, frame) in no_id.into_iter().enumerate() {
        raw.send_json(&frame).await;
        raw.expect_error("protocol").await;
        raw.assert_answers(n as u64 + 10).await;
    }
    fx.assert_served("meanwhile").await;
    drop(raw);
    fx.finish().await;
}

// 6. Unknown channel

#[test]
fn unknown_channel_gets_no_handler() {
    both_codecs(|wire| async move {
        let fx = Fixture::new(&format!("no-handler-{}", wire.name()), Main::builder()).await;
        let mut raw = fx.raw(wire).await;
        match wire {
            Wire::Json | Wire::MessagePack => {
                raw.send_value(&invoke(1, "todos:nope", json!([]))).await;
            }
            Wire::Binary => raw.send(&bin_invoke(1, "todos:nope", &[0x90])).await,
        }
        let reply = raw.expect_reply_error(1, "no_handler").await;
        assert_eq!(reply["error"]["channel"], "todos:nope", "{reply}");
        raw.assert_answers(2).await;

        // A send to a channel nobody listens to is dropped (and logged): no answer, no harm.
        match wire {
            Wire::Json | Wire::MessagePack => {
                raw.send_value(&json!({"t": "send", "ch": "todos:nope", "args": []}))
                    .await;
            }
            Wire::Binary => {
                let mut frame = vec![6];
                postcard_str(&mut frame, "todos:nope");
                frame.push(0x90);
                raw.send(&frame).await;
            }
        }
        raw.assert_answers(3).await;
        drop(raw);
        fx.finish().await;
    });
}

// 7. Arguments of the wrong type or count

#[test]
fn wrong_arguments_get_bad_arguments() {
    both_codecs(|wire| async move {
        let fx = Fixture::new(&format!("bad-args-{}", wire.name()), Main::builder()).await;
        let mut raw = fx.raw(wire).await;
        let cases: Vec<(&str, &str, Vec<u8>)> = match wire {
            Wire::Json | Wire::MessagePack => [
                ("todos:add", "wrong type", json!([42])),
                ("todos:add", "too many", json!(["a", "b"])),
                ("todos:add", "too few", json!([])),
                ("todos:add", "not an array", json!("a")),
                ("todos:add", "null", json!(null)),
                ("todos:add", "an object", json!({"title": "a"})),
                ("probe:echo", "negative", json!([-1])),
                ("probe:echo", "out of range", json!([4_294_967_296u64])),
                ("todos:list", "too many for none", json!([1])),
            ]
            .into_iter()
            .map(|(ch, what, args)| (ch, what, serde_json::to_vec(&args).unwrap()))
            .collect(),
            Wire::Binary => vec![
                ("todos:add", "wrong type", mp_u8_args(42)),
                ("todos:add", "too many", vec![0x92, 0xa1, b'a', 0xa1, b'b']),
                ("todos:add", "too few", vec![0x90]),
                ("todos:add", "not an array", vec![0xa1, b'a']),
                ("todos:add", "no payload", vec![]),
                ("todos:add", "invalid MessagePack", vec![0xc1]),
                ("todos:add", "trailing bytes", {
                    let mut args = mp_str_args("a");
                    args.push(0);
                    args
                }),
                ("probe:echo", "negative", vec![0x91, 0xff]),
                ("todos:list", "too many for none", vec![0x91, 0x01]),
            ],
        };
        for (n, (channel, what, args)) in cases.into_iter().enumerate() {
            let id = n as u64 + 1;
            match wire {
                Wire::Json => {
                    let frame = format!(
                        r#"{{"t":"invoke","id":{id},"ch":"{channel}","args":{}}}"#,
                        String::from_utf8(args).unwrap()
                    );
                    raw.send(frame.as_bytes()).await;
                }
                Wire::MessagePack => {
                    let args: Value = serde_json::from_slice(&args).unwrap();
                    raw.send_msgpack(&invoke(id, channel, args)).await;
                }
                Wire::Binary => raw.send(&bin_invoke(id, channel, &args)).await,
            }
            let reply = raw.expect_reply_error(id, "bad_arguments").await;
            assert_eq!(reply["error"]["channel"], channel, "{what}: {reply}");
        }
        raw.assert_answers(50).await;

        // Bad arguments on a send: no reply exists, so an error frame says so; nothing else.
        if wire != Wire::Binary {
            raw.send_value(&json!({"t": "send", "ch": "todos:log", "args": [1, 2, 3]}))
                .await;
            let error = raw.expect_error("bad_arguments").await;
            assert_eq!(error["error"]["channel"], "todos:log", "{error}");
            raw.assert_answers(51).await;
        }
        fx.assert_served("meanwhile").await;
        drop(raw);
        fx.finish().await;
    });
}

// 7b. Time values: RFC 3339 text and milliseconds (docs/PROTOCOL.md §4, "Time values")

/// A contract with time values, for a peer that writes their wire form by hand.
#[ipc_runtime::channels(namespace = "clock")]
trait Clock {
    /// `at` moved later by `by`.
    async fn shift(&self, at: std::time::SystemTime, by: Duration) -> std::time::SystemTime;
}

struct ClockBackend;

impl ClockHandler for ClockBackend {
    async fn shift(
        &self,
        _caller: &ipc_runtime::Caller,
        at: std::time::SystemTime,
        by: Duration,
    ) -> std::time::SystemTime {
        at + by
    }
}

#[test]
fn time_values_cross_as_text_and_milliseconds_and_bad_ones_get_bad_arguments() {
    both_codecs(|wire| async move {
        if wire == Wire::Binary {
            return;
        }
        let fx = Fixture::new(&format!("time-{}", wire.name()), Main::builder()).await;
        let _clock = Clock::handle(&fx.main, ClockBackend).unwrap();
        let mut raw = fx.raw(wire).await;
        // Any offset and 1 to 9 digits in; UTC and 0, 3, 6 or 9 digits out.
        for (n, (at, by, expected)) in [
            (
                "1969-12-31T23:59:59.5Z",
                json!(250.5),
                "1969-12-31T23:59:59.750500Z",
            ),
            (
                "1970-01-01T01:00:00+01:00",
                json!(1),
                "1970-01-01T00:00:00.001Z",
            ),
            ("0000-01-01T00:00:00Z", json!(0), "0000-01-01T00:00:00Z"),
            (
                "1999-12-31t23:59:59.999999999z",
                json!(0.000001),
                "2000-01-01T00:00:00Z",
            ),
        ]
        .into_iter()
        .enumerate()
        {
            let id = n as u64 + 1;
            raw.send_value(&invoke(id, "clock:shift", json!([at, by])))
                .await;
            let reply = raw.expect(&format!("the reply to call {id}")).await;
            assert_eq!(reply["ok"], expected, "{at} + {by}: {reply}");
        }
        for (n, (args, reason)) in [
            (json!(["yesterday", 0]), "invalid timestamp \"yesterday\""),
            (json!(["1970-13-01T00:00:00Z", 0]), "no such date"),
            (
                json!(["1970-01-01T00:00:60Z", 0]),
                "leap seconds are not represented",
            ),
            (
                json!(["+275760-09-13T00:00:00.000Z", 0]),
                "invalid timestamp",
            ),
            (
                json!(["9999-12-31T23:59:59Z", 1000]),
                "nothing: the result is out of range",
            ),
            (json!([0, 0]), "an RFC 3339 timestamp"),
            (
                json!(["1970-01-01T00:00:00Z", -1]),
                "outside what its Rust type can hold",
            ),
            // (JSON's decoder names what it expected, MessagePack's the marker it found.)
            (json!(["1970-01-01T00:00:00Z", "1s"]), ""),
        ]
        .into_iter()
        .enumerate()
        {
            let id = n as u64 + 10;
            raw.send_value(&invoke(id, "clock:shift", args.clone()))
                .await;
            if reason.starts_with("nothing") {
                // In range in, out of range out: main cannot encode its answer, and says so.
                let reply = raw.expect(&format!("the reply to call {id}")).await;
                assert_eq!(reply["id"], id, "{reply}");
                assert!(
                    reply["error"]["message"]
                        .as_str()
                        .unwrap_or_default()
                        .contains("outside years 0000 to 9999"),
                    "{reply}"
                );
                continue;
            }
            let reply = raw.expect_reply_error(id, "bad_arguments").await;
            let message = reply["error"]["message"].as_str().unwrap_or_default();
            assert!(message.contains(reason), "{args}: {reply}");
        }
        fx.assert_served("meanwhile").await;
        drop(raw);
        fx.finish().await;
    });
}

// 8. A reply main never asked for

/// A reply frame from the renderer (main never calls a renderer, so its id matches nothing).
fn stray_reply(wire: Wire, id: u64) -> Vec<u8> {
    match wire {
        Wire::Json => serde_json::to_vec(&json!({"t": "reply", "id": id, "ok": 1})).unwrap(),
        Wire::MessagePack => {
            rmp_serde::to_vec_named(&json!({"t": "reply", "id": id, "ok": 1})).unwrap()
        }
        Wire::Binary => {
            let mut frame = vec![REPLY_OK];
            varint(&mut frame, id);
            frame.push(0x01);
            frame
        }
    }
}

#[test]
fn reply_to_an_unknown_id_is_a_protocol_error() {
    both_codecs(|wire| async move {
        let fx = Fixture::new(&format!("stray-reply-{}", wire.name()), Main::builder()).await;
        let mut raw = fx.raw(wire).await;
        raw.send(&stray_reply(wire, 99)).await;
        // PROTOCOL.md §7: error `protocol`, not addressed to a call (the id is in the message).
        let error = raw.expect_error("protocol").await;
        let message = error["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("reply") && message.contains("99"),
            "{error}"
        );
        raw.assert_answers(1).await;
        drop(raw);
        fx.finish().await;
    });
}

#[test]
fn stray_reply_does_not_answer_a_call_in_flight() {
    both_codecs(|wire| async move {
        let name = format!("stray-reply-busy-{}", wire.name());
        let mut fx = Fixture::new(&name, Main::builder()).await;
        let mut raw = fx.raw(wire).await;
        match wire {
            Wire::Json | Wire::MessagePack => {
                raw.send_value(&invoke(7, "probe:block", json!([7]))).await
            }
            Wire::Binary => {
                raw.send(&bin_invoke(7, "probe:block", &mp_u8_args(7)))
                    .await
            }
        }
        fx.probe.wait_started(1).await;
        raw.send(&stray_reply(wire, 7)).await;
        raw.expect_error("protocol").await;
        fx.probe.release.add_permits(1);
        let reply = raw.expect("call 7's reply").await;
        assert_eq!(reply["id"], 7, "{reply}");
        assert!(reply.get("ok").is_some(), "{reply}");
        drop(raw);
        fx.finish().await;
    });
}

// 9. Flood past the in-flight limit

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flood_past_the_in_flight_limit_refuses_exactly_the_overflow() {
    let mut fx = Fixture::new("flood", Main::builder().max_in_flight(4)).await;
    let mut raw = fx.raw(Wire::Json).await;
    let mut burst = Vec::new();
    for id in 1..=50u64 {
        let body = serde_json::to_vec(&invoke(id, "probe:block", json!([id]))).unwrap();
        burst.extend_from_slice(&framed(&body));
    }
    raw.write_raw(&burst).await.unwrap();

    // The four that got a slot block until released; every other one is refused at once.
    let mut refused = Vec::new();
    for _ in 0..46 {
        let reply = raw.expect("a refusal").await;
        assert_eq!(reply["t"], "reply", "{reply}");
        assert_eq!(
            reply["error"]["code"], "too_many_in_flight",
            "only refusals come before the release: {reply}"
        );
        assert_eq!(reply["error"]["limit"], 4, "{reply}");
        refused.push(reply["id"].as_u64().unwrap());
    }
    assert_eq!(refused, (5..=50).collect::<Vec<_>>());
    let mut started = fx.probe.wait_started(4).await;
    started.sort_unstable();
    assert_eq!(started, [1, 2, 3, 4]);

    // The limit is per renderer: the good one is served while the flood's calls hold theirs.
    fx.assert_served("during the flood").await;
    // A call that would finish at its first poll counts as one too: it is refused at the limit
    // (main runs it without taking a slot only when one is free).
    raw.send_json(&invoke(60, "probe:echo", json!([60]))).await;
    let reply = raw.expect("the refused echo").await;
    assert_eq!(reply["id"], 60, "{reply}");
    assert_eq!(reply["error"]["code"], "too_many_in_flight", "{reply}");

    fx.probe.release.add_permits(4);
    let mut done = Vec::new();
    for _ in 0..4 {
        let reply = raw.expect("a completed call").await;
        let id = reply["id"].as_u64().unwrap();
        assert_eq!(reply, json!({"t": "reply", "id": id, "ok": id}));
        done.push(id);
    }
    done.sort_unstable();
    assert_eq!(done, [1, 2, 3, 4]);
    assert!(fx.probe.started.try_recv().is_err(), "no refused call ran");
    // The slots are free again.
    raw.assert_answers(51).await;
    drop(raw);
    fx.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_floods_and_never_reads_is_held_back_without_harming_others() {
    let fx = Fixture::new("flood-no-read", Main::builder().queue_capacity(16)).await;
    let raw = fx.raw(Wire::Json).await;
    let (mut read_half, mut write_half) = raw.stream.into_split();
    // Each invoke is answered (`no_handler`), but this client never reads the answers: once the
    // socket buffers fill, main stops reading from it (backpressure) instead of queueing.
    let flood = tokio::spawn(async move {
        let body = serde_json::to_vec(&invoke(1, "todos:nope", json!([]))).unwrap();
        let frame = framed(&body);
        let mut chunk = Vec::new();
        for _ in 0..256 {
            chunk.extend_from_slice(&frame);
        }
        // Bounded, so the test cannot run forever even if nothing pushes back.
        for _ in 0..2_000 {
            if write_half.write_all(&chunk).await.is_err() {
                break;
            }
        }
    });
    for n in 0..5 {
        fx.assert_served(&format!("while flooded {n}")).await;
    }
    flood.abort();
    let _ = flood.await;
    // Let main drain some, to prove the connection still works: the first answer is there.
    let mut prefix = [0u8; 4];
    within("an answer", read_half.read_exact(&mut prefix))
        .await
        .unwrap();
    drop(read_half);
    fx.finish().await;
}

// 10. Handshake refusals

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_client_is_closed_after_the_handshake_timeout() {
    let builder = Main::builder().handshake_timeout(Duration::from_millis(300));
    let fx = Fixture::new("silent", builder).await;
    let mut raw = RawPeer::connect(fx.path()).await;
    // Meanwhile, others are served (each handshake runs on its own task).
    fx.assert_served("while one is silent").await;
    let frame = assert_refused(&mut raw, "protocol").await;
    let message = frame["error"]["message"].as_str().unwrap();
    assert!(message.contains("no hello within 300ms"), "{message}");
    assert_eq!(fx.main.renderer_count(), 1);
    fx.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_hellos_are_refused_with_the_reason() {
    let fx = Fixture::new("bad-hello", Main::builder()).await;
    let with = |key: &str, value: Value| {
        let mut hello = renderer_hello("json");
        hello[key] = value;
        serde_json::to_vec(&hello).unwrap()
    };
    let cases: Vec<(&str, Vec<u8>, &str, Vec<String>)> = vec![
        (
            "a non-hello first frame",
            serde_json::to_vec(&invoke(1, "probe:echo", json!([1]))).unwrap(),
            "protocol",
            vec!["expected a hello".into(), "invoke".into()],
        ),
        (
            "invalid JSON",
            b"{\"t\":\"hello\"".to_vec(),
            "protocol",
            vec!["invalid JSON".into()],
        ),
        (
            "binary bytes",
            vec![INVOKE, 1, 0, 0],
            "protocol",
            vec!["invalid JSON".into()],
        ),
        (
            "an empty frame",
            Vec::new(),
            "protocol",
            vec!["invalid JSON".into()],
        ),
        (
            "a hello missing fields",
            br#"{"t":"hello","protocol":1}"#.to_vec(),
            "protocol",
            vec!["malformed hello".into()],
        ),
        (
            "the wrong protocol version",
            with("protocol", json!(2)),
            "version_mismatch",
            vec!["protocol 1".into(), "protocol 2".into()],
        ),
        (
            "an unknown codec",
            with("codec", json!("cbor")),
            "protocol",
            vec!["cbor".into()],
        ),
        (
            "the wrong role",
            with("role", json!("main")),
            "protocol",
            vec!["role".into(), "main".into()],
        ),
        (
            "a mismatched contract hash",
            with("contracts", json!({"todos": "0123456789abcdef"})),
            "version_mismatch",
            vec![Todos::contract_hash().into(), "0123456789abcdef".into()],
        ),
    ];
    for (what, hello, code, needles) in cases {
        let mut raw = RawPeer::connect(fx.path()).await;
        raw.send(&hello).await;
        let frame = assert_refused(&mut raw, code).await;
        let message = frame["error"]["message"].as_str().unwrap();
        for needle in &needles {
            assert!(message.contains(needle.as_str()), "{what}: {frame}");
        }
        if code == "version_mismatch" {
            assert!(frame["error"]["ours"].is_string(), "{what}: {frame}");
            assert!(frame["error"]["theirs"].is_string(), "{what}: {frame}");
        }
        assert_eq!(fx.main.renderer_count(), 1, "{what}");
        fx.assert_served(what).await;
    }
    fx.finish().await;
}

// 11. Binary codec: frames that do not decode

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undecodable_binary_frames_are_reported_and_the_connection_survives() {
    let fx = Fixture::new("binary-frames", Main::builder()).await;
    let mut raw = fx.raw(Wire::Binary).await;
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("an empty frame", vec![], "empty frame"),
        (
            "an unknown tag",
            vec![0xee, 1, 2, 3],
            "unknown frame type 238",
        ),
        ("an invoke with no header", vec![INVOKE], "invoke"),
        ("an unfinished varint id", vec![INVOKE, 0x80], "invoke"),
        (
            "a cancel with trailing bytes",
            vec![CANCEL, 1, 2],
            "trailing",
        ),
        (
            "a goodbye with a bad string",
            vec![GOODBYE, 5, b'a'],
            "goodbye",
        ),
        ("a send with a cut channel", vec![6, 9, b'p'], "malformed"),
        (
            "an error frame with a bad option tag",
            vec![ERROR, 7],
            "error",
        ),
    ];
    for (n, (what, frame, needle)) in cases.into_iter().enumerate() {
        raw.send(&frame).await;
        let error = raw.expect_error("protocol").await;
        let message = error["error"]["message"].as_str().unwrap();
        assert!(message.contains(needle), "{what}: {error}");
        raw.assert_answers(n as u64 + 1).await;
    }

    // An invoke whose id is readable but whose header is cut short: the call is answered.
    let mut frame = vec![INVOKE];
    varint(&mut frame, 300);
    varint(&mut frame, 20); // a 20-byte channel name...
    frame.extend_from_slice(b"pr"); // ...of which 2 bytes arrive
    raw.send(&frame).await;
    let reply = raw.expect_reply_error(300, "protocol").await;
    assert!(
        reply["error"]["message"]
            .as_str()
            .unwrap()
            .contains("invoke"),
        "{reply}"
    );
    // A reply-error frame cut after its id.
    let mut frame = vec![REPLY_ERROR];
    varint(&mut frame, 1);
    raw.send(&frame).await;
    raw.expect_error("protocol").await;
    raw.assert_answers(20).await;
    fx.assert_served("meanwhile").await;
    drop(raw);
    fx.finish().await;
}

/// Every way a MessagePack frame can be malformed is answered with a `protocol` error naming
/// what is wrong (an invoke whose id is readable gets its reply), and the connection goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undecodable_msgpack_frames_are_reported_and_the_connection_survives() {
    let fx = Fixture::new("msgpack-frames", Main::builder()).await;
    let mut raw = fx.raw(Wire::MessagePack).await;
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("an empty frame", vec![], "a frame is a map"),
        ("an array", vec![0x92, 1, 2], "a frame is a map"),
        (
            "a key that is not a string",
            vec![0x81, 0x01, 0x02],
            "not a string",
        ),
        (
            "a map claiming 4 G entries",
            vec![0xdf, 0xff, 0xff, 0xff, 0xff],
            "cut short",
        ),
        (
            "a payload claiming 4 G items",
            [
                &[0x82, 0xa1, b't', 0xa4][..],
                b"send",
                &[0xa4],
                b"args",
                &[0xdd, 0xff, 0xff, 0xff, 0xff],
            ]
            .concat(),
            "declares 4294967295 values",
        ),
        (
            "a field given twice",
            [&[0x82, 0xa1, b't', 0xa4][..], b"ping", &[0xa1, b't', 0xc0]].concat(),
            "duplicate field `t`",
        ),
        ("trailing bytes", vec![0x80, 0x00], "trailing"),
        (
            "an unknown type",
            rmp_serde::to_vec_named(&json!({"t": "bogus", "id": 4})).unwrap(),
            "unknown frame type `bogus`",
        ),
        (
            "a type that is not a string",
            rmp_serde::to_vec_named(&json!({"t": 5})).unwrap(),
            "`t` must be a string",
        ),
        (
            "a nesting past 128 levels",
            [vec![0x81, 0xa1, b'x'], vec![0x91; 200], vec![0x01]].concat(),
            "nesting",
        ),
    ];
    for (n, (what, frame, needle)) in cases.into_iter().enumerate() {
        raw.send(&frame).await;
        let error = raw.expect_error("protocol").await;
        let message = error["error"]["message"].as_str().unwrap();
        assert!(message.contains(needle), "{what}: {error}");
        raw.assert_answers(n as u64 + 1).await;
    }
    // An invoke whose id is readable but which lacks its channel: the call is answered.
    raw.send_msgpack(&json!({"t": "invoke", "id": 300, "args": []}))
        .await;
    let reply = raw.expect_reply_error(300, "protocol").await;
    assert!(
        reply["error"]["message"].as_str().unwrap().contains("`ch`"),
        "{reply}"
    );
    raw.assert_answers(20).await;
    fx.assert_served("meanwhile").await;
    drop(raw);
    fx.finish().await;
}

// 12. Duplicate call id

#[test]
fn duplicate_call_id_in_flight_gets_a_protocol_reply() {
    both_codecs(|wire| async move {
        let mut fx = Fixture::new(&format!("duplicate-{}", wire.name()), Main::builder()).await;
        let mut raw = fx.raw(wire).await;
        let block = |id: u64, tag: u8| match wire {
            Wire::Json => serde_json::to_vec(&invoke(id, "probe:block", json!([tag]))).unwrap(),
            Wire::MessagePack => {
                rmp_serde::to_vec_named(&invoke(id, "probe:block", json!([tag]))).unwrap()
            }
            Wire::Binary => bin_invoke(id, "probe:block", &mp_u8_args(tag)),
        };
        raw.send(&block(1, 1)).await;
        fx.probe.wait_started(1).await;
        raw.send(&block(1, 2)).await;
        let reply = raw.expect_reply_error(1, "protocol").await;
        assert!(
            reply["error"]["message"]
                .as_str()
                .unwrap()
                .contains("already in flight"),
            "{reply}"
        );
        fx.probe.release.add_permits(1);
        let reply = raw.expect("the first call's reply").await;
        assert_eq!(reply["id"], 1, "{reply}");
        assert!(reply.get("ok").is_some(), "{reply}");
        assert!(
            fx.probe.started.try_recv().is_err(),
            "the duplicate never ran"
        );
        // Once answered, the id may be used again.
        raw.assert_answers(1).await;
        drop(raw);
        fx.finish().await;
    });
}

// 13. Garbage that is not even a length prefix

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_garbage_bytes_then_close() {
    let fx = Fixture::new("garbage", Main::builder()).await;

    // Before the handshake: refused with the reason.
    let mut raw = RawPeer::connect(fx.path()).await;
    raw.write_raw(&[0xde, 0xad, 0xbe]).await.unwrap();
    raw.shutdown_write().await;
    let frame = assert_refused(&mut raw, "disconnected").await;
    assert!(
        frame["error"]["message"]
            .as_str()
            .unwrap()
            .contains("truncated"),
        "{frame}"
    );
    assert_eq!(fx.main.renderer_count(), 1);
    fx.assert_served("between").await;

    // After the handshake: closed with the reason, and forgotten.
    for wire in [Wire::Json, Wire::Binary] {
        let mut raw = fx.raw(wire).await;
        raw.write_raw(&[0xde, 0xad, 0xbe]).await.unwrap();
        raw.shutdown_write().await;
        let frames = raw.until_closed().await;
        let reason = assert_closed_with_reason(&frames);
        assert!(reason.contains("truncated"), "{frames:?}");
        fx.assert_only_good_left().await;
    }

    // And a client that hangs up with nothing at all.
    let raw = RawPeer::connect(fx.path()).await;
    drop(raw);
    fx.assert_served("after a hang-up").await;
    fx.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renderer_goodbye_closes_only_its_connection() {
    let fx = Fixture::new("goodbye", Main::builder()).await;
    let mut raw = fx.raw(Wire::Json).await;
    raw.send_json(&json!({"t": "goodbye", "reason": "done"}))
        .await;
    let frames = raw.until_closed().await;
    assert_closed_with_reason(&frames);
    fx.finish().await;
}

// ---------------------------------------------------------------------------------------------
// Main misbehaves toward a real renderer

/// A fake main: a raw listener that accepts one renderer and answers its hello.
async fn fake_main(name: &str, options: RendererOptions) -> (Renderer, RawPeer) {
    install_panic_counter();
    let path = socket_path(name);
    let listener = UnixListener::bind(&path).unwrap();
    let accept = async {
        let (stream, _) = listener.accept().await.unwrap();
        let mut peer = RawPeer {
            stream,
            wire: Wire::Json,
        };
        let hello = peer.expect("the renderer's hello").await;
        assert_eq!(hello["t"], "hello", "{hello}");
        assert_eq!(hello["role"], "renderer", "{hello}");
        assert_eq!(hello["codec"], "json", "{hello}");
        peer.send_json(&json!({
            "t": "hello",
            "protocol": 1,
            "role": "main",
            "codec": "json",
            "renderer": 7,
            "contracts": {},
            "max_frame": 4_194_304,
        }))
        .await;
        peer
    };
    let options = options.codec(Codec::Json);
    let (renderer, peer) = within("the handshake with the fake main", async {
        tokio::join!(Renderer::connect_unix(&path, options), accept)
    })
    .await;
    let _ = std::fs::remove_file(&path);
    (renderer.expect("the renderer accepts the fake main"), peer)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renderer_answers_main_pings_by_itself() {
    let (renderer, mut main) = fake_main("fake-main-ping", RendererOptions::new("idle")).await;
    for id in [1u64, 2, u64::MAX] {
        main.send_json(&json!({"t": "ping", "id": id})).await;
        assert_eq!(main.expect("a pong").await, json!({"t": "pong", "id": id}));
    }
    // A pong main did not ask for is nothing to answer.
    main.send_json(&json!({"t": "pong", "id": 9})).await;
    main.send_json(&json!({"t": "ping", "id": 10})).await;
    assert_eq!(main.expect("a pong").await, json!({"t": "pong", "id": 10}));
    assert!(!renderer.is_closed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renderer_answers_bad_port_frames_from_main() {
    let (renderer, mut main) = fake_main("fake-main-ports", RendererOptions::new("r")).await;
    for frame in [
        json!({"t": "port", "port": 4, "data": 1}),
        json!({"t": "credit", "port": 4, "n": 1}),
        json!({"t": "close", "port": 4}),
    ] {
        main.send_json(&frame).await;
        let answer = main.expect("an answer").await;
        assert_eq!(answer["t"], "error", "{frame} → {answer}");
        assert_eq!(answer["error"]["code"], "protocol", "{frame} → {answer}");
    }
    // A reply that would open a port of the renderer's own parity fails its call.
    let client = Probe::client(&renderer);
    let call = tokio::spawn({
        let client = client.clone();
        async move { client.ticks(3).await.map(drop) }
    });
    let id = next_invoke(&mut main, "probe:ticks").await;
    main.send_json(&json!({"t": "reply", "id": id,
        "ok": {"$ipc": "stream", "port": 3}, "ports": [3]}))
        .await;
    match within("the call", call).await.unwrap() {
        Err(IpcError::Protocol { reason }) => assert!(reason.contains("port 3"), "{reason}"),
        other => panic!("expected a protocol error, got {other:?}"),
    }
    assert!(!renderer.is_closed());

    // A request from main the renderer cannot read, whose id it can: answered as failed.
    main.send_json(&json!({"t": "invoke", "id": 41, "args": []}))
        .await;
    let failed = main.expect("the unreadable request's answer").await;
    assert_eq!(
        (failed["t"].as_str(), failed["id"].as_u64()),
        (Some("reply"), Some(41))
    );
    assert_eq!(failed["error"]["code"], "protocol", "{failed}");

    // Main asks twice under one id while the first is running: the second gets `protocol`,
    // the first keeps its id (main can still cancel it, and its answer still comes).
    const SLOW: InvokeChannel<(u32,), u32, Never> = InvokeChannel::new("fake:slow");
    let release = Arc::new(tokio::sync::Notify::new());
    renderer
        .handle_request(SLOW, {
            let release = release.clone();
            move |(n,): (u32,)| {
                let release = release.clone();
                async move {
                    release.notified().await;
                    Ok(n)
                }
            }
        })
        .unwrap();
    for _ in 0..2 {
        main.send_json(&json!({"t": "invoke", "id": 40, "ch": "fake:slow", "args": [5]}))
            .await;
    }
    let refused = main.expect("the duplicate's refusal").await;
    assert_eq!(
        (refused["t"].as_str(), refused["id"].as_u64()),
        (Some("reply"), Some(40))
    );
    assert_eq!(refused["error"]["code"], "protocol", "{refused}");
    release.notify_one();
    let answered = main.expect("the first request's answer").await;
    assert_eq!(
        (answered["id"].as_u64(), answered["ok"].as_u64()),
        (Some(40), Some(5))
    );
    assert!(!renderer.is_closed());
}

/// Reads the renderer's next invoke; returns its id.
async fn next_invoke(main: &mut RawPeer, channel: &str) -> u64 {
    let frame = main.expect("an invoke").await;
    assert_eq!(frame["t"], "invoke", "{frame}");
    assert_eq!(frame["ch"], channel, "{frame}");
    frame["id"].as_u64().unwrap()
}

fn is_disconnected(result: &Result<u32, IpcError>) -> bool {
    matches!(result, Err(IpcError::Disconnected { .. }))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renderer_survives_bad_frames_from_main_and_closes_on_a_too_large_one() {
    let options = RendererOptions::new("victim").max_frame_size(1024);
    let (renderer, mut main) = fake_main("fake-main", options).await;
    assert_eq!(renderer.id().get(), 7);
    let client = Probe::client(&renderer);

    // A call that main will never answer.
    let pending = tokio::spawn({
        let client = client.clone();
        async move { client.echo(1).await }
    });
    next_invoke(&mut main, "probe:echo").await;

    // Garbage of every kind: the renderer answers what it cannot read, or what a renderer never
    // receives, with a `protocol` error frame, and ignores the rest (logged); it stays up.
    let bad: [&[u8]; 13] = [
        b"{not json",
        b"",
        b"[1]",
        br#"{"t":"bogus"}"#,
        br#"{"t":"bogus","id":1}"#,
        br#"{"t":"reply","id":999,"ok":1}"#,
        br#"{"t":"reply","id":"x","ok":1}"#,
        br#"{"t":"reply","id":1000}"#,
        br#"{"t":"event","ch":"probe:nobody","args":[1]}"#,
        br#"{"t":"event","args":[1]}"#,
        br#"{"t":"invoke","id":1,"ch":"probe:echo","args":[1]}"#,
        br#"{"t":"cancel","id":1}"#,
        br#"{"t":"error","error":{"code":"weird","message":"main is confused"}}"#,
    ];
    for body in bad {
        main.send(body).await;
    }
    assert!(!renderer.is_closed());

    // Still working: a call answered properly succeeds; answered badly, it fails typed.
    let call = |n: u32| {
        let client = client.clone();
        tokio::spawn(async move { client.echo(n).await })
    };
    // Unreadable: not JSON, empty, not an object, two unknown types, a reply with a string id,
    // an event without a channel: a `protocol` error each. The invoke is main's request, for
    // which this renderer has no handler: a `no_handler` reply. The cancel names no request
    // running: nothing.
    let mut errors = 0;
    let mut no_handler = 0;
    for n in 0..8 {
        let frame = main.expect("an answer to a bad frame").await;
        if frame["t"] == "reply" {
            assert_eq!(frame["id"], 1, "answer {n}: {frame}");
            assert_eq!(frame["error"]["code"], "no_handler", "answer {n}: {frame}");
            no_handler += 1;
            continue;
        }
        assert_eq!(frame["t"], "error", "answer {n}: {frame}");
        assert_eq!(frame["error"]["code"], "protocol", "answer {n}: {frame}");
        assert!(frame.get("id").is_none_or(|id| id.is_null()), "{frame}");
        errors += 1;
    }
    assert_eq!((errors, no_handler), (7, 1));
    let second = call(2);
    let id = next_invoke(&mut main, "probe:echo").await;
    main.send_json(&json!({"t": "reply", "id": id, "ok": 2}))
        .await;
    assert_eq!(within("a good reply", second).await.unwrap(), Ok(2));

    let wrong_type = call(3);
    let id = next_invoke(&mut main, "probe:echo").await;
    main.send_json(&json!({"t": "reply", "id": id, "ok": "three"}))
        .await;
    assert!(matches!(
        within("a reply of the wrong type", wrong_type)
            .await
            .unwrap(),
        Err(IpcError::BadReply { .. })
    ));

    let error_frame = call(4);
    let id = next_invoke(&mut main, "probe:echo").await;
    main.send_json(&json!({"t": "error", "id": id, "error": {
        "code": "forbidden", "message": "no", "channel": "probe:echo", "reason": "not you"
    }}))
    .await;
    assert_eq!(
        within("an error frame for the call", error_frame)
            .await
            .unwrap(),
        Err(IpcError::Forbidden {
            channel: "probe:echo".into(),
            reason: "not you".into(),
            rule: None,
        })
    );

    let unknown_code = call(5);
    let id = next_invoke(&mut main, "probe:echo").await;
    main.send_json(&json!({"t": "reply", "id": id, "error": {"code": "weird", "message": "?"}}))
        .await;
    assert!(matches!(
        within("an unknown error code", unknown_code).await.unwrap(),
        Err(IpcError::Protocol { .. })
    ));

    // A malformed reply with a readable id still ends that call, with a typed error.
    let malformed = tokio::spawn({
        let client = client.clone();
        async move { client.echo(6).no_timeout().await }
    });
    let id = next_invoke(&mut main, "probe:echo").await;
    main.send_json(&json!({"t": "reply", "id": id})).await;
    assert!(matches!(
        within("a malformed reply", malformed).await.unwrap(),
        Err(IpcError::Protocol { .. })
    ));
    assert!(!renderer.is_closed());
    assert_no_foreign_panics();

    // A frame over the renderer's limit: the stream cannot continue, so it closes.
    main.write_raw(&(1u32 << 20).to_be_bytes()).await.unwrap();
    let reason = within("the renderer to close", renderer.closed()).await;
    assert!(
        reason.contains("1048576") && reason.contains("1024"),
        "{reason}"
    );
    let result = within("the pending call", pending).await.unwrap();
    assert!(is_disconnected(&result), "{result:?}");
    assert!(renderer.is_closed());
    assert!(is_disconnected(&client.echo(7).await));
    assert_no_foreign_panics();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renderer_fails_pending_calls_when_main_cuts_the_stream() {
    let options = RendererOptions::new("victim").no_default_timeout();
    let (renderer, mut main) = fake_main("fake-main-cut", options).await;
    let client = Probe::client(&renderer);
    let pending = tokio::spawn({
        let client = client.clone();
        async move { client.echo(1).await }
    });
    next_invoke(&mut main, "probe:echo").await;
    // No goodbye: main just goes away.
    drop(main);
    let reason = within("the renderer to close", renderer.closed()).await;
    assert!(!reason.is_empty());
    let result = within("the pending call", pending).await.unwrap();
    assert!(is_disconnected(&result), "{result:?}");
    assert!(is_disconnected(&client.echo(2).await));
    assert_no_foreign_panics();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renderer_reports_a_truncated_frame_from_main() {
    let options = RendererOptions::new("victim").no_default_timeout();
    let (renderer, mut main) = fake_main("fake-main-truncated", options).await;
    let client = Probe::client(&renderer);
    let pending = tokio::spawn({
        let client = client.clone();
        async move { client.echo(1).await }
    });
    next_invoke(&mut main, "probe:echo").await;
    main.write_raw(&[0, 0, 0, 100, b'{']).await.unwrap();
    drop(main);
    let reason = within("the renderer to close", renderer.closed()).await;
    assert!(reason.contains("truncated"), "{reason}");
    let result = within("the pending call", pending).await.unwrap();
    assert!(is_disconnected(&result), "{result:?}");
    assert_no_foreign_panics();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renderer_is_told_why_main_said_goodbye() {
    let options = RendererOptions::new("victim").no_default_timeout();
    let (renderer, mut main) = fake_main("fake-main-goodbye", options).await;
    let client = Probe::client(&renderer);
    let pending = tokio::spawn({
        let client = client.clone();
        async move { client.echo(1).await }
    });
    next_invoke(&mut main, "probe:echo").await;
    main.send_json(&json!({"t": "goodbye", "reason": "shutting down"}))
        .await;
    let reason = within("the renderer to close", renderer.closed()).await;
    assert!(reason.contains("shutting down"), "{reason}");
    let result = within("the pending call", pending).await.unwrap();
    assert!(is_disconnected(&result), "{result:?}");
    drop(main);
    assert_no_foreign_panics();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renderer_refuses_a_bad_hello_from_main() {
    install_panic_counter();
    type Expected = fn(&IpcError) -> bool;
    let answers: Vec<(&str, Vec<u8>, Expected)> = vec![
        (
            "a refusal",
            serde_json::to_vec(&json!({"t": "error", "error": {
                "code": "version_mismatch", "message": "no", "ours": "a", "theirs": "b"
            }}))
            .unwrap(),
            |e| matches!(e, IpcError::VersionMismatch { .. }),
        ),
        ("garbage", b"\x00\x01garbage".to_vec(), |e| {
            matches!(e, IpcError::Protocol { .. })
        }),
        (
            "a hello from a renderer",
            serde_json::to_vec(&renderer_hello("json")).unwrap(),
            |e| matches!(e, IpcError::Protocol { .. }),
        ),
        (
            "another protocol version",
            serde_json::to_vec(&json!({
                "t": "hello", "protocol": 9, "role": "main", "codec": "json", "renderer": 1
            }))
            .unwrap(),
            |e| matches!(e, IpcError::VersionMismatch { .. }),
        ),
        (
            "no renderer id",
            serde_json::to_vec(&json!({
                "t": "hello", "protocol": 1, "role": "main", "codec": "json"
            }))
            .unwrap(),
            |e| matches!(e, IpcError::Protocol { .. }),
        ),
        (
            "another codec",
            serde_json::to_vec(&json!({
                "t": "hello", "protocol": 1, "role": "main", "codec": "binary", "renderer": 1
            }))
            .unwrap(),
            |e| matches!(e, IpcError::Protocol { .. }),
        ),
        (
            "a too-large frame",
            Vec::new(), // the header alone is sent below
            |e| matches!(e, IpcError::TooLarge { .. }),
        ),
        ("silence", Vec::new(), |e| {
            matches!(e, IpcError::Protocol { .. })
        }),
    ];
    for (n, (what, answer, expected)) in answers.into_iter().enumerate() {
        let path = socket_path(&format!("fake-hello-{n}"));
        let listener = UnixListener::bind(&path).unwrap();
        let options = RendererOptions::new("victim")
            .codec(Codec::Json)
            .max_frame_size(1024)
            .handshake_timeout(Duration::from_millis(300));
        let main = async {
            let (stream, _) = listener.accept().await.unwrap();
            let mut peer = RawPeer {
                stream,
                wire: Wire::Json,
            };
            peer.expect("the renderer's hello").await;
            match what {
                "a too-large frame" => peer.write_raw(&(1u32 << 20).to_be_bytes()).await.unwrap(),
                "silence" => {}
                _ => peer.send(&answer).await,
            }
            peer
        };
        let (result, _peer) = within(what, async {
            tokio::join!(Renderer::connect_unix(&path, options), main)
        })
        .await;
        let error = result.expect_err(what);
        assert!(expected(&error), "{what}: {error:?}");
        let _ = std::fs::remove_file(&path);
    }
    assert_no_foreign_panics();
}

// ---------------------------------------------------------------------------------------------
// Chunked messages (docs/PROTOCOL.md §1.1), written by hand

/// A chunk frame's body: tag 0, id, total, offset (u32 big-endian each), then the data.
fn chunk(id: u32, total: u32, offset: u32, data: &[u8]) -> Vec<u8> {
    let mut body = vec![0u8];
    body.extend_from_slice(&id.to_be_bytes());
    body.extend_from_slice(&total.to_be_bytes());
    body.extend_from_slice(&offset.to_be_bytes());
    body.extend_from_slice(data);
    body
}

/// Splits `message` into chunk frames carrying at most `room` bytes of it each.
fn chunks_of(id: u32, message: &[u8], room: usize) -> Vec<Vec<u8>> {
    message
        .chunks(room)
        .enumerate()
        .map(|(i, data)| chunk(id, message.len() as u32, (i * room) as u32, data))
        .collect()
}

/// A fixture whose main takes frames of at most 1 KiB and messages of at most 16 KiB.
async fn chunk_fixture(name: &str) -> Fixture {
    let builder = Main::builder()
        .max_frame_size(1024)
        .max_message_size(16 * 1024);
    Fixture::new(name, builder).await
}

/// An invoke of `probe:echo` with a long extra field (ignored, as unknown fields are), so that
/// the frame is more than `len` bytes long.
fn long_invoke(id: u64, len: usize) -> Vec<u8> {
    let mut frame = invoke(id, "probe:echo", json!([9]));
    frame["padding"] = json!("x".repeat(len));
    serde_json::to_vec(&frame).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_longer_than_a_frame_is_reassembled_from_chunks() {
    let fx = chunk_fixture("chunks-ok").await;
    let mut raw = fx.raw(Wire::Json).await;
    let message = long_invoke(1, 5000);
    // Two messages interleaved, with a whole frame between their chunks.
    let first = chunks_of(1, &message, 1000);
    let second = chunks_of(2, &long_invoke(2, 3000), 1000);
    for i in 0..first.len().max(second.len()) {
        if let Some(frame) = first.get(i) {
            raw.send(frame).await;
        }
        if i == 1 {
            raw.send_json(&invoke(3, "probe:echo", json!([3]))).await;
        }
        if let Some(frame) = second.get(i) {
            raw.send(frame).await;
        }
    }
    let mut replies: Vec<Value> = Vec::new();
    for _ in 0..3 {
        replies.push(raw.expect("a reply").await);
    }
    // Handled where each message completed: the whole frame first, then the shorter chunked
    // message, then the longer one.
    let ids: Vec<u64> = replies.iter().map(|r| r["id"].as_u64().unwrap()).collect();
    assert_eq!(ids, [3, 2, 1], "{replies:?}");
    assert!(
        replies.iter().all(|r| r["ok"] == 9 || r["ok"] == 3),
        "{replies:?}"
    );
    drop(raw);
    fx.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chunked_message_above_the_limit_is_refused_and_the_connection_survives() {
    let fx = chunk_fixture("chunks-too-large").await;
    let mut raw = fx.raw(Wire::Json).await;
    for frame in chunks_of(4, &vec![b'x'; 20_000], 1000) {
        raw.send(&frame).await;
    }
    let error = raw.expect_error("too_large").await;
    assert_eq!(error["error"]["size"], 20_000, "{error}");
    assert_eq!(error["error"]["limit"], 16 * 1024, "{error}");
    raw.assert_answers(1).await;
    drop(raw);
    fx.finish().await;
}

#[test]
fn malformed_chunks_close_only_that_connection_with_the_reason() {
    let cases: Vec<(&str, Vec<Vec<u8>>, &str)> = vec![
        (
            "a chunk out of order",
            vec![
                chunk(1, 3000, 0, &[b'{'; 500]),
                chunk(1, 3000, 900, &[b' '; 500]),
            ],
            "offset 900, but 500 bytes",
        ),
        (
            "a chunk of a message never started",
            vec![chunk(2, 3000, 100, &[b' '; 500])],
            "offset 100, but 0 bytes",
        ),
        (
            "data past the total",
            vec![
                chunk(3, 600, 0, &[b' '; 500]),
                chunk(3, 600, 500, &[b' '; 200]),
            ],
            "past its total",
        ),
        (
            "a total of zero",
            vec![chunk(4, 0, 0, &[b' '; 10])],
            "total of 0",
        ),
        (
            "a total that changes",
            vec![
                chunk(5, 3000, 0, &[b' '; 500]),
                chunk(5, 4000, 500, &[b' '; 500]),
            ],
            "message started with 3000",
        ),
        (
            "a header cut short",
            vec![vec![0u8, 0, 0, 1]],
            "shorter than its 13-byte header",
        ),
        (
            "a chunk without data",
            vec![chunk(6, 10, 0, &[])],
            "no data",
        ),
        (
            "a 17th partial message",
            (0..17).map(|id| chunk(id, 3000, 0, &[b' '; 10])).collect(),
            "more than 16 messages",
        ),
    ];
    for (what, frames, needle) in cases {
        multi_thread().block_on(async {
            let fx = chunk_fixture(&format!("chunk-fault-{}", what.len())).await;
            let mut raw = fx.raw(Wire::Json).await;
            for frame in &frames {
                raw.send(frame).await;
            }
            let frames = raw.until_closed().await;
            let reason = assert_closed_with_reason(&frames);
            assert!(reason.contains(needle), "{what}: {reason}");
            assert_eq!(frames[0]["error"]["code"], "protocol", "{what}: {frames:?}");
            fx.finish().await;
        });
    }
}

/// A renderer that goes away in the middle of a chunked message: main frees what it held,
/// forgets the renderer, and serves the others.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chunked_message_abandoned_halfway_is_dropped_with_its_connection() {
    let fx = chunk_fixture("chunks-abandoned").await;
    let mut raw = fx.raw(Wire::Binary).await;
    raw.send(&chunk(1, 10_000, 0, &[1u8; 1000])).await;
    raw.send(&chunk(1, 10_000, 1000, &[2u8; 1000])).await;
    eventually("main to hold the partial message", || {
        fx.main.partial_message_bytes() == 10_000
    })
    .await;
    drop(raw);
    eventually("main to free it", || fx.main.partial_message_bytes() == 0).await;
    fx.finish().await;
}

/// Only main sends lag notices; one from a renderer is a protocol error, and the connection
/// survives.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lag_notice_from_a_renderer_is_refused() {
    let fx = Fixture::new("renderer-lag", Main::builder()).await;
    let mut raw = fx.raw(Wire::Json).await;
    raw.send_json(&json!({"t": "lag", "ch": "probe:note", "missed": 3}))
        .await;
    let error = raw.expect_error("protocol").await;
    assert!(
        error["error"]["message"].as_str().unwrap().contains("lag"),
        "{error}"
    );
    raw.assert_answers(1).await;
    drop(raw);
    let mut raw = fx.raw(Wire::Binary).await;
    let mut lag = vec![10u8];
    postcard_str(&mut lag, "probe:note");
    varint(&mut lag, 3);
    raw.send(&lag).await;
    raw.expect_error("protocol").await;
    raw.assert_answers(1).await;
    drop(raw);
    fx.finish().await;
}

// ---------------------------------------------------------------------------------------------
// Each safety mechanism on its own

/// Main enforces a call's `timeout_ms` itself: a renderer that never cancels still gets its
/// `timeout` reply, and the handler is dropped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn main_enforces_a_deadline_the_renderer_never_cancels() {
    let mut fx = Fixture::new("main-deadline", Main::builder()).await;
    let mut raw = fx.raw(Wire::Json).await;
    let mut call = invoke(1, "probe:block", json!([5]));
    call["timeout_ms"] = json!(200);
    raw.send_json(&call).await;
    assert_eq!(fx.probe.wait_started(1).await, [5]);
    let reply = raw.expect_reply_error(1, "timeout").await;
    assert_eq!(reply["error"]["after_ms"], 200, "{reply}");
    assert_eq!(fx.probe.wait_dropped().await, 5, "the handler was dropped");
    raw.assert_answers(2).await;
    drop(raw);
    fx.finish().await;
}

/// The renderer cancels a call whose deadline passed, whatever main does: a fake main that
/// never answers receives the `cancel`, and the caller gets `Timeout` at its deadline.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_renderer_cancels_a_call_whose_deadline_passed() {
    let (renderer, mut main) = fake_main("renderer-deadline", RendererOptions::new("r")).await;
    let client = Probe::client(&renderer);
    let call = tokio::spawn(
        client
            .block(1)
            .timeout(Duration::from_millis(150))
            .into_future(),
    );
    let frame = main.expect("an invoke").await;
    assert_eq!(frame["ch"], "probe:block", "{frame}");
    assert_eq!(frame["timeout_ms"], 150, "{frame}");
    let id = frame["id"].as_u64().unwrap();
    match within("the deadline", call).await.unwrap() {
        Err(IpcError::Timeout { after, .. }) => assert_eq!(after, Duration::from_millis(150)),
        other => panic!("expected Timeout, got {other:?}"),
    }
    assert_eq!(
        main.expect("a cancel").await,
        json!({"t": "cancel", "id": id})
    );
    assert_no_foreign_panics();
}

/// A fake main on a fresh socket: reads the renderer's hello and answers with `contracts`.
/// Returns what `Renderer::connect_unix` gave, the fake main, and the renderer's hello.
async fn main_announcing(
    name: &str,
    contracts: Value,
    options: RendererOptions,
) -> (Result<Renderer, IpcError>, RawPeer, Value) {
    install_panic_counter();
    let path = socket_path(name);
    let listener = UnixListener::bind(&path).unwrap();
    let main = async {
        let (stream, _) = listener.accept().await.unwrap();
        let mut peer = RawPeer {
            stream,
            wire: Wire::Json,
        };
        let hello = peer.expect("the renderer's hello").await;
        peer.send_json(&json!({
            "t": "hello", "protocol": 1, "role": "main", "codec": "json", "renderer": 1,
            "contracts": contracts,
        }))
        .await;
        (peer, hello)
    };
    let (renderer, (peer, hello)) = within("the handshake", async {
        tokio::join!(
            Renderer::connect_unix(&path, options.codec(Codec::Json)),
            main
        )
    })
    .await;
    let _ = std::fs::remove_file(&path);
    (renderer, peer, hello)
}

/// A renderer that never declared its contract at connect time (no `RendererOptions::contract`)
/// is still checked: the generated client declares it, and against a main that announced
/// another version every call and send fails before anything is written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_generated_client_refuses_a_main_with_another_version_of_its_contract() {
    let contracts = json!({"probe": "00000000deadbeef", "todos": Todos::contract_hash()});
    let (renderer, mut peer, hello) =
        main_announcing("client-contract", contracts, RendererOptions::new("r")).await;
    assert!(hello["contracts"].get("probe").is_none(), "{hello}");
    let renderer = renderer.unwrap();
    match renderer.declare_contract(Probe::schema()) {
        Err(IpcError::VersionMismatch { ours, theirs }) => {
            assert!(ours.contains(Probe::contract_hash()), "{ours}");
            assert!(theirs.contains("00000000deadbeef"), "{theirs}");
        }
        other => panic!("expected VersionMismatch, got {other:?}"),
    }
    let probe = Probe::client(&renderer);
    assert!(matches!(
        within("the refused call", probe.echo(1)).await,
        Err(IpcError::VersionMismatch { .. })
    ));
    assert!(matches!(
        probe.note("refused".into()),
        Err(IpcError::VersionMismatch { .. })
    ));
    // The contract main has in the same version is served as usual: its invoke is the first
    // frame main sees (nothing of the refused contract went out).
    let todos = Todos::client(&renderer);
    let count = tokio::spawn(async move { todos.count().await });
    let invoke = peer.expect("the todos invoke").await;
    assert_eq!(invoke["ch"], "todos:count", "{invoke}");
    peer.send_json(&json!({"t": "reply", "id": invoke["id"], "ok": 3}))
        .await;
    assert_eq!(within("the count", count).await.unwrap().unwrap(), 3);
}

/// The renderer checks main's contract hashes itself: a main built from another version of a
/// contract the renderer declared is refused, naming both hashes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_renderer_refuses_a_main_with_another_version_of_its_contract() {
    let options = RendererOptions::new("r").contract(Probe::schema());
    let contracts = json!({"probe": "00000000deadbeef"});
    let (result, _peer, hello) = main_announcing("renderer-contract", contracts, options).await;
    assert_eq!(
        hello["contracts"]["probe"],
        Probe::contract_hash(),
        "{hello}"
    );
    match result {
        Err(error @ IpcError::VersionMismatch { .. }) => {
            let text = error.to_string();
            assert!(text.contains("00000000deadbeef"), "{text}");
            assert!(text.contains(Probe::contract_hash()), "{text}");
        }
        other => panic!("expected VersionMismatch, got {other:?}"),
    }
}
