//! A message on a capability's port (a call or cancel from a holder, an answer from an object),
//! as the binary codec and as JSON carry it. Oracles: no panic, within the allocation bound
//! (`ipc_fuzz::alloc`), and each hand reader agrees with serde's reading of the same bytes
//! (`__fuzz::capability_message`): the object's (a call read by hand, its method judged before
//! its arguments decode, refusals for calls that cannot run) and the holder's (an answer read
//! by hand down to its value).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let read = ipc_fuzz::alloc::check("capability", data, ipc_fuzz::alloc::PER_BYTE, || {
        ipc_runtime::__fuzz::capability_message(data)
    });
    if let Err(differ) = read {
        panic!("{differ}: {data:02x?}");
    }
});
