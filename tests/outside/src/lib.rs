//! A small app's contract, as the README's first steps write it: a fallible invoke, bytes, a
//! send, an event, a struct and an enum.

use std::sync::Mutex;

use ipc_runtime::{Bytes, Caller, Target, channels, data};

/// A note.
#[data]
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Note {
    /// Its id.
    pub id: u32,
    /// Its text.
    pub text: String,
    /// How many bytes are attached.
    pub attached: u32,
}

/// Why a note call failed.
#[data]
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind")]
pub enum NoteError {
    /// No note has this id.
    NotFound {
        /// The id asked for.
        id: u32,
    },
}

/// Notes, kept by main.
#[channels(namespace = "notes")]
pub trait Notes {
    /// Adds a note.
    async fn add(&self, text: String) -> Note;
    /// One note.
    async fn get(&self, id: u32) -> Result<Note, NoteError>;
    /// Attaches bytes to a note; returns how many it holds now.
    async fn attach(&self, id: u32, data: Bytes) -> Result<u32, NoteError>;
    /// A line for main's log.
    #[send]
    fn log(&self, line: String);
    /// A note was added (by any renderer).
    #[event]
    fn added(&self, note: Note);
}

/// Main's notes.
pub struct Backend {
    notes: Mutex<Vec<Note>>,
    /// Log lines received, with their renderer's label.
    pub logs: Mutex<Vec<String>>,
    events: NotesEvents,
}

impl Backend {
    /// A backend that announces new notes through `events`.
    pub fn new(events: NotesEvents) -> Self {
        Backend {
            notes: Mutex::new(Vec::new()),
            logs: Mutex::new(Vec::new()),
            events,
        }
    }
}

impl NotesHandler for Backend {
    async fn add(&self, _caller: &Caller, text: String) -> Note {
        let note = {
            let mut notes = self.notes.lock().unwrap();
            let note = Note {
                id: notes.len() as u32 + 1,
                text,
                attached: 0,
            };
            notes.push(note.clone());
            note
        };
        self.events.added(Target::All, note.clone());
        note
    }

    async fn get(&self, _caller: &Caller, id: u32) -> Result<Note, NoteError> {
        let notes = self.notes.lock().unwrap();
        notes
            .iter()
            .find(|n| n.id == id)
            .cloned()
            .ok_or(NoteError::NotFound { id })
    }

    async fn attach(&self, _caller: &Caller, id: u32, data: Bytes) -> Result<u32, NoteError> {
        let mut notes = self.notes.lock().unwrap();
        let note = notes
            .iter_mut()
            .find(|n| n.id == id)
            .ok_or(NoteError::NotFound { id })?;
        note.attached += data.len() as u32;
        Ok(note.attached)
    }

    async fn log(&self, caller: &Caller, line: String) {
        self.logs
            .lock()
            .unwrap()
            .push(format!("{}: {line}", caller.label()));
    }
}
