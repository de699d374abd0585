//! Main and two renderers: a window in this process, and a child process on its stdio.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use ipc_runtime::{Bytes, CallError, Main, Renderer, RendererOptions};
use notes_app::{Backend, NoteError, Notes};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    if std::env::args().nth(1).as_deref() == Some("renderer") {
        return child().await;
    }
    let main = Main::new();
    let backend = Arc::new(Backend::new(Notes::events(&main)));
    let _registration = Notes::handle(&main, backend.clone())?;

    let window = Notes::client(&main.connect_in_process(RendererOptions::new("window")));
    let mut added = window.on_added();
    let note = window.add("hello".into()).await?;
    assert_eq!(window.get(note.id).await?, note);
    match window.get(99).await {
        Err(CallError::App(NoteError::NotFound { id: 99 })) => {}
        other => return Err(format!("expected NotFound, got {other:?}").into()),
    }
    assert_eq!(window.attach(note.id, Bytes::from(vec![1, 2, 3])).await?, 3);
    assert_eq!(added.next().await.transpose()?.map(|n| n.text), Some("hello".into()));

    let mut command = tokio::process::Command::new(std::env::current_exe()?);
    command.arg("renderer");
    let mut child = main.spawn_renderer(command).await?;
    // The child adds a note: the window hears of it.
    let from_child = tokio::time::timeout(Duration::from_secs(10), added.next())
        .await?
        .transpose()?
        .ok_or("the event stream ended")?;
    assert_eq!(from_child.text, "from the child");
    let status = child.wait().await?;
    assert!(status.success(), "the child exited with {status}");
    let logs = backend.logs.lock().unwrap().clone();
    assert_eq!(logs, ["child: done"]);
    println!("notes-app: main, a window and a child renderer agree ({} notes)", from_child.id);
    Ok(())
}

async fn child() -> Result<(), BoxError> {
    let renderer =
        Renderer::connect_stdio(RendererOptions::new("child").contract(Notes::schema())).await?;
    let notes = Notes::client(&renderer);
    notes.add("from the child".into()).await?;
    notes.log("done".into())?;
    // Dropping the renderer closes the connection; what it sent before is handled first.
    drop(notes);
    drop(renderer);
    Ok(())
}
