//! `flowhook mcp` (the MCP server, in `mcp/`) and `flowhook memory`: agent memory from the
//! command line, the same store the server's remember / recall_key / forget use.

use super::{Setup, say, tell};
use crate::cli::MemoryCommand;
use crate::store::Slot;
use crate::text::Shown;

#[cfg(feature = "mcp")]
pub fn mcp(args: crate::cli::McpArgs) -> super::Result {
    let setup = Setup::resolve(&args.common)?;
    Ok(crate::mcp::serve(setup, args.read_only, args.any_project)?)
}

pub fn run(command: MemoryCommand) -> super::Result {
    let now = chrono::Utc::now();
    let stamp = crate::time::Time::at(now);
    match command {
        MemoryCommand::Set(a) => {
            let setup = Setup::resolve(&a.common)?;
            let project = setup.project().to_owned();
            // The key is stored too, and can hold a secret as well as the value.
            let value = setup.redact(&a.value);
            let (namespace, key) = (setup.redact(&a.namespace), setup.redact(&a.key));
            let expires = a.ttl.map(|s| crate::store::expiry(now, s));
            super::runtime().block_on(async {
                let store = setup.open().await?;
                let slot = Slot {
                    project: &project,
                    namespace: &namespace,
                    key: &key,
                    agent_id: "system",
                };
                store
                    .remember(slot, &value, None, expires.as_ref(), &stamp)
                    .await
                    .map_err(|e| e.to_string())
            })?;
            setup.wrote();
            if a.json {
                println!(
                    "{}",
                    serde_json::json!({"project": project, "namespace": namespace, "key": key,
                        "value": value, "expires_at": expires.map(|e| e.into_string())})
                );
            } else {
                say!("stored {}/{} in {project}", namespace, key);
            }
            Ok(())
        }
        MemoryCommand::Get(a) => {
            let setup = Setup::resolve(&a.common)?;
            // Looked up as stored: redacted.
            let (namespace, key) = (setup.redact(&a.namespace), setup.redact(&a.key));
            let found = super::runtime().block_on(async {
                let store = setup.open_existing().await?;
                store
                    .memory_get(setup.project(), &namespace, &key, None, &stamp)
                    .await
                    .map_err(|e| e.to_string())
            })?;
            let Some(m) = found.first() else {
                return Err(format!(
                    "nothing stored under {namespace}/{key} in {}",
                    setup.project()
                ));
            };
            if a.json {
                println!("{}", serde_json::to_string(m).expect("plain data"));
            } else {
                say!("{}", m.value);
            }
            Ok(())
        }
        MemoryCommand::List(a) => {
            let setup = Setup::resolve(&a.common)?;
            let rows = super::runtime().block_on(async {
                let store = setup.open_existing().await?;
                store
                    .memory_list(setup.project(), a.namespace.as_deref(), 1000, &stamp)
                    .await
                    .map_err(|e| e.to_string())
            })?;
            if a.json {
                println!("{}", serde_json::to_string(&rows).expect("plain data"));
            } else if rows.is_empty() {
                tell!("flowhook: no agent memory in {}", setup.project());
            } else {
                for m in &rows {
                    // One value a line, whatever it holds.
                    say!(
                        "{}/{}  {}  ({} at {})",
                        Shown::line(&m.namespace),
                        Shown::line(&m.key),
                        Shown::line(&m.value),
                        Shown::line(&m.agent_id),
                        Shown::line(&m.updated_at)
                    );
                }
            }
            Ok(())
        }
        MemoryCommand::Delete(a) => {
            let setup = Setup::resolve(&a.common)?;
            let (namespace, key) = (setup.redact(&a.namespace), setup.redact(&a.key));
            let n = super::runtime().block_on(async {
                let store = setup.open_existing().await?;
                store
                    .forget(setup.project(), &namespace, &key, None)
                    .await
                    .map_err(|e| e.to_string())
            })?;
            if n > 0 {
                setup.wrote();
            }
            if a.json {
                println!("{}", serde_json::json!({"deleted": n}));
            } else {
                say!("deleted {n} value(s) of {}/{}", namespace, key);
            }
            Ok(())
        }
    }
}
