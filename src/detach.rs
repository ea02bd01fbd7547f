//! Work a hook call starts but must not wait for (the spool's drain without a time limit,
//! a sync with the team server): this same binary again, in a session of its own, with no
//! terminal, stdin from /dev/null and its output to the log. The hook returns at once; the
//! child outlives it.

use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};

/// Starts `flowhook <args>` detached, in `dir` when given (where it resolves its project).
pub fn spawn(args: &[&str], dir: Option<&std::path::Path>) -> std::io::Result<()> {
    let exe = std::env::current_exe()?;
    let log = crate::paths::state_dir().join("flowhook.log");
    crate::paths::private_dir(&crate::paths::state_dir())?;
    let out = crate::paths::open_append(&log)?;
    let err = out.try_clone()?;
    let mut cmd = Command::new(exe);
    cmd.args(args).stdin(Stdio::null()).stdout(out).stderr(err);
    if let Some(dir) = dir.filter(|d| d.is_dir()) {
        cmd.current_dir(dir);
    }
    // SAFETY: setsid is async-signal-safe and is all the child does before exec.
    unsafe {
        cmd.pre_exec(|| {
            libc::setsid();
            Ok(())
        });
    }
    cmd.spawn().map(drop)
}
