//! Running a test alone in a child process, for the few tests that measure the whole process
//! (its resident memory): in this binary every other test may be running alongside them, and
//! what those allocate would count against the measured test.

use std::process::Command;

/// Set in the child process to the name of the test it runs alone.
const ALONE: &str = "SYNC_ENGINE_TEST_ALONE";

/// Runs the test `name` (its path in this binary, `intake::a_test`) alone in a child process of
/// this test binary, and returns `true` once it passed there: the caller then returns. In that
/// child process it returns `false`, and the caller goes on with the test itself. A failure in
/// the child fails the calling test with the child's output.
pub fn run_alone(name: &str) -> bool {
    if std::env::var_os(ALONE).is_some_and(|alone| alone == name) {
        return false;
    }
    let binary = std::env::current_exe().expect("the test binary's path");
    let output = Command::new(binary)
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(ALONE, name)
        .output()
        .unwrap_or_else(|e| panic!("the test binary runs again for {name}: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{name}, alone in a child process, failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    // Exactly this one test ran: a renamed test would otherwise pass without running.
    assert!(
        stdout.contains("test result: ok. 1 passed"),
        "{name} did not run in the child process:\n{stdout}\n{stderr}"
    );
    // The child's own report (its figures) in this test's output.
    eprint!("{stderr}");
    true
}
