//! Fuzz target for `flowhook::understand`: one hook input, parsed and normalised as a hook
//! call does, with no database. It must never panic, whatever the bytes.
//!
//! Input layout, to cover both invocation styles:
//! - no 0x00 byte: all the bytes are stdin, no arguments (the bare binary, JSON on stdin);
//! - otherwise the bytes before the first 0x00 are split on spaces into the arguments
//!   (claude-flow style: `hooks pre-task --description x`), lossily decoded as UTF-8 as `run`
//!   does with `args_os`, and the bytes after it are stdin (possibly empty).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (args, stdin): (Vec<String>, &[u8]) = match data.iter().position(|&b| b == 0) {
        None => (Vec::new(), data),
        Some(nul) => {
            let args = data[..nul]
                .split(|&b| b == b' ')
                .filter(|w| !w.is_empty())
                .map(|w| String::from_utf8_lossy(w).into_owned())
                .collect();
            (args, &data[nul + 1..])
        }
    };
    // Ok or Err are both fine; only a panic (or a hang, or unbounded memory) is a bug.
    let _ = flowhook::understand(stdin, &args);
});
