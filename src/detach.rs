//! Work a hook call starts but must not wait for (the spool's drain without a hook's time
//! limit, a sync with the team server): this same binary again, in a session of its own, with
//! no terminal, stdin from /dev/null and its output to the log. The hook returns at once; the
//! child outlives it, but not its own deadline: an alarm set before `exec` (alarms survive
//! it) ends it with SIGALRM whatever it is doing, so that nothing a database or a server
//! does can keep it running.

use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::Duration;

/// Starts `flowhook <args>` detached, in `dir` when given (where it resolves its project),
/// ended after `limit` at the latest.
pub fn spawn(args: &[&str], dir: Option<&std::path::Path>, limit: Duration) -> std::io::Result<()> {
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
    let mut child = start(cmd, limit)?;
    // A long-lived caller (the MCP server, the viewer) would keep each child that ended as a
    // zombie until it exits itself: a thread waits for it. (A hook call exits first.)
    let _ = std::thread::Builder::new()
        .name("detached".into())
        .spawn(move || child.wait());
    Ok(())
}

/// Starts `cmd` in a session of its own, ended by SIGALRM after `limit` (whole seconds, at
/// least one).
fn start(mut cmd: Command, limit: Duration) -> std::io::Result<std::process::Child> {
    let seconds = limit.as_secs().clamp(1, u64::from(u32::MAX)) as libc::c_uint;
    // SAFETY: setsid and alarm are async-signal-safe and are all the child does before exec.
    unsafe {
        cmd.pre_exec(move || {
            libc::setsid();
            libc::alarm(seconds);
            Ok(())
        });
    }
    cmd.spawn()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::ExitStatusExt;

    #[test]
    fn a_detached_process_ends_at_its_deadline_whatever_it_does() {
        let started = std::time::Instant::now();
        let mut sleep = Command::new("sleep");
        sleep.arg("30");
        let mut child = start(sleep, Duration::from_secs(1)).unwrap();
        let status = child.wait().unwrap();
        assert_eq!(status.signal(), Some(libc::SIGALRM));
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}
