//! `flowhook schema`: JSON Schemas generated from the very types the hook parses and prints.

use crate::cli::SchemaArgs;

fn schemas() -> Vec<(&'static str, schemars::Schema)> {
    use crate::event::wire;
    vec![
        ("payload", schemars::schema_for!(wire::Payload<'static>)),
        ("edit-input", schemars::schema_for!(wire::EditInput)),
        ("edit-response", schemars::schema_for!(wire::EditResponse)),
        ("agent-input", schemars::schema_for!(wire::AgentInput)),
        ("agent-response", schemars::schema_for!(wire::AgentResponse)),
        ("answer", schemars::schema_for!(crate::answer::Answer)),
        ("metrics", schemars::schema_for!(crate::summary::Metrics)),
        ("config", schemars::schema_for!(crate::config::Config)),
    ]
}

pub fn run(args: SchemaArgs) -> super::Result {
    let all = schemas();
    let json = match args.name.as_deref() {
        None => serde_json::Value::Object(
            all.into_iter()
                .map(|(n, s)| (n.to_owned(), s.to_value()))
                .collect(),
        ),
        Some(name) => {
            let names: Vec<&str> = all.iter().map(|(n, _)| *n).collect();
            all.into_iter()
                .find(|(n, _)| *n == name)
                .ok_or_else(|| format!("no schema named {name:?}; names: {}", names.join(", ")))?
                .1
                .to_value()
        }
    };
    println!(
        "{}",
        serde_json::to_string_pretty(&json).expect("schemas serialise")
    );
    Ok(())
}
