//! `#[bytes]` where it means nothing: on a field holding no `Vec<u8>`, with arguments, or on a
//! field that says itself how it crosses.

#[ipc_runtime::data]
#[derive(serde::Serialize, serde::Deserialize)]
pub struct Upload {
    #[bytes]
    pub name: String,
    #[bytes]
    pub samples: Vec<u16>,
    #[bytes(base64)]
    pub data: Vec<u8>,
    #[bytes]
    #[serde(with = "serde_bytes_like")]
    #[ts(type = "Uint8Array")]
    pub told: Vec<u8>,
}

mod serde_bytes_like {
    pub fn serialize<S: serde::Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(v)
    }
    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        serde::Deserialize::deserialize(d)
    }
}

fn main() {}
