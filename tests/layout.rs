//! The module graph of `src/` has no cycles: at top-level-module granularity (`src/x.rs` and
//! `src/x/**` are one module `x`), every `crate::x` path (in `use` lines, groups such as
//! `use crate::{a, b}`, and inline paths) and every `super::x` of a top-level file is an edge.
//! A cycle fails the test and is printed with the files that make each of its edges, so the
//! one who adds it sees where to cut.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Edges `from → to`, each with the files that make it.
type Graph = BTreeMap<String, BTreeMap<String, BTreeSet<String>>>;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src/ is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of a file without its comments (doc comments name paths that are no imports).
fn code(text: &str) -> String {
    text.lines()
        .map(|l| match l.find("//") {
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn ident_at(s: &str) -> Option<&str> {
    let end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    (end > 0).then(|| &s[..end])
}

/// The top-level modules `code` names after `prefix` (`crate::`, or `super::` in a file
/// directly under src/): `prefix x`, and each first name in `prefix {x::.., y}`.
fn named_after(code: &str, prefix: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = code;
    while let Some(i) = rest.find(prefix) {
        let before = rest[..i].chars().next_back();
        rest = &rest[i + prefix.len()..];
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':') {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            // Only the group's own first names: `{a::{b, c}, d}` names a and d.
            let mut depth = 0;
            let mut start = true;
            for (j, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => start = true,
                    c if c.is_whitespace() => {}
                    _ if start && depth == 0 => {
                        if let Some(name) = ident_at(&group[j..]) {
                            names.insert(name.to_owned());
                        }
                        start = false;
                    }
                    _ => {}
                }
            }
        } else if let Some(name) = ident_at(rest) {
            names.insert(name.to_owned());
        }
    }
    names
}

fn graph(src: &Path) -> Graph {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let module_of = |p: &Path| -> Option<String> {
        let rel = p.strip_prefix(src).ok()?;
        let first = rel.components().next()?.as_os_str().to_str()?;
        let name = first.strip_suffix(".rs").unwrap_or(first);
        (!matches!(name, "lib" | "main")).then(|| name.to_owned())
    };
    let modules: BTreeSet<String> = files.iter().filter_map(|f| module_of(f)).collect();
    let mut g = Graph::new();
    for file in &files {
        let Some(from) = module_of(file) else {
            continue;
        };
        let text = code(&std::fs::read_to_string(file).expect("a readable source file"));
        let mut names = named_after(&text, "crate::");
        if file.parent() == Some(src) {
            names.extend(named_after(&text, "super::"));
        }
        for to in names {
            if to != from && modules.contains(&to) {
                let shown = file.strip_prefix(src).unwrap().display().to_string();
                g.entry(from.clone())
                    .or_default()
                    .entry(to)
                    .or_default()
                    .insert(shown);
            }
        }
    }
    g
}

/// The strongly connected components of more than one module (Tarjan's algorithm).
fn cycles(g: &Graph) -> Vec<Vec<String>> {
    struct Walk<'a> {
        g: &'a Graph,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        found: Vec<Vec<String>>,
    }
    impl<'a> Walk<'a> {
        fn visit(&mut self, v: &'a str) {
            let i = self.index.len();
            self.index.insert(v, i);
            self.low.insert(v, i);
            self.stack.push(v);
            self.on_stack.insert(v);
            for w in self.g.get(v).into_iter().flat_map(|e| e.keys()) {
                let w = w.as_str();
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let low = self.low[v].min(self.low[w]);
                    self.low.insert(v, low);
                } else if self.on_stack.contains(w) {
                    let low = self.low[v].min(self.index[w]);
                    self.low.insert(v, low);
                }
            }
            if self.low[v] == self.index[v] {
                let mut component = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on_stack.remove(w);
                    component.push(w.to_owned());
                    if w == v {
                        break;
                    }
                }
                if component.len() > 1 {
                    component.sort();
                    self.found.push(component);
                }
            }
        }
    }
    let mut walk = Walk {
        g,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for v in g.keys() {
        if !walk.index.contains_key(v.as_str()) {
            walk.visit(v);
        }
    }
    walk.found
}

fn describe(g: &Graph, component: &[String]) -> String {
    let inside: BTreeSet<&String> = component.iter().collect();
    let mut lines = vec![format!("cycle among {}:", component.join(", "))];
    for from in component {
        for (to, files) in g.get(from).into_iter().flatten() {
            if inside.contains(to) {
                let files: Vec<&str> = files.iter().map(String::as_str).collect();
                lines.push(format!("  {from} -> {to}  ({})", files.join(", ")));
            }
        }
    }
    lines.join("\n")
}

#[test]
fn src_modules_import_each_other_without_cycles() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let g = graph(&src);
    // The parser must see the graph at all: the hook command reaches the event module.
    assert!(
        g.get("cmd").is_some_and(|e| e.contains_key("event")),
        "no edge cmd -> event found: the scan of src/ reads nothing"
    );
    let found = cycles(&g);
    let shown: Vec<String> = found.iter().map(|c| describe(&g, c)).collect();
    assert!(
        found.is_empty(),
        "import cycles among src/ modules:\n{}",
        shown.join("\n")
    );
}

#[test]
fn the_scan_finds_a_cycle_and_group_imports() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path();
    std::fs::create_dir_all(src.join("b")).unwrap();
    std::fs::write(src.join("a.rs"), "use crate::{x::y, b::{c, d}};\n").unwrap();
    std::fs::write(src.join("x.rs"), "// crate::a is a comment\n").unwrap();
    std::fs::write(src.join("b/mod.rs"), "fn f() { crate::c::g(); }\n").unwrap();
    std::fs::write(src.join("c.rs"), "use super::a;\n").unwrap();
    let g = graph(src);
    let found = cycles(&g);
    assert_eq!(found, vec![vec!["a", "b", "c"]], "{g:?}");
    assert!(!g.contains_key("x"), "a comment is no import: {g:?}");
}
