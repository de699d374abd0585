//! Time values in a contract: described as `Date` (timestamps) and `number` (durations), carried
//! in one wire form whatever their crate, through containers, enum variants and tuple fields;
//! a type of one's own named `Timestamp`, and a field that says itself how it crosses, are left
//! alone.

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ipc_runtime::{Main, RendererOptions, channels};

/// Not jiff's: the macro recognises that one only by its path (`jiff::Timestamp`).
#[ipc_runtime::data]
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Timestamp {
    pub label: String,
}

#[ipc_runtime::data]
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind")]
pub enum Entry {
    Once { at: chrono::DateTime<chrono::Utc> },
    Every { from: time::OffsetDateTime, every: jiff::SignedDuration },
    Stamp(Timestamp),
}

#[ipc_runtime::data]
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Agenda(
    pub Vec<Entry>,
    pub HashMap<String, [Option<jiff::Timestamp>; 2]>,
    // Says itself how it crosses: serde's own form, described by hand.
    #[serde(with = "seconds")]
    #[ts(type = "number")]
    pub SystemTime,
);

mod seconds {
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    pub fn serialize<S: serde::Serializer>(at: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(at.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs())
    }
    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<SystemTime, D::Error> {
        let secs: u64 = serde::Deserialize::deserialize(d)?;
        Ok(UNIX_EPOCH + Duration::from_secs(secs))
    }
}

/// A missing `Option` time field reads as `None`, as any other missing `Option` field does.
#[ipc_runtime::data]
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Alarm {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snoozed_until: Option<SystemTime>,
    pub label: Option<String>,
}

#[channels(namespace = "agenda")]
pub trait Calendar {
    async fn plan(&self, agenda: Agenda, at: (SystemTime, u8), wait: Option<Duration>) -> Agenda;
    async fn now(&self) -> Result<SystemTime, String>;
}

struct Backend;

impl CalendarHandler for Backend {
    async fn plan(&self, _: &ipc_runtime::Caller, agenda: Agenda, _: (SystemTime, u8), _: Option<Duration>) -> Agenda {
        agenda
    }
    async fn now(&self, _: &ipc_runtime::Caller) -> Result<SystemTime, String> {
        Ok(UNIX_EPOCH - Duration::from_nanos(1))
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let schema = Calendar::schema();
    let plan = &schema.methods[0];
    let types: Vec<&str> = plan.params.iter().map(|p| p.ty.ts.as_str()).collect();
    assert_eq!(types, ["Agenda", "[Date, number]", "number | null"]);
    let agenda = &schema.types["Agenda"].declaration;
    assert!(agenda.contains("{ [key in string]: [Date | null, Date | null] }"), "{agenda}");
    assert!(agenda.ends_with("number];"), "{agenda}");
    let entry = &schema.types["Entry"].declaration;
    assert!(entry.contains("at: Date") && entry.contains("every: number"), "{entry}");
    assert_eq!(schema.methods[1].output.as_ref().unwrap().ts, "Date");

    let main = Main::new();
    let _registration = Calendar::handle(&main, Backend).unwrap();
    let renderer = main.connect_in_process(RendererOptions::new("r"));
    let client = Calendar::client(&renderer);
    assert_eq!(client.now().await, Ok(UNIX_EPOCH - Duration::from_nanos(1)));

    let agenda = Agenda(
        vec![
            Entry::Once { at: chrono::DateTime::from_timestamp(-1, 5).unwrap() },
            Entry::Stamp(Timestamp { label: "mine".into() }),
        ],
        HashMap::from([("a".to_string(), [None, Some(jiff::Timestamp::UNIX_EPOCH)])]),
        UNIX_EPOCH + Duration::from_secs(7),
    );
    let json = serde_json::to_value(&agenda).unwrap();
    assert_eq!(json[0][0]["at"], "1969-12-31T23:59:59.000000005Z");
    assert_eq!(json[1]["a"][1], "1970-01-01T00:00:00Z");
    assert_eq!(json[2], 7);
    assert_eq!(serde_json::from_value::<Agenda>(json).unwrap(), agenda);

    let quiet = Alarm { snoozed_until: None, label: None };
    assert_eq!(serde_json::to_string(&quiet).unwrap(), r#"{"label":null}"#);
    assert_eq!(serde_json::from_str::<Alarm>("{}").unwrap(), quiet);
}
