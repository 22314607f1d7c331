//! Misuse of `#[rpc::service]` fails to compile with a message that says what to do.

#[test]
fn misuse_is_rejected_with_clear_messages() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}
