//! `cargo fuzz run payload_v2`: see `lambdaflow_fuzz::targets::payload_v2` for what is checked.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| lambdaflow_fuzz::targets::payload_v2(data));
