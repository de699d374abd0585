//! Doc comments on the trait, on every kind of method and on data types end up in the schema, and
//! every generated public item is documented (`missing_docs` is denied).
#![deny(missing_docs)]

use ipc_runtime::{Caller, Main, RendererOptions, channels};

/// A note.
///
/// Notes have a body.
#[ipc_runtime::data]
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Note {
    /// The note's id.
    pub id: u32,
    /// What it says.
    pub body: String,
}

/// Notes backend.
///
/// Second paragraph of the trait docs.
#[channels(namespace = "notes")]
pub trait Notes {
    /// Creates a note.
    ///
    /// Returns the note with its new id.
    async fn create(&self, body: String) -> Note;
    /// Writes a log line.
    #[send]
    fn log(&self, line: String);
    /// A note changed.
    #[event]
    fn changed(&self, note: Note);
    /// Lists the notes.
    #[rename = "list-all"]
    async fn list(&self) -> Vec<Note>;
}

struct Backend;

impl NotesHandler for Backend {
    async fn create(&self, _caller: &Caller, body: String) -> Note {
        Note { id: 1, body }
    }

    async fn log(&self, _caller: &Caller, _line: String) {}

    async fn list(&self, _caller: &Caller) -> Vec<Note> {
        Vec::new()
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let main = Main::new();
    let _registration = Notes::handle(&main, Backend).unwrap();
    let client = NotesClient::new(main.connect_in_process(RendererOptions::new("window")));
    let note = client.create("hello".to_string()).await.unwrap();
    assert_eq!(
        note,
        Note {
            id: 1,
            body: "hello".to_string()
        }
    );
    assert_eq!(client.list().await.unwrap(), Vec::new());

    let schema = Notes::schema();
    assert_eq!(
        schema.docs,
        "Notes backend.\n\nSecond paragraph of the trait docs."
    );
    let docs: Vec<&str> = schema.methods.iter().map(|m| m.docs.as_str()).collect();
    assert_eq!(
        docs,
        [
            "Creates a note.\n\nReturns the note with its new id.",
            "Writes a log line.",
            "A note changed.",
            "Lists the notes.",
        ]
    );
    assert_eq!(schema.methods[3].channel, "notes:list-all");
    let decl = &schema.types["Note"];
    assert!(
        decl.docs.as_deref().unwrap_or("").contains("A note."),
        "{decl:?}"
    );
    assert!(decl.declaration.contains("body"), "{decl:?}");
}
