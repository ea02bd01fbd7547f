#!/usr/bin/env python3
"""Writes src/redact/rules.rs, flowhook's table of secret shapes, from gitleaks' default rule
set (config/gitleaks.toml of github.com/gitleaks/gitleaks, MIT License, Copyright (c) 2019
Zachary Rice).

    python3 tools/redact-rules.py path/to/gitleaks.toml COMMIT > src/redact/rules.rs && cargo fmt

Each rule keeps its id, keywords, regex (Go RE2 syntax, which Rust's `regex` reads as it is),
entropy floor and allowlists; rules that only name a file path (pkcs12-file) are left out, and
so are allowlists that depend on a file path (flowhook scans text, not files). Left out too,
for a hook call's time: `generic-api-key` (any name with `key`, `token`, `auth`... assigned a
value; its regex costs more to compile than a whole post-edit's budget, and src/redact.rs's
own `assignments` scanner covers that shape, knowing code from literals) and the rules
gitleaks applies to one kind of file only (Terraform, Kubernetes YAML, NuGet, PHP), whose
shapes are as generic. A leading `\b`
is dropped: a token glued to a word (`x_npm_…`, `TOKEN-glpat-…`) is still a token; and a
token may end at a path's, a URL's or code's delimiter as well as at a space or a quote
(`/home/x/npm_…/a.rs`). Every rule gets
a sample, generated here from its regex (deterministically, with enough entropy to pass its
floor), which the unit tests of src/redact.rs check is redacted.
"""

import random
import re
import sys
import tomllib

import sre_constants as C  # noqa: N812 (deprecated but still the only parser of `re`'s syntax)
import sre_parse

PRINTABLE = [chr(c) for c in range(32, 127)]
ALNUM = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")

# Samples written by hand where the generated one is not a fair instance of the shape.
SAMPLES = {
    "kubernetes-secret-yaml": "kind: Secret\ndata:\n  password: c2VjcmV0cGFzc3dvcmQxMjM0\n",
    "nuget-config-password": '<add key="ClearTextPassword" value="Zq8vT2mLx4Rw" />',
}


def class_chars(items, negate=False):
    """The printable ASCII characters a character class accepts."""
    ok = set()
    for op, av in items:
        if op == C.LITERAL:
            ok.add(chr(av))
        elif op == C.RANGE:
            ok.update(chr(c) for c in range(av[0], av[1] + 1) if 32 <= c < 127)
        elif op == C.CATEGORY:
            if av == C.CATEGORY_DIGIT:
                ok.update("0123456789")
            elif av == C.CATEGORY_WORD:
                ok.update(ALNUM | {"_"})
            elif av == C.CATEGORY_SPACE:
                ok.add(" ")
            elif av == C.CATEGORY_NOT_SPACE:
                ok.update(c for c in PRINTABLE if c != " ")
            elif av == C.CATEGORY_NOT_WORD:
                ok.update(c for c in PRINTABLE if c not in ALNUM and c != "_")
            elif av == C.CATEGORY_NOT_DIGIT:
                ok.update(c for c in PRINTABLE if not c.isdigit())
        elif op == C.NEGATE:
            negate = True
    if negate:
        ok = set(PRINTABLE) - ok
    return ok


class Sampler:
    def __init__(self, seed):
        self.rng = random.Random(seed)

    def pick(self, chars):
        chars = sorted(chars)
        good = [c for c in chars if c in ALNUM]
        if good:
            return self.rng.choice(good)
        if " " in chars:
            return " "
        return self.rng.choice(chars) if chars else "x"

    def count(self, lo, hi):
        if lo == 0:
            return 0
        if hi == C.MAXREPEAT:
            hi = lo + 32
        return lo if lo == hi else min(hi, max(lo, 24))

    def walk(self, seq):
        out = []
        for op, av in seq:
            if op == C.LITERAL:
                out.append(chr(av))
            elif op == C.NOT_LITERAL:
                out.append(self.pick(set(PRINTABLE) - {chr(av)}))
            elif op == C.ANY:
                out.append(".")  # most often an unescaped dot of a host name
            elif op == C.IN:
                out.append(self.pick(class_chars(av)))
            elif op in (C.MAX_REPEAT, C.MIN_REPEAT):
                lo, hi, sub = av
                for _ in range(self.count(lo, hi)):
                    out.append(self.walk(sub))
            elif op == C.SUBPATTERN:
                out.append(self.walk(av[-1]))
            elif op == C.BRANCH:
                out.append(self.walk(av[1][0]))
            elif op == C.CATEGORY:
                out.append(self.pick(class_chars([(op, av)])))
            elif op in (C.AT, C.ASSERT, C.ASSERT_NOT):
                pass
            else:
                raise ValueError(f"unsupported {op}")
        return "".join(out)


def python_syntax(regex):
    """The regex in a form `sre_parse` reads (for sampling only): Go's mid-pattern flags
    dropped, `\\z` as `\\Z`, POSIX classes spelled out."""
    r = re.sub(r"\(\?-?i\)", "", regex)
    r = r.replace("(?-i:", "(?:").replace("(?i:", "(?:").replace("(?s:", "(?:")
    r = r.replace("\\z", "\\Z").replace("[[:alnum:]]", "[a-zA-Z0-9]")
    return r.replace("[:alnum:]", "a-zA-Z0-9")


def sample(rule):
    if rule["id"] in SAMPLES:
        return SAMPLES[rule["id"]]
    tree = sre_parse.parse(python_syntax(regex(rule)))
    text = Sampler(rule["id"]).walk(tree).strip()
    # A rule runs only where one of its keywords is.
    if not any(k.lower() in text.lower() for k in rule["keywords"]):
        text = f"{rule['keywords'][0]} {text}"
    return text


def regex(rule):
    """The rule's regex, without a leading word boundary, and with the end of a token widened
    to the delimiters of a path, a URL or code (`/npm_…/x.rs`, `?key=…&`)."""
    r = re.sub(r"^(\(\?i\))?\\b", r"\1", rule["regex"])
    return r.replace("""(?:[\\x60'"\\s;]|""", """(?:[\\x60'"\\s;/,)\\]}&?#|<>\\\\]|""")


def rust_str(s):
    """A Rust raw string literal for `s`."""
    hashes = "#"
    while f'"{hashes}' in s:
        hashes += "#"
    return f'r{hashes}"{s}"{hashes}'


def allows(rule):
    """The rule's allowlist regexes, all matched against the secret (the rules kept have no
    other kind)."""
    out = []
    for a in rule.get("allowlists", []):
        if "paths" in a:
            continue  # about files, not text
        assert a.get("regexTarget", "secret") == "secret", rule["id"]
        out += [rust_str(rust_regex(r)) for r in a.get("regexes", [])]
    return out


def rules(config):
    """The rules kept (see the module's doc)."""
    return [
        r
        for r in config["rules"]
        if "regex" in r and "path" not in r and r["id"] != "generic-api-key"
    ]


def rust_regex(r):
    """`{` that opens no repetition, escaped: RE2 reads it as a literal, Rust's `regex` not."""
    return re.sub(r"(?<!\\)\{(?!\d)", r"\\{", r)


def main():
    path, commit = sys.argv[1], sys.argv[2]
    config = tomllib.load(open(path, "rb"))
    print("//! Generated by tools/redact-rules.py; do not edit by hand.")
    print("//!")
    print("//! The secret shapes of gitleaks' default rule set (config/gitleaks.toml of")
    print(f"//! github.com/gitleaks/gitleaks at {commit}), MIT License,")
    print("//! Copyright (c) 2019 Zachary Rice. Each sample is generated from its rule's regex.")
    print()
    print("use super::Rule;")
    print()
    print("pub(super) const RULES: &[Rule] = &[")
    for rule in rules(config):
        keywords = ", ".join(f'"{k.lower()}"' for k in rule["keywords"])
        print("    Rule {")
        print(f'        id: "{rule["id"]}",')
        print(f"        keywords: &[{keywords}],")
        print(f"        regex: {rust_str(regex(rule))},")
        print(f"        group: {rule.get('secretGroup', 0)},")
        print(f"        entropy: {float(rule.get('entropy', 0))!r},")
        print(f"        allow: &[{', '.join(allows(rule))}],")
        print("    },")
    print("];")
    print()
    print("/// A text each rule must redact, in the order of [`RULES`].")
    print("#[cfg(test)]")
    print("pub(super) const SAMPLES: &[&str] = &[")
    for rule in rules(config):
        print(f"    {rust_str(sample(rule))},")
    print("];")
    print()
    glob = config["allowlist"]
    print("/// Values never taken for a secret, whichever rule found them.")
    print("pub(super) const ALLOW: &[&str] = &[")
    for r in glob["regexes"]:
        print(f"    {rust_str(r)},")
    print("];")
    print()
    print("/// Words that make a match ordinary text (gitleaks' global stopwords).")
    print("pub(super) const STOPWORDS: &[&str] = &[")
    for w in glob["stopwords"]:
        print(f'    "{w}",')
    print("];")


main()
