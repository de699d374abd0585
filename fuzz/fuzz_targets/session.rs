//! A whole session against a real `Main` serving the fuzz contract (`ipc_fuzz::session`): a
//! valid hello, then the input as the renderer's stream. Main must not panic, must not hang and
//! must keep to the renderer's frame limit.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    ipc_fuzz::session::run(data);
});
