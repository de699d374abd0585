//! The first frame of a connection as main reads it (a hello, or an error refusing it): no
//! panic, within the allocation bound (`ipc_fuzz::alloc`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    ipc_fuzz::alloc::check("handshake", data, ipc_fuzz::alloc::PER_BYTE, || {
        ipc_runtime::__fuzz::handshake(data)
    });
});
