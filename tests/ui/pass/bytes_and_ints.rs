//! Inside `#[data]` types: a `Vec<u8>` declared `#[bytes]` crosses as bytes (a `Uint8Array`,
//! raw on the binary codec and base64 on JSON), through containers and enum variants; small
//! integers are described with their type (`number /* u16 */`), so JavaScript checks their
//! range wherever they are nested, while a map's keys, flattened fields and fields that say
//! themselves how they cross are left as they were.

use std::collections::BTreeMap;

use ipc_runtime::{Codec, Main, RendererOptions, channels};

#[ipc_runtime::data]
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Thumbnail {
    #[bytes]
    pub png: Vec<u8>,
    #[bytes]
    pub frames: Option<Vec<Vec<u8>>>,
    /// Not declared: an array of numbers.
    pub palette: Vec<u8>,
    pub size: (u16, u16),
    pub tags: BTreeMap<u32, Vec<i8>>,
    #[ts(type = "number")]
    pub told: u32,
    #[serde(flatten)]
    pub extra: BTreeMap<String, u32>,
}

#[ipc_runtime::data]
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind")]
pub enum Attachment {
    Image { thumbnail: Thumbnail },
    Raw {
        #[bytes]
        data: Vec<u8>,
    },
}

#[channels(namespace = "gallery")]
pub trait Gallery {
    async fn store(&self, attachment: Attachment) -> Attachment;
}

struct Backend;

impl GalleryHandler for Backend {
    async fn store(&self, _: &ipc_runtime::Caller, attachment: Attachment) -> Attachment {
        attachment
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let schema = Gallery::schema();
    let thumbnail = &schema.types["Thumbnail"].declaration;
    for expected in [
        "png: Uint8Array",
        "frames: Array<Uint8Array> | null",
        "palette: Array<number /* u8 */>",
        "size: [number /* u16 */, number /* u16 */]",
        "tags: { [key in number]: Array<number /* i8 */> }",
        "told: number,",
    ] {
        assert!(thumbnail.contains(expected), "{expected} in {thumbnail}");
    }
    let attachment = &schema.types["Attachment"].declaration;
    assert!(attachment.contains("data: Uint8Array"), "{attachment}");

    let thumbnail = Thumbnail {
        png: vec![0x89, b'P', b'N', b'G'],
        frames: Some(vec![vec![1], vec![]]),
        palette: vec![7],
        size: (640, 480),
        tags: BTreeMap::from([(1, vec![-1])]),
        told: 3,
        extra: BTreeMap::from([("more".to_string(), 4)]),
    };
    let json = serde_json::to_value(&thumbnail).unwrap();
    assert_eq!(json["png"], "iVBORw==");
    assert_eq!(json["frames"], serde_json::json!(["AQ==", ""]));
    assert_eq!(json["palette"], serde_json::json!([7]));
    assert_eq!(json["more"], 4);
    assert_eq!(serde_json::from_value::<Thumbnail>(json).unwrap(), thumbnail);
    // Raw on the binary codec: a MessagePack bin (0xc4, the length, the bytes).
    let raw = Codec::Binary.encode(&thumbnail).unwrap();
    assert!(raw.windows(6).any(|w| w == [0xc4, 4, 0x89, b'P', b'N', b'G']));
    assert_eq!(Codec::Binary.decode::<Thumbnail>(&raw).unwrap(), thumbnail);

    let main = Main::new();
    let _registration = Gallery::handle(&main, Backend).unwrap();
    let renderer = main.connect_in_process(RendererOptions::new("r"));
    let client = Gallery::client(&renderer);
    let sent = Attachment::Image { thumbnail };
    assert_eq!(client.store(sent.clone()).await, Ok(sent));
    let raw = Attachment::Raw { data: vec![1, 2, 3] };
    assert_eq!(client.store(raw.clone()).await, Ok(raw));
}
