//! Bad port input over a real Unix socket (`docs/PROTOCOL.md` §7.1): a raw client writes port
//! frames a well-behaved peer never would (unknown ports, ports transferred twice or with the
//! wrong parity, messages past the credit granted, an overflowing credit, messages after a
//! close, more ports than allowed), and a fake main does the same to a real renderer. Each is
//! answered with a typed error or a reasoned close of the port; the connection survives and the
//! well-behaved renderer of the fixture is served throughout.

mod common;

use common::raw::*;
use common::{Probe, within};
use ipc_runtime::{DEFAULT_PORT_WINDOW, Main};
use serde_json::{Value, json};

const WINDOW: u64 = DEFAULT_PORT_WINDOW as u64;

fn upload(id: u64, channel: &str, port: u64) -> Value {
    json!({"t": "invoke", "id": id, "ch": channel, "args": [{"$ipc": "stream", "port": port}],
        "ports": [port]})
}

/// Reads frames until one `matches`; returns it (the others are checked to be harmless).
async fn until(raw: &mut RawPeer, what: &str, matches: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..1000 {
        let frame = raw.expect(what).await;
        if matches(&frame) {
            return frame;
        }
        // Credits and stream items may come in between.
        assert!(
            ["credit", "port", "reply", "close"].contains(&frame["t"].as_str().unwrap_or("")),
            "unexpected while waiting for {what}: {frame}"
        );
    }
    panic!("{what} never came");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frames_for_ports_that_are_not_open_are_protocol_errors() {
    let fx = Fixture::new("ports-unknown", Main::builder()).await;
    let mut raw = fx.raw(Wire::Json).await;
    for frame in [
        json!({"t": "port", "port": 99, "data": 1}),
        json!({"t": "credit", "port": 99, "n": 1}),
        json!({"t": "close", "port": 99}),
        json!({"t": "port", "port": 0, "data": 1}),
    ] {
        raw.send_json(&frame).await;
        let error = raw.expect_error("protocol").await;
        assert!(
            error["error"]["message"]
                .as_str()
                .unwrap()
                .contains("not open"),
            "{frame} → {error}"
        );
    }
    // A transfer list on a frame without a payload names ports nothing would open.
    for frame in [
        json!({"t": "credit", "port": 99, "n": 1, "ports": [1]}),
        json!({"t": "close", "port": 99, "ports": [1]}),
    ] {
        raw.send_json(&frame).await;
        let error = raw.expect_error("protocol").await;
        let message = error["error"]["message"].as_str().unwrap();
        assert!(message.contains("transfers no ports"), "{frame} → {error}");
    }
    raw.assert_answers(1).await;
    drop(raw);
    fx.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_port_cannot_be_transferred_twice_or_with_the_wrong_id() {
    let fx = Fixture::new("ports-twice", Main::builder()).await;
    let mut raw = fx.raw(Wire::Json).await;
    // A proper upload on port 1: three items, then the end.
    raw.send_json(&upload(1, "probe:drain", 1)).await;
    for n in [4, 5, 6] {
        raw.send_json(&json!({"t": "port", "port": 1, "data": n}))
            .await;
    }
    raw.send_json(&json!({"t": "close", "port": 1})).await;
    let reply = until(&mut raw, "the sum", |f| f["t"] == "reply").await;
    assert_eq!(reply["ok"], 15, "{reply}");

    // Port 1 again (not new), an even id (main's), the same id twice in one list.
    for (id, ports, words) in [
        (2, json!([1]), "transferred twice"),
        (3, json!([2]), "not an id the peer may open"),
        (4, json!([5, 5]), "transferred twice"),
    ] {
        let mut frame = upload(id, "probe:drain", 5);
        frame["ports"] = ports;
        raw.send_json(&frame).await;
        let reply = raw.expect_reply_error(id, "protocol").await;
        let message = reply["error"]["message"].as_str().unwrap();
        assert!(message.contains(words), "{message}");
    }
    // A reference to a port its frame did not transfer: the arguments do not decode.
    raw.send_json(&json!({"t": "invoke", "id": 5, "ch": "probe:drain",
        "args": [{"$ipc": "stream", "port": 7}], "ports": [9]}))
        .await;
    // Port 9 was opened by that frame and, unclaimed, closed by main (before or after the
    // reply: main releases what the failed call held as it fails it).
    let (mut refused, mut closed) = (None, None);
    while refused.is_none() || closed.is_none() {
        let frame = raw.expect("the refusal and port 9's close").await;
        match frame["t"].as_str() {
            Some("reply") => refused = Some(frame),
            Some("close") => closed = Some(frame),
            _ => panic!("unexpected: {frame}"),
        }
    }
    let (refused, closed) = (refused.unwrap(), closed.unwrap());
    assert_eq!(refused["id"], 5, "{refused}");
    assert_eq!(refused["error"]["code"], "bad_arguments", "{refused}");
    assert_eq!(closed["port"], 9, "{closed}");
    assert_eq!(closed["reason"], "not received", "{closed}");
    raw.assert_answers(6).await;
    drop(raw);
    fx.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_past_the_credit_granted_close_the_port() {
    let fx = Fixture::new("ports-credit", Main::builder()).await;
    let mut raw = fx.raw(Wire::Json).await;
    // Main holds the upload without reading: it grants nothing past the first window.
    raw.send_json(&upload(1, "probe:hold", 1)).await;
    for n in 0..=WINDOW {
        raw.send_json(&json!({"t": "port", "port": 1, "data": n}))
            .await;
    }
    let closed = until(&mut raw, "the port's close", |f| f["t"] == "close").await;
    assert_eq!(closed["port"], 1, "{closed}");
    assert_eq!(closed["error"]["code"], "protocol", "{closed}");
    assert!(
        closed["error"]["message"]
            .as_str()
            .unwrap()
            .contains("past its credit"),
        "{closed}"
    );
    // Later messages for it are dropped (main closed it); the connection goes on.
    raw.send_json(&json!({"t": "port", "port": 1, "data": 99}))
        .await;
    raw.assert_answers(2).await;
    fx.probe.release.add_permits(1);
    let reply = until(&mut raw, "hold's reply", |f| f["t"] == "reply").await;
    assert_eq!(reply["id"], 1, "{reply}");
    drop(raw);
    fx.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_overflowing_credit_closes_the_port() {
    let fx = Fixture::new("ports-overflow", Main::builder()).await;
    let mut raw = fx.raw(Wire::Json).await;
    raw.send_json(&invoke(1, "probe:ticks", json!([100_000])))
        .await;
    let reply = until(&mut raw, "the stream", |f| f["t"] == "reply").await;
    let port = reply["ok"]["port"].as_u64().unwrap();
    assert_eq!(reply["ports"], json!([port]), "{reply}");
    assert_eq!(port % 2, 0, "main opens even ports");
    // Whatever credit is left, this takes the total past what any window needs.
    raw.send_json(&json!({"t": "credit", "port": port, "n": u64::MAX}))
        .await;
    let closed = until(&mut raw, "the port's close", |f| f["t"] == "close").await;
    assert_eq!(closed["error"]["code"], "protocol", "{closed}");
    raw.assert_answers(2).await;
    drop(raw);
    fx.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_after_its_senders_close_is_a_protocol_error() {
    let fx = Fixture::new("ports-after-close", Main::builder()).await;
    let mut raw = fx.raw(Wire::Json).await;
    raw.send_json(&upload(1, "probe:hold", 1)).await;
    raw.send_json(&json!({"t": "close", "port": 1})).await;
    raw.send_json(&json!({"t": "port", "port": 1, "data": 1}))
        .await;
    let error = until(&mut raw, "the error", |f| f["t"] == "error").await;
    assert_eq!(error["error"]["code"], "protocol", "{error}");
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("after its close"),
        "{error}"
    );
    raw.assert_answers(2).await;
    fx.probe.release.add_permits(1);
    drop(raw);
    fx.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ports_past_the_limit_are_refused_and_come_back_when_closed() {
    let fx = Fixture::new("ports-limit", Main::builder().max_ports(4)).await;
    let mut raw = fx.raw(Wire::Json).await;
    for id in 1..=4u64 {
        raw.send_json(&upload(id, "probe:hold", 2 * id - 1)).await;
    }
    raw.send_json(&upload(5, "probe:hold", 9)).await;
    let refused = raw.expect_reply_error(5, "too_many_ports").await;
    assert_eq!(refused["error"]["limit"], 4, "{refused}");
    assert_eq!(
        fx.main
            .open_ports(fx.main.renderers()[1].renderer())
            .map(|n| n <= 4),
        Some(true)
    );
    // Closing one makes room for the next.
    raw.send_json(&json!({"t": "close", "port": 1})).await;
    fx.probe.release.add_permits(4);
    for _ in 0..4 {
        until(&mut raw, "a hold reply", |f| f["t"] == "reply").await;
    }
    raw.send_json(&upload(6, "probe:drain", 11)).await;
    raw.send_json(&json!({"t": "close", "port": 11})).await;
    let reply = until(&mut raw, "drain's reply", |f| f["t"] == "reply").await;
    assert_eq!(
        (reply["id"].clone(), reply["ok"].clone()),
        (json!(6), json!(0))
    );
    drop(raw);
    fx.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_finished_stream_leaves_no_port_open() {
    let fx = Fixture::new("ports-finished", Main::builder()).await;
    let probe = Probe::client(fx.good.renderer());
    let stream = within("ticks", probe.ticks(50)).await.unwrap();
    let items: Vec<u32> = futures_util::StreamExt::collect::<Vec<_>>(stream)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(items, (0..50).collect::<Vec<_>>());
    assert_eq!(fx.good.renderer().open_ports(), 0);
    fx.finish().await;
}

/// Requests from main (`docs/PROTOCOL.md` §7.2) answered with a reply main cannot read: the
/// request ends at once with `protocol` (not at its deadline), and the connection goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreadable_answer_to_a_request_fails_it_at_once() {
    const ASK: ipc_runtime::InvokeChannel<(u32,), u32, ipc_runtime::Never> =
        ipc_runtime::InvokeChannel::new("app:ask");
    let fx = Fixture::new("request-unreadable", Main::builder()).await;
    let mut raw = fx.raw(Wire::Json).await;
    let good = fx.good.renderer().id();
    let raw_id = fx
        .main
        .renderers()
        .into_iter()
        .map(|c| c.renderer())
        .find(|id| *id != good)
        .unwrap();
    for answer in [
        json!({"t": "reply"}),                    // no ok, no error
        json!({"ok": 1, "error": {"code": "x"}}), // both
    ] {
        let request = tokio::spawn(
            fx.main
                .request(raw_id, ASK, (1,))
                .timeout(std::time::Duration::from_secs(60)),
        );
        let invoke = raw.expect("main's request").await;
        assert_eq!(invoke["t"], "invoke", "{invoke}");
        let mut reply = answer.clone();
        reply["t"] = json!("reply");
        reply["id"] = invoke["id"].clone();
        raw.send_json(&reply).await;
        match within("the failed request", request).await.unwrap() {
            Err(ipc_runtime::CallError::Ipc(ipc_runtime::IpcError::Protocol { .. })) => {}
            other => panic!("{reply} → expected a protocol error, got {other:?}"),
        }
    }
    raw.assert_answers(3).await;
    drop(raw);
    fx.finish().await;
}

/// The port frame carrying `data` on `port`.
fn on_port(port: u64, data: Value) -> Value {
    json!({"t": "port", "port": port, "data": data})
}

/// The next message main sends on `port` (credits and other ports' frames are skipped).
async fn port_message(raw: &mut RawPeer, port: u64, what: &str) -> Value {
    let frame = until(raw, what, |frame| {
        frame["port"] == port && ["port", "close"].contains(&frame["t"].as_str().unwrap_or(""))
    })
    .await;
    assert_eq!(frame["t"], "port", "{what}: {frame}");
    frame["data"].clone()
}

/// A hostile holder of a capability handle (`docs/PROTOCOL.md` §7.3), speaking port frames
/// itself: a call id repeated while in flight, more calls running than a handle may have, a
/// message that is no call. Each repeated id and each call past the limit is answered with its
/// error and the object keeps serving; the message that does not decode closes the handle with
/// `protocol` and releases the object (its stalled calls dropped). The connection and the
/// well-behaved renderer are served throughout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_handle_holder_is_refused_call_by_call_then_cut_off() {
    let fx = Fixture::new("ports-handle", Main::builder()).await;
    let (state, _registration) = ipc_tests::ConformanceBackend::serve(&fx.main).unwrap();
    let mut raw = fx.raw(Wire::Json).await;
    raw.send_json(&invoke(1, "conformance:counter", json!([5])))
        .await;
    let reply = until(&mut raw, "the counter", |frame| frame["t"] == "reply").await;
    let port = reply["ok"]["port"].as_u64().expect("a handle: {reply}");
    let call = |id: u64, method: &str, args: Value| {
        on_port(
            port,
            json!({"t": "call", "id": id, "call": {"m": method, "args": args}}),
        )
    };

    raw.send_json(&call(1, "add", json!([2]))).await;
    assert_eq!(
        port_message(&mut raw, port, "add's reply").await,
        json!({"t": "reply", "id": 1, "reply": {"m": "add", "outcome": {"Ok": 7}}})
    );

    // A call that waits, then its id again while it is in flight.
    raw.send_json(&call(2, "stall", json!([]))).await;
    raw.send_json(&call(2, "add", json!([1]))).await;
    let refused = port_message(&mut raw, port, "the repeated id's refusal").await;
    assert_eq!(
        (&refused["t"], &refused["id"]),
        (&json!("error"), &json!(2))
    );
    assert_eq!(refused["error"]["code"], "protocol", "{refused}");
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("already in flight"),
        "{refused}"
    );
    // Cancelled: the stalled handler is dropped, and the id can be used again.
    raw.send_json(&on_port(port, json!({"t": "cancel", "id": 2})))
        .await;
    common::eventually("the stall to be cancelled", || {
        state.counter_stats().stalls_cancelled == 1
    })
    .await;
    raw.send_json(&call(2, "get", json!([]))).await;
    assert_eq!(
        port_message(&mut raw, port, "get's reply").await,
        json!({"t": "reply", "id": 2, "reply": {"m": "get", "outcome": {"Ok": 7}}})
    );

    // One id cancelled and used again, over and over: each new call counts, however late the
    // cancelled one ends. Then 255 more calls make 256 running, and one more is refused with
    // the limit; the object still answers (and so does the connection).
    let mut granted = WINDOW;
    let mut sent = 3; // messages on the port so far, against main's credit
    let credit = async |raw: &mut RawPeer, sent: u64, granted: &mut u64| {
        while sent >= *granted {
            let frame = until(raw, "credit", |frame| frame["t"] == "credit").await;
            *granted += frame["n"].as_u64().unwrap();
        }
    };
    for _ in 0..20 {
        for message in [
            call(500, "stall", json!([])),
            on_port(port, json!({"t": "cancel", "id": 500})),
        ] {
            credit(&mut raw, sent, &mut granted).await;
            raw.send_json(&message).await;
            sent += 1;
        }
    }
    credit(&mut raw, sent, &mut granted).await;
    raw.send_json(&call(500, "stall", json!([]))).await;
    sent += 1;
    for id in 100..355 {
        credit(&mut raw, sent, &mut granted).await;
        raw.send_json(&call(id, "stall", json!([]))).await;
        sent += 1;
    }
    raw.send_json(&call(999, "add", json!([1]))).await;
    let refused = port_message(&mut raw, port, "the call past the limit").await;
    assert_eq!(
        (&refused["t"], &refused["id"]),
        (&json!("error"), &json!(999))
    );
    assert_eq!(refused["error"]["code"], "too_many_in_flight", "{refused}");
    assert_eq!(refused["error"]["limit"], 256, "{refused}");
    raw.assert_answers(3).await;
    within("the good renderer's count", fx.good.count())
        .await
        .expect("the good renderer is served");

    // Not a call: the handle is closed with `protocol`, its object and stalled calls dropped.
    raw.send_json(&on_port(port, json!({"t": "launch", "id": 1})))
        .await;
    let closed = until(&mut raw, "the handle's close", |frame| {
        frame["t"] == "close" && frame["port"] == port
    })
    .await;
    assert_eq!(closed["error"]["code"], "protocol", "{closed}");
    common::eventually("the counter to be released", || {
        let stats = state.counter_stats();
        stats.live == 0 && stats.stalls_cancelled == 1 + 20 + 256
    })
    .await;
    raw.assert_answers(4).await;

    // A handle argument naming a port the frame does not transfer: the call is refused.
    raw.send_json(&invoke(
        5,
        "conformance:fill_sink",
        json!([{"$ipc": "port", "port": 7}, 3]),
    ))
    .await;
    let refused = until(&mut raw, "the refusal", |frame| frame["t"] == "reply").await;
    assert_eq!(refused["id"], 5, "{refused}");
    assert_eq!(refused["error"]["code"], "bad_arguments", "{refused}");
    raw.assert_answers(6).await;
    drop(raw);
    fx.finish().await;
}

/// Calls through a handle start in the order the holder sent them (`docs/PROTOCOL.md` §7.3),
/// whether the connection's reader starts them or, when the holder is slow to grant credit for
/// answers and they queue, the object's own task does: a holder that reads its answers lazily
/// makes both happen in one run. Each call adds 1 to a counter that starts at 5, so the answer
/// to call `k` must be `5 + k`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_through_a_handle_start_in_the_order_they_were_sent() {
    const CALLS: u64 = 3000;
    let fx = Fixture::new("ports-handle-order", Main::builder()).await;
    let (_state, _registration) = ipc_tests::ConformanceBackend::serve(&fx.main).unwrap();
    let mut raw = fx.raw(Wire::Json).await;
    raw.send_json(&invoke(1, "conformance:counter", json!([5])))
        .await;
    let reply = until(&mut raw, "the counter", |frame| frame["t"] == "reply").await;
    let port = reply["ok"]["port"].as_u64().expect("a handle: {reply}");
    let (mut next, mut allowed, mut answered, mut taken) = (1, WINDOW, 0, 0);
    while answered < CALLS {
        while next <= CALLS && next <= allowed {
            let call = json!({"t": "call", "id": next, "call": {"m": "add", "args": [1]}});
            raw.send_json(&on_port(port, call)).await;
            next += 1;
        }
        let frame = raw.expect("an answer or credit").await;
        match frame["t"].as_str() {
            Some("credit") if frame["port"] == port => allowed += frame["n"].as_u64().unwrap(),
            Some("port") if frame["port"] == port => {
                let data = &frame["data"];
                let id = data["id"].as_u64().unwrap();
                assert_eq!(
                    data["reply"]["outcome"]["Ok"],
                    json!(5 + id),
                    "call {id} started out of order: {frame}"
                );
                answered += 1;
                taken += 1;
                // Credit for answers comes back late and in small parts: answers queue.
                if taken == 4 {
                    raw.send_json(&json!({"t": "credit", "port": port, "n": 4}))
                        .await;
                    taken = 0;
                }
            }
            _ => panic!("unexpected: {frame}"),
        }
    }
    raw.assert_answers(2).await;
    drop(raw);
    fx.finish().await;
}
