//! The checks behind lambdaflow's fuzz targets, shared with the stable regression test
//! (`tests/fuzz_regressions.rs` compiles `targets.rs` itself).

pub mod targets;
