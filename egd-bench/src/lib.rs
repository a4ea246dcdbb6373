//! Harness support for the `egd` binary and the benches.
