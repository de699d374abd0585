//! The byte-stream reader (length prefixes, chunk reassembly, refusals) with small limits, so
//! that chunks, oversized frames and oversized messages all happen: the messages a stream
//! carries must not depend on how its bytes arrive.
//!
//! Input: two header bytes choosing read sizes, then the stream. Byte 0: a read size of 1 when
//! its top bit is set, else 1 to 128. Byte 1: 1 to 4336 bytes per read. Both readings must equal
//! the reading in one piece (reads as large as the reader asks for), which stays within the
//! allocation bound (`ipc_fuzz::alloc`). One allowance: the error for text where a length
//! prefix belongs quotes the text buffered so far, which depends on the reads; it is compared
//! without its quote.
#![no_main]

use ipc_fuzz::session::{MAIN_MAX_FRAME, MAIN_MAX_MESSAGE};
use ipc_runtime::__fuzz::read_messages;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let [small, large, stream @ ..] = data else {
        return;
    };
    let small = if small & 0x80 != 0 {
        1
    } else {
        1 + usize::from(small & 0x7f)
    };
    let large = 1 + usize::from(*large) * 17;
    let read = |step| {
        normalize(read_messages(
            stream,
            step,
            MAIN_MAX_FRAME,
            MAIN_MAX_MESSAGE,
        ))
    };
    let whole = ipc_fuzz::alloc::check("stream", stream, ipc_fuzz::alloc::PER_BYTE, || {
        read(usize::MAX)
    });
    for step in [small, large] {
        let stepped = read(step);
        assert!(
            stepped == whole,
            "reads of {step} bytes gave\n{stepped:?}\nbut reading in one piece gave\n{whole:?}"
        );
    }
});

/// The messages with the text error's quote (the bytes buffered when the reader gave up) left
/// out.
fn normalize(mut messages: Vec<Result<Vec<u8>, String>>) -> Vec<Result<Vec<u8>, String>> {
    const TEXT: &str = "the peer wrote text where a frame belongs (";
    for message in &mut messages {
        if let Err(error) = message
            && error.starts_with(TEXT)
        {
            *error = format!("{TEXT}…)");
        }
    }
    messages
}
