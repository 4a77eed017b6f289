//! `cargo fuzz run message_json`: see `lambdaflow_fuzz::targets::message_json` for what is checked.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| lambdaflow_fuzz::targets::message_json(data));
