//! Argument decoding: the input decoded as the argument tuple of every channel of the fuzz
//! contract (`ipc_fuzz::contract`: every serde enum representation, `flatten`, `Option`, `Vec`,
//! maps, `Bytes`, nested and recursive structs), with both codecs, as main decodes a call's
//! arguments. Oracles:
//!
//! - no panic, and each decoding stays within the allocation bound (`ipc_fuzz::alloc`): linear
//!   in the input, except for the types with a recursive untagged enum (serde clones buffered
//!   content at every nesting level: `NESTED_PER_BYTE`);
//! - what decodes encodes again (same codec, and JSON values on the binary codec too), and that
//!   decodes again, to a value that serializes the same (compared as `serde_json::Value`, which
//!   sees through map order and untagged variants that serialize alike). Not for the channels
//!   with `Untagged`: its variants overlap (`[0]` is a `List` of a `Number` and also, serde
//!   accepting a sequence with the variant's index as tag, an internally tagged `Unit`), so
//!   which one a value decodes as may change in a round trip;
//! - the MessagePack pre-check (`__fuzz::msgpack_check`) agrees with rmp's own parser: a value
//!   the check accepts parses to its end; one it refuses does not, unless it nests deeper than
//!   the check allows.
#![no_main]

use ipc_fuzz::alloc::{NESTED_PER_BYTE, PER_BYTE};
use ipc_fuzz::contract::Fuzz;
use ipc_runtime::{Codec, EventChannel, InvokeChannel, SendChannel};
use libfuzzer_sys::fuzz_target;
use serde::Serialize;
use serde::de::DeserializeOwned;

fuzz_target!(|data: &[u8]| {
    msgpack_agrees(data);
    let d = data;
    invoke(Fuzz::EXTERNAL, d, PER_BYTE, SAME);
    invoke(Fuzz::INTERNAL, d, PER_BYTE, SAME);
    invoke(Fuzz::ADJACENT, d, PER_BYTE, SAME);
    invoke(Fuzz::UNTAGGED, d, NESTED_PER_BYTE, AMBIGUOUS);
    invoke(Fuzz::FLAT, d, PER_BYTE, SAME);
    invoke(Fuzz::MAPS, d, PER_BYTE, SAME);
    invoke(Fuzz::BLOB, d, PER_BYTE, SAME);
    invoke(Fuzz::NESTED, d, PER_BYTE, SAME);
    invoke(Fuzz::NOTHING, d, PER_BYTE, SAME);
    invoke(Fuzz::WAIT, d, PER_BYTE, SAME);
    invoke(Fuzz::EMIT, d, NESTED_PER_BYTE, AMBIGUOUS);
    invoke(Fuzz::PANICS, d, PER_BYTE, SAME);
    send(Fuzz::NOTE, d, PER_BYTE, SAME);
    event(Fuzz::CHANGED, d, NESTED_PER_BYTE, AMBIGUOUS);
});

/// A round trip gives a value that serializes the same.
const SAME: bool = true;
/// A round trip may give another variant of an untagged enum.
const AMBIGUOUS: bool = false;

fn invoke<A, T, E>(channel: InvokeChannel<A, T, E>, data: &[u8], per_byte: usize, same: bool)
where
    A: DeserializeOwned + Serialize,
{
    decode::<A>(channel.name(), data, per_byte, same);
}

fn send<A>(channel: SendChannel<A>, data: &[u8], per_byte: usize, same: bool)
where
    A: DeserializeOwned + Serialize,
{
    decode::<A>(channel.name(), data, per_byte, same);
}

fn event<A>(channel: EventChannel<A>, data: &[u8], per_byte: usize, same: bool)
where
    A: DeserializeOwned + Serialize,
{
    decode::<A>(channel.name(), data, per_byte, same);
}

/// Decodes `data` as `A` with both codecs (what main does with a call's arguments).
fn decode<A: DeserializeOwned + Serialize>(
    channel: &str,
    data: &[u8],
    per_byte: usize,
    same: bool,
) {
    for codec in [Codec::Json, Codec::Binary] {
        let decoded = ipc_fuzz::alloc::check(channel, data, per_byte, || codec.decode::<A>(data));
        let Ok(value) = decoded else {
            continue;
        };
        let expected = as_json(channel, &value);
        let expected = same.then_some(&expected);
        round_trip(channel, codec, &value, expected);
        if codec == Codec::Json {
            // Whatever a JavaScript peer can send, a Rust peer can send too.
            round_trip(channel, Codec::Binary, &value, expected);
        }
    }
}

fn round_trip<A: DeserializeOwned + Serialize>(
    channel: &str,
    codec: Codec,
    value: &A,
    expected: Option<&serde_json::Value>,
) {
    let encoded = codec
        .encode(value)
        .unwrap_or_else(|e| panic!("{channel}: a decoded value did not encode as {codec:?}: {e}"));
    let again = codec.decode::<A>(&encoded).unwrap_or_else(|e| {
        panic!("{channel}: a decoded value, encoded as {codec:?}, did not decode again: {e}")
    });
    let Some(expected) = expected else {
        return;
    };
    let again = as_json(channel, &again);
    assert!(
        &again == expected,
        "{channel}: the value changed in a round trip through {codec:?}: {expected} became {again}"
    );
}

fn as_json<A: Serialize>(channel: &str, value: &A) -> serde_json::Value {
    serde_json::to_value(value)
        .unwrap_or_else(|e| panic!("{channel}: a decoded value has no JSON form: {e}"))
}

/// The pre-check against rmp's parser.
fn msgpack_agrees(data: &[u8]) {
    use serde::Deserialize;
    let checked = ipc_runtime::__fuzz::msgpack_check(data);
    let parsed = {
        let mut decoder = rmp_serde::Deserializer::new(std::io::Cursor::new(data));
        match serde::de::IgnoredAny::deserialize(&mut decoder) {
            Ok(_) => decoder.position() == data.len() as u64,
            Err(_) => false,
        }
    };
    match checked {
        Ok(()) => assert!(
            parsed,
            "the check accepted what rmp cannot parse: {data:02x?}"
        ),
        Err(reason) => assert!(
            !parsed || reason.contains("nesting deeper"),
            "the check refused what rmp parses ({reason}): {data:02x?}"
        ),
    }
}
