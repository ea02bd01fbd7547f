//! One module per command. Hook calls go through `hook`; the rest are for people.

pub mod hook;
pub mod replay;
pub mod schema;
pub mod spool;

/// A debugging command's failure: printed as one line, exit code 2.
pub type Result = std::result::Result<(), String>;

/// A current-thread runtime: one event needs no more, and it starts in microseconds.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime without drivers cannot fail to build")
}
