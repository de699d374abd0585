//! Events (main to renderers) end to end with the generated emitter and client: to every
//! renderer, to one renderer by id, to a `Target::filter` selection, with zero, one and two
//! arguments; dropping a stream unsubscribes; a stream ends when main disconnects its renderer.

mod common;

use common::{Todo, Todos, TodosClient, eventually, within};
use futures_util::StreamExt;
use ipc_runtime::{EventStream, Main, Renderer, RendererOptions, Target};

fn todo(id: u32) -> Todo {
    Todo {
        id,
        title: format!("todo {id}"),
        done: false,
    }
}

async fn next<T: 'static>(stream: &mut EventStream<T>) -> T {
    within("an event", stream.next())
        .await
        .expect("the stream ended early")
        .expect("no event was missed")
}

fn connect(main: &Main, label: &str) -> (Renderer, TodosClient) {
    let renderer = main.connect_in_process(RendererOptions::new(label));
    let client = Todos::client(&renderer);
    (renderer, client)
}

#[tokio::test]
async fn an_event_to_all_reaches_every_subscribed_renderer() {
    let main = Main::new();
    let (_a, client_a) = connect(&main, "a");
    let (_b, client_b) = connect(&main, "b");
    let mut changes_a = client_a.on_changed();
    let mut changes_b = client_b.on_changed();
    let mut changes_b_again = client_b.on_changed();

    let events = Todos::events(&main);
    assert_eq!(events.changed(Target::All, todo(1)), 2, "queued for two");
    assert_eq!(next(&mut changes_a).await, todo(1));
    assert_eq!(next(&mut changes_b).await, todo(1));
    assert_eq!(next(&mut changes_b_again).await, todo(1), "every stream");
}

#[tokio::test]
async fn events_arrive_in_the_order_they_were_emitted() {
    let main = Main::new();
    let (_a, client) = connect(&main, "a");
    let mut changes = client.on_changed();
    let events = Todos::events(&main);
    for id in 0..100 {
        events.changed(Target::All, todo(id));
    }
    for id in 0..100 {
        assert_eq!(next(&mut changes).await, todo(id));
    }
}

#[tokio::test]
async fn an_event_to_one_renderer_by_id_reaches_only_that_renderer() {
    let main = Main::new();
    let (a, client_a) = connect(&main, "a");
    let (b, client_b) = connect(&main, "b");
    let mut changes_a = client_a.on_changed();
    let mut changes_b = client_b.on_changed();
    let events = Todos::events(&main);

    assert_eq!(events.changed(b.id(), todo(1)), 1);
    assert_eq!(events.changed(Target::Renderer(a.id()), todo(2)), 1);
    assert_eq!(events.changed(Target::All, todo(3)), 2);

    // Each renderer's events arrive in order, so the next one after a targeted event shows
    // whether the renderer saw the other's.
    assert_eq!(next(&mut changes_a).await, todo(2));
    assert_eq!(next(&mut changes_a).await, todo(3));
    assert_eq!(next(&mut changes_b).await, todo(1));
    assert_eq!(next(&mut changes_b).await, todo(3));

    let both = Target::Renderers(vec![a.id(), b.id()]);
    assert_eq!(events.changed(both, todo(4)), 2);
    assert_eq!(next(&mut changes_a).await, todo(4));
    assert_eq!(next(&mut changes_b).await, todo(4));
}

#[tokio::test]
async fn an_event_to_a_filter_reaches_the_renderers_it_selects() {
    let main = Main::new();
    let (_s1, settings_1) = connect(&main, "settings-1");
    let (_s2, settings_2) = connect(&main, "settings-2");
    let editor_renderer =
        main.connect_in_process(RendererOptions::new("editor").origin("app://editor"));
    let editor = Todos::client(&editor_renderer);
    let mut s1 = settings_1.on_changed();
    let mut s2 = settings_2.on_changed();
    let mut ed = editor.on_changed();
    let events = Todos::events(&main);

    let settings = Target::filter(|caller| caller.label().starts_with("settings"));
    assert_eq!(events.changed(settings, todo(1)), 2);
    let by_origin = Target::filter(|caller| caller.origin() == Some("app://editor"));
    assert_eq!(events.changed(by_origin, todo(2)), 1);
    assert_eq!(events.changed(Target::filter(|_| false), todo(3)), 0);

    assert_eq!(next(&mut s1).await, todo(1));
    assert_eq!(next(&mut s2).await, todo(1));
    assert_eq!(next(&mut ed).await, todo(2), "the editor missed the first");
    events.changed(Target::All, todo(4));
    assert_eq!(next(&mut s1).await, todo(4), "settings missed the second");
    assert_eq!(next(&mut s2).await, todo(4));
    assert_eq!(next(&mut ed).await, todo(4));
}

#[tokio::test]
async fn events_with_zero_one_and_two_arguments() {
    let main = Main::new();
    let (_r, client) = connect(&main, "a");
    let mut cleared: EventStream<()> = client.on_cleared();
    let mut changed: EventStream<Todo> = client.on_changed();
    let mut renamed: EventStream<(u32, String)> = client.on_renamed();
    let events = Todos::events(&main);

    assert_eq!(events.cleared(Target::All), 1);
    assert_eq!(events.changed(Target::All, todo(7)), 1);
    assert_eq!(events.renamed(Target::All, 7, "new title".into()), 1);

    assert_eq!(next(&mut cleared).await, ());
    assert_eq!(next(&mut changed).await, todo(7));
    assert_eq!(next(&mut renamed).await, (7, "new title".to_string()));
    assert_eq!(cleared.channel(), "todos:cleared");
    assert_eq!(renamed.channel(), "todos:renamed");
}

#[tokio::test]
async fn streams_only_see_their_own_channel() {
    let main = Main::new();
    let (_r, client) = connect(&main, "a");
    let mut cleared = client.on_cleared();
    let mut changed = client.on_changed();
    let events = Todos::events(&main);

    events.changed(Target::All, todo(1));
    events.cleared(Target::All);
    events.changed(Target::All, todo(2));
    assert_eq!(next(&mut changed).await, todo(1));
    assert_eq!(next(&mut changed).await, todo(2));
    assert_eq!(next(&mut cleared).await, ());
}

#[tokio::test]
async fn the_low_level_subscribe_gets_the_argument_tuple() {
    let main = Main::new();
    let (renderer, _client) = connect(&main, "a");
    let mut changed = renderer.subscribe(Todos::CHANGED);
    let mut renamed = renderer.subscribe(Todos::RENAMED);
    main.emit(Todos::CHANGED, Target::All, (todo(1),));
    main.emit(Todos::RENAMED, Target::All, (1, "x".to_string()));
    assert_eq!(next(&mut changed).await, (todo(1),));
    assert_eq!(next(&mut renamed).await, (1, "x".to_string()));
}

#[tokio::test]
async fn dropping_a_stream_unsubscribes() {
    let main = Main::new();
    let (renderer, client) = connect(&main, "a");
    let channel = Todos::CHANGED.name();
    assert_eq!(renderer.subscription_count(channel), 0);

    let first = client.on_changed();
    let mut second = client.on_changed();
    assert_eq!(renderer.subscription_count(channel), 2);
    assert_eq!(renderer.subscription_count(Todos::CLEARED.name()), 0);

    drop(first);
    assert_eq!(renderer.subscription_count(channel), 1);
    Todos::events(&main).changed(Target::All, todo(1));
    assert_eq!(
        next(&mut second).await,
        todo(1),
        "the other stream lives on"
    );

    drop(second);
    assert_eq!(renderer.subscription_count(channel), 0);
    // Emitting with no subscriber is harmless: the renderer is still connected, so the event
    // is queued for it (and dropped when it arrives).
    assert_eq!(Todos::events(&main).changed(Target::All, todo(2)), 1);
    assert_eq!(renderer.subscription_count(channel), 0);
}

#[tokio::test]
async fn a_stream_ends_when_main_disconnects_its_renderer() {
    let main = Main::new();
    let (a, client_a) = connect(&main, "a");
    let (_b, client_b) = connect(&main, "b");
    let mut changes_a = client_a.on_changed();
    let mut cleared_a = client_a.on_cleared();
    let mut changes_b = client_b.on_changed();

    assert!(main.disconnect(a.id()));
    assert_eq!(within("stream end", changes_a.next()).await, None);
    assert_eq!(within("stream end", cleared_a.next()).await, None);
    assert_eq!(a.subscription_count(Todos::CHANGED.name()), 0);

    // A subscription made after the disconnect ends at once.
    let mut late = client_a.on_changed();
    assert_eq!(within("stream end", late.next()).await, None);

    // The other renderer still gets events.
    eventually("main forgets the renderer", || {
        main.renderer(a.id()).is_none()
    })
    .await;
    assert_eq!(Todos::events(&main).changed(Target::All, todo(1)), 1);
    assert_eq!(next(&mut changes_b).await, todo(1));
}

#[tokio::test]
async fn a_stream_ends_when_main_shuts_down() {
    let main = Main::new();
    let (_a, client) = connect(&main, "a");
    let mut changes = client.on_changed();
    main.shutdown();
    assert_eq!(within("stream end", changes.next()).await, None);
}

#[tokio::test]
async fn a_handler_can_answer_only_its_caller_with_an_event() {
    use ipc_runtime::Caller;

    struct Backend {
        events: common::TodosEvents,
    }
    impl common::TodosHandler for Backend {
        async fn add(&self, caller: &Caller, title: String) -> Todo {
            let todo = Todo {
                id: 1,
                title,
                done: false,
            };
            self.events.changed(caller, todo.clone());
            todo
        }
        async fn try_add(&self, _: &Caller, _: String) -> Result<Todo, common::TodoError> {
            unimplemented!()
        }
        async fn toggle(&self, _: &Caller, _: u32) -> Result<Todo, common::TodoError> {
            unimplemented!()
        }
        async fn list(&self, _: &Caller) -> Vec<Todo> {
            Vec::new()
        }
        async fn count(&self, _: &Caller) -> u32 {
            0
        }
        async fn rename(&self, _: &Caller, _: u32, _: String) -> Result<(), common::TodoError> {
            Ok(())
        }
        async fn clear(&self, _: &Caller) {}
        async fn log(&self, _: &Caller, _: String) {}
    }

    let main = Main::new();
    let _registration = Todos::handle(
        &main,
        Backend {
            events: Todos::events(&main),
        },
    )
    .unwrap();
    let (_a, client_a) = connect(&main, "a");
    let (_b, client_b) = connect(&main, "b");
    let mut changes_a = client_a.on_changed();
    let mut changes_b = client_b.on_changed();

    let added = client_b.add("from b".into()).await.unwrap();
    Todos::events(&main).changed(Target::All, todo(9));
    assert_eq!(next(&mut changes_b).await, added);
    assert_eq!(next(&mut changes_a).await, todo(9), "a never saw b's event");
}
