//! UI tests of the `#[channels]` and `#[data]` macros: programs that must not compile (with their
//! exact diagnostics in `ui/fail/*.stderr`) and programs that must compile and run.
//!
//! Regenerate the expected diagnostics with `TRYBUILD=overwrite cargo test -p ipc-tests --test ui`
//! and read every changed `.stderr` before committing it.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("ui/fail/*.rs");
    t.pass("ui/pass/*.rs");
}
