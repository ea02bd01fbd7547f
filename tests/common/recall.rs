//! What recall handed out, read off a hook's answer: shared by the recall evaluations.

use std::collections::BTreeSet;

/// Every session a context names: each line's `session 3f2a1b2c`, and the sessions folded
/// into it (`(the same in session 1a2b3c4d, 5e6f7a8b)`).
pub fn sessions_in(context: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in context.lines() {
        for part in line.split("session ").skip(1) {
            for id in part.split(", ") {
                let id: String = id.chars().take(8).collect();
                if id.len() == 8 && id.chars().all(|c| c.is_ascii_hexdigit()) {
                    out.insert(id);
                }
                if !part.starts_with(|c: char| c.is_ascii_hexdigit()) {
                    break;
                }
            }
        }
    }
    out
}
