//! The searchable parts of a task text: its words and the files it names. Pure.

/// How a file is named in the task text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileMention {
    /// As written: `src/auth.rs`, `auth.rs`, `auth`.
    pub text: String,
    /// `auth.rs` for `src/auth.rs`.
    pub basename: String,
    /// `auth` for `src/auth.rs`: stems match `auth.ts` too.
    pub stem: String,
    /// Whether the text gave a directory too (a stronger signal).
    pub has_dir: bool,
}

/// The searchable parts of a task text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    /// Lower-case words, stopwords and numbers removed, at most `MAX_TERMS`. A file the text
    /// names contributes only its stem (`src/auth.rs` → `auth`): directories and extensions
    /// (`src`, `rs`) are in every path, and files are matched through their own index.
    pub terms: Vec<String>,
    pub files: Vec<FileMention>,
}

const MAX_TERMS: usize = 24;

const STOPWORDS: &[&str] = &[
    "a", "about", "after", "again", "all", "also", "an", "and", "any", "are", "as", "at", "be",
    "been", "before", "but", "by", "can", "could", "did", "do", "does", "done", "for", "from",
    "get", "got", "had", "has", "have", "he", "her", "here", "him", "his", "how", "i", "if", "in",
    "into", "is", "it", "its", "just", "let", "like", "make", "me", "more", "my", "need", "no",
    "not", "now", "of", "on", "one", "only", "or", "our", "out", "please", "so", "some", "that",
    "the", "their", "them", "then", "there", "these", "they", "this", "those", "to", "too", "up",
    "us", "use", "was", "we", "were", "what", "when", "where", "which", "while", "who", "why",
    "will", "with", "would", "you", "your",
];

impl Query {
    /// Whether one of the task text's file mentions is `path`, its basename or its stem.
    pub fn mentions_file(&self, path: &str) -> bool {
        let basename = path.rsplit(['/', '\\']).next().unwrap_or(path);
        let stem = basename.rsplit_once('.').map_or(basename, |(s, _)| s);
        self.files.iter().any(|f| {
            (f.has_dir && path.ends_with(&f.text)) || f.basename == basename || f.stem == stem
        })
    }

    pub fn parse(text: &str) -> Query {
        let mut q = Query::default();
        let mut searchable = String::with_capacity(text.len());
        for raw in text.split(|c: char| c.is_whitespace() || "\"'`()[]{}<>,;!?".contains(c)) {
            let token = raw.trim_matches(|c: char| ".:".contains(c));
            match file_mention(token) {
                Some(file) => {
                    searchable.push_str(&file.stem);
                    if !q.files.contains(&file) {
                        q.files.push(file);
                    }
                }
                None => searchable.push_str(raw),
            }
            searchable.push(' ');
        }
        // Words as the index's tokenizer (unicode61) sees them: letters and digits, so
        // `refresh_token` is two words. The index stems them (porter) on both sides.
        for word in searchable.split(|c: char| !c.is_alphanumeric()) {
            let w = word.to_lowercase();
            if w.chars().count() < 2
                || w.chars().all(|c| c.is_ascii_digit())
                || STOPWORDS.contains(&w.as_str())
            {
                continue;
            }
            if !q.terms.contains(&w) && q.terms.len() < MAX_TERMS {
                q.terms.push(w);
            }
        }
        q
    }
}

impl Query {
    /// Whether the task text names `path`: one of its file mentions is the path, its basename
    /// or its stem, or one of its words is a word of the path (`knowledge` in
    /// `global-hooks/knowledge/knowledge_db.py`).
    pub fn names_file(&self, path: &str) -> bool {
        self.mentions_file(path)
            || path
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| w.chars().count() >= 3)
                .map(str::to_lowercase)
                .any(|w| {
                    self.terms.iter().any(|t| {
                        *t == w
                            || (t.len() >= 5
                                && w.len() >= 5
                                && (w.starts_with(t.as_str()) || t.starts_with(w.as_str())))
                    })
                })
    }
}

/// A token that looks like a file: it has an extension of 1 to 8 alphanumerics, or a slash.
fn file_mention(token: &str) -> Option<FileMention> {
    let token = token.trim_start_matches("./");
    if token.len() < 3 || token.contains("://") || token.starts_with('-') {
        return None;
    }
    let basename = token.rsplit(['/', '\\']).next()?;
    let (stem, ext) = basename.rsplit_once('.').unwrap_or((basename, ""));
    // `e.g`, `1.2` and `v2.0` are not files: the stem needs a letter and two characters, the
    // extension a letter.
    let has_ext = (1..=8).contains(&ext.len())
        && ext.chars().all(|c| c.is_ascii_alphanumeric())
        && ext.chars().any(|c| c.is_ascii_alphabetic())
        && stem.chars().count() >= 2
        && stem.chars().any(char::is_alphabetic);
    let has_dir = token.contains('/') || token.contains('\\');
    let word_like = |s: &str| s.chars().all(|c| c.is_alphanumeric() || "_-.".contains(c));
    if !(has_ext || has_dir) || basename.is_empty() || !word_like(basename) {
        return None;
    }
    Some(FileMention {
        text: token.to_owned(),
        basename: basename.to_owned(),
        stem: stem.to_owned(),
        has_dir,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_keep_words_and_files_and_drop_syntax() {
        let q = Query::parse(
            r#"Fixing the "token refresh" in src/auth.rs: NEAR(a b) -x OR *; it's 2 bugs_found"#,
        );
        assert_eq!(
            q.terms,
            [
                "fixing", "token", "refresh", "auth", "near", "bugs", "found"
            ]
        );
        assert_eq!(q.files.len(), 1);
        assert_eq!(
            (q.files[0].basename.as_str(), q.files[0].stem.as_str()),
            ("auth.rs", "auth")
        );
        assert!(Query::parse("?? -- :: the a").terms.is_empty());
    }

    #[test]
    fn a_task_names_files_by_path_basename_stem_or_word() {
        let q = Query::parse("the knowledge store loses rows; see main.rs and src/db.rs");
        for path in [
            "src/db.rs",
            "src/main.rs",
            "global-hooks/framework/knowledge/knowledge_db.py",
            "lib/knowledgebase.ts",
        ] {
            assert!(q.names_file(path), "{path}");
        }
        for path in ["README.md", "src/auth.rs", "tests/no.rs"] {
            assert!(!q.names_file(path), "{path}");
        }
    }

    #[test]
    fn file_mentions_need_an_extension_or_a_directory() {
        let files = |t: &str| {
            Query::parse(t)
                .files
                .into_iter()
                .map(|f| f.text)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            files("edit Cargo.toml and src/main.rs, see docs/"),
            ["Cargo.toml", "src/main.rs", "docs/"].map(String::from)[..2]
        );
        assert!(files("version 1.2 e.g. https://x.io/a.rs").is_empty());
        assert_eq!(files(r"open C:\proj\src\lib.rs"), [r"C:\proj\src\lib.rs"]);
    }
}
