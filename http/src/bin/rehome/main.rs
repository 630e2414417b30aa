//! The `rehome` command.
fn main() {}
