//! The end-to-end demo: both simulators in-process, a simulated warehouse day through the engine.

fn main() {
    println!(
        "The end-to-end demo arrives with the sync engine (see README.md, 'Status'). \
         Until then this binary only says so."
    );
}
