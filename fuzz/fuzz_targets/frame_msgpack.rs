//! A MessagePack frame body (the msgpack codec): decoded, and when it decodes, encoded and
//! decoded again; the two decodings must agree. Decoding stays within the allocation bound
//! (`ipc_fuzz::alloc`).
#![no_main]

use ipc_runtime::__fuzz::frame_round_trip;
use ipc_runtime::Codec;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let outcome = ipc_fuzz::alloc::check("frame_msgpack", data, ipc_fuzz::alloc::PER_BYTE, || {
        frame_round_trip(Codec::MessagePack, data)
    });
    if let Err(failure) = outcome {
        panic!("frame_msgpack round trip: {failure}");
    }
});
