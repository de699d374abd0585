//! Caller identity: the label, origin, frame URL and renderer id a renderer connected with reach
//! every handler (invoke and send) as `&Caller`, and match what `Main` lists.

mod common;

use common::{Probe, ProbeBackend, within};
use ipc_runtime::{Main, RendererOptions};

#[tokio::test]
async fn the_caller_identity_reaches_invoke_handlers() {
    let main = Main::new();
    let (backend, mut control) = ProbeBackend::new();
    let _registration = Probe::handle(&main, backend).unwrap();
    let web = main.connect_in_process(
        RendererOptions::new("settings")
            .origin("app://settings")
            .frame_url("app://settings/index.html#general"),
    );
    let native = main.connect_in_process(RendererOptions::new("worker"));

    let answer = Probe::client(&web).whoami().await.unwrap();
    assert_eq!(
        answer,
        format!(
            "settings|app://settings|app://settings/index.html#general|{}",
            web.id().get()
        )
    );
    let caller = within("the caller", control.callers.recv()).await.unwrap();
    assert_eq!(caller.renderer(), web.id());
    assert_eq!(caller.label(), "settings");
    assert_eq!(caller.origin(), Some("app://settings"));
    assert_eq!(
        caller.frame_url(),
        Some("app://settings/index.html#general")
    );
    assert_eq!(Some(caller), main.renderer(web.id()), "as main lists it");

    let answer = Probe::client(&native).whoami().await.unwrap();
    assert_eq!(answer, format!("worker|-|-|{}", native.id().get()));
    let caller = within("the caller", control.callers.recv()).await.unwrap();
    assert_eq!(caller.renderer(), native.id());
    assert_eq!(caller.origin(), None);
    assert_eq!(caller.frame_url(), None);
    assert_ne!(web.id(), native.id());
}

#[tokio::test]
async fn the_caller_identity_reaches_send_listeners() {
    let main = Main::new();
    let (backend, mut control) = ProbeBackend::new();
    let _registration = Probe::handle(&main, backend).unwrap();
    let a = main.connect_in_process(RendererOptions::new("a").origin("app://a"));
    let b = main.connect_in_process(RendererOptions::new("b").frame_url("file:///b.html"));

    Probe::client(&a).note("from a".into()).unwrap();
    let (caller, line) = within("a's note", control.notes.recv()).await.unwrap();
    assert_eq!(line, "from a");
    assert_eq!(caller.renderer(), a.id());
    assert_eq!((caller.label(), caller.origin()), ("a", Some("app://a")));

    Probe::client(&b).note("from b".into()).unwrap();
    let (caller, line) = within("b's note", control.notes.recv()).await.unwrap();
    assert_eq!(line, "from b");
    assert_eq!(caller.renderer(), b.id());
    assert_eq!(caller.frame_url(), Some("file:///b.html"));
}

#[tokio::test]
async fn many_renderers_each_see_their_own_identity() {
    let main = Main::new();
    let (backend, _control) = ProbeBackend::new();
    let _registration = Probe::handle(&main, backend).unwrap();
    let renderers: Vec<_> = (0..8)
        .map(|i| {
            main.connect_in_process(
                RendererOptions::new(format!("window-{i}")).origin(format!("app://w{i}")),
            )
        })
        .collect();
    let calls = renderers.iter().map(|r| {
        let client = Probe::client(r);
        async move { client.whoami().await.unwrap() }
    });
    let answers = futures_util::future::join_all(calls).await;
    for (i, (answer, renderer)) in answers.iter().zip(&renderers).enumerate() {
        assert_eq!(
            answer,
            &format!("window-{i}|app://w{i}|-|{}", renderer.id().get())
        );
    }
}

#[tokio::test]
async fn caller_debug_and_renderer_id_display() {
    let main = Main::new();
    let renderer = main.connect_in_process(RendererOptions::new("w").origin("app://w"));
    let caller = main.renderer(renderer.id()).unwrap();
    let id = renderer.id().get();
    assert_eq!(renderer.id().to_string(), format!("renderer#{id}"));
    assert_eq!(
        format!("{caller:?}"),
        format!(
            "Caller {{ renderer: {id}, label: \"w\", origin: \"app://w\", peer: InProcess, grant: \
             Grant {{ contracts: None, capabilities: {{}} }} }}"
        )
    );
}
