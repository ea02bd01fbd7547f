//! One module per command. Hook calls go through `hook`; the rest are for people.

pub mod bench;
pub mod context;
pub mod doctor;
pub mod hook;
pub mod install;
pub mod memory;
pub mod prune;
pub mod rebuild;
pub mod replay;
pub mod schema;
pub mod sessions;
pub mod spool;
#[cfg(feature = "team")]
pub mod sync;
#[cfg(feature = "team")]
pub mod team;
pub mod trust;

/// `println!` for a person: the whole line goes through [`crate::text::Shown`], so that no
/// stored text (a prompt, a path, a memory value) reaches the terminal raw. JSON output uses
/// `println!`: serde escapes what JSON must, and a program reads it.
macro_rules! say {
    ($($t:tt)*) => { println!("{}", $crate::text::Shown::text(format_args!($($t)*))) };
}

/// `print!` for a person (text that brings its own line breaks), as `say!`.
macro_rules! say_part {
    ($($t:tt)*) => { print!("{}", $crate::text::Shown::text(format_args!($($t)*))) };
}

/// `eprintln!` for a person, as `say!`.
macro_rules! tell {
    ($($t:tt)*) => { eprintln!("{}", $crate::text::Shown::text(format_args!($($t)*))) };
}

pub use crate::setup::{Setup, project_named};
pub(crate) use {say, say_part, tell};

/// A debugging command's failure: printed as one line, exit code 2.
pub type Result = std::result::Result<(), String>;

/// The typed errors a command meets become that line, their message, where `?` passes them
/// up (the only place they turn into words).
macro_rules! said_as_line {
    ($($error:ty),* $(,)?) => {$(
        impl From<$error> for String {
            fn from(e: $error) -> String {
                e.to_string()
            }
        }
    )*};
}
said_as_line!(crate::setup::SetupError, crate::show::FindError);
#[cfg(feature = "mcp")]
said_as_line!(crate::mcp::ServeError);
#[cfg(feature = "team")]
said_as_line!(crate::sync::SyncError, crate::sync::seal::SealError);
#[cfg(feature = "agents")]
said_as_line!(crate::install::agents::NoUserFile);

/// The error of a command this binary was built without (`cargo build --no-default-features`).
#[cfg(not(all(feature = "team", feature = "mcp", feature = "ui")))]
pub fn without(what: &str, feature: &str) -> String {
    format!(
        "this flowhook was built without {what} (cargo feature `{feature}`): hook calls record \
         locally as always; use a build with it"
    )
}

/// A current-thread runtime: one event needs no more, and it starts in microseconds.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime without drivers cannot fail to build")
}

/// A runtime with its I/O and timer drivers, for what talks to a server (sync, doctor's
/// ping): the hook's own runtime has none, and a deadline without a timer panics.
pub fn network_runtime() -> std::result::Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))
}

/// The current project's identity and where it comes from, for a person.
pub fn identity_text(s: &crate::sync::share::Sharing) -> String {
    use crate::project::IdKind;
    let from = match s.identity {
        IdKind::Pinned => "pinned by [project.ids] in your hooks.toml",
        IdKind::Remote => "from its git remote `origin`",
        IdKind::Configured => "from project.id",
        IdKind::Path => "its path: this machine only",
    };
    format!("{} ({from})", s.project)
}

/// Whether the current project is shared, and why, for a person.
pub fn shared_text(s: &crate::sync::share::Sharing) -> String {
    format!("{}: {}", if s.shared { "yes" } else { "no" }, s.why)
}

/// A progress line for a person: redrawn in place on a terminal, silent in a pipe or a log.
pub struct Progress {
    live: bool,
}

impl Progress {
    pub fn new(wanted: bool) -> Progress {
        use std::io::IsTerminal;
        Progress {
            live: wanted && std::io::stderr().is_terminal(),
        }
    }

    pub fn show(&self, line: &str) {
        if self.live {
            eprint!("\r\x1b[Kflowhook: {line}");
        }
    }

    /// Clears the line before the command's own output.
    pub fn done(&self) {
        if self.live {
            eprint!("\r\x1b[K");
        }
    }
}
