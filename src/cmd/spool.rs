//! `flowhook spool`: events waiting to be stored, and why.

use crate::cli::SpoolArgs;

pub fn run(args: SpoolArgs) -> super::Result {
    let entries = crate::spool::all();
    if args.json {
        for (file, entry) in &entries {
            let value = match entry {
                Ok(e) => serde_json::json!({"file": file, "db": e.db, "received_at": e.received_at,
                    "reason": e.reason, "bytes": e.payload.len()}),
                Err(err) => serde_json::json!({"file": file, "error": err}),
            };
            println!("{value}");
        }
        return Ok(());
    }
    if entries.is_empty() {
        println!("The spool is empty: every event reached its database.");
        return Ok(());
    }
    println!(
        "{} events wait in the spool (the next successful hook call for their database stores them):",
        entries.len()
    );
    for (file, entry) in &entries {
        match entry {
            Ok(e) => println!(
                "  {}  {} bytes for {}\n      because: {}",
                e.received_at,
                e.payload.len(),
                e.db.display(),
                e.reason
            ),
            Err(err) => println!("  {} is unreadable: {err}", file.display()),
        }
    }
    Ok(())
}
