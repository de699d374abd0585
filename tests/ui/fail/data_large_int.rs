//! A 64-bit integer nested in a `#[data]` type is an error naming the field, unless the type
//! opts in or the field says how it crosses.

#[ipc_runtime::data]
#[derive(serde::Serialize, serde::Deserialize)]
pub struct Stat {
    pub name: String,
    pub size: u64,
    pub history: Option<Vec<i64>>,
    // Crosses as a string: fine.
    #[ts(type = "string")]
    #[serde(with = "as_text")]
    pub inode: u64,
    #[serde(skip)]
    pub cached: usize,
}

#[ipc_runtime::data]
#[derive(serde::Serialize, serde::Deserialize)]
pub struct Pair(pub u32, pub isize);

#[ipc_runtime::data]
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind")]
pub enum Change {
    Grew { by: u128 },
    Moved { to: u32 },
}

#[ipc_runtime::data(large_ints = "string")]
#[derive(serde::Serialize, serde::Deserialize)]
pub struct Later {
    pub n: u32,
}

mod as_text {
    pub fn serialize<S: serde::Serializer>(n: &u64, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(n)
    }
    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        let text: String = serde::Deserialize::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

fn main() {}
