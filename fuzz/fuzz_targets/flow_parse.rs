//! `cargo fuzz run flow_parse`: see `lambdaflow_fuzz::targets::flow_parse` for what is checked.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| lambdaflow_fuzz::targets::flow_parse(data));
