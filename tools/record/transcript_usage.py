#!/usr/bin/env python3
"""What a reader of a Claude Code transcript (JSONL) should compute: models and token usage.

Usage: transcript_usage.py [--markdown] [--by-prompt] FILE_OR_FOLDER...
  A folder stands for every *.jsonl under it (except *.hooks.jsonl) (a session's main transcript and its
  <session_id>/subagents/agent-<id>.jsonl), each reported on its own.

Per file: the number of assistant entries (lines with "type": "assistant"), the number of
distinct message.id among them, the model(s) (message.model, in order of first appearance), and
the sums of message.usage.{input_tokens, output_tokens, cache_creation_input_tokens,
cache_read_input_tokens} over distinct message ids. The client writes one assistant entry per
content block, so one message id can have several entries: the usage of the FIRST entry of each
id is counted, and the script checks that all entries of one id carry the same usage and model
(it reports an error otherwise, since "first" and "last" would then differ).
--by-prompt adds, per file, the running totals at the end of each prompt's turn (a prompt is a
user entry whose message.content is a string, not a tool result): what a reader sees when it
reads the transcript at that prompt's Stop, e.g. across the processes of a resumed session.
Python 3 standard library only.
"""
import glob
import json
import os
import sys

FIELDS = ("input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")


def usage_of(path, upto=None):
    """Totals over the first `upto` lines (all when None)."""
    entries, first, models, problems = 0, {}, [], []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if upto is not None and n > upto:
                break
            if not line.strip():
                continue
            d = json.loads(line)
            if d.get("type") != "assistant":
                continue
            m = d.get("message") or {}
            entries += 1
            mid = m.get("id")
            u = {k: (m.get("usage") or {}).get(k, 0) or 0 for k in FIELDS}
            model = m.get("model")
            if model and model not in models:
                models.append(model)
            if mid is None:
                problems.append("line %d: assistant entry without message.id" % n)
                continue
            if mid in first:
                if first[mid] != (u, model):
                    problems.append("line %d: message %s has other usage/model than its first entry" % (n, mid))
                continue
            first[mid] = (u, model)
    sums = {k: sum(u[k] for u, _ in first.values()) for k in FIELDS}
    return {"entries": entries, "ids": len(first), "models": models, "sums": sums, "problems": problems}


def prompt_ends(path):
    """(prompt text, number of the last line of its turn) for each prompt of the transcript."""
    starts, total = [], 0
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            total = n
            d = json.loads(line) if line.strip() else {}
            m = d.get("message") or {}
            if (d.get("type") == "user" and isinstance(m.get("content"), str) and not d.get("isMeta")
                    and not m["content"].startswith(("<command-", "<local-command")) ):
                starts.append((n, m["content"]))
    return [(text, (starts[i + 1][0] - 1) if i + 1 < len(starts) else total)
            for i, (_, text) in enumerate(starts)]


def files_of(args):
    out = []
    for a in args:
        if os.path.isdir(a):
            out += sorted((p for p in glob.glob(os.path.join(a, "**", "*.jsonl"), recursive=True)
                           if not p.endswith(".hooks.jsonl")), key=lambda p: (p.count(os.sep), p))
        else:
            out.append(a)
    return out


def main():
    args = sys.argv[1:]
    md = "--markdown" in args
    by_prompt = "--by-prompt" in args
    args = [a for a in args if a not in ("--markdown", "--by-prompt")]
    if not args:
        print(__doc__, file=sys.stderr)
        return 2
    bad = 0
    if md:
        print("| file | assistant entries | distinct message ids | model(s) | " + " | ".join(FIELDS) + " |")
        print("|---|---:|---:|---|" + "---:|" * len(FIELDS))
    for path in files_of(args):
        r = usage_of(path)
        bad += len(r["problems"])
        if md:
            print("| `%s` | %d | %d | %s | %s |" % (os.path.basename(path), r["entries"], r["ids"],
                                                   ", ".join("`%s`" % m for m in r["models"]) or "-",
                                                   " | ".join(str(r["sums"][k]) for k in FIELDS)))
        else:
            print("%s: %d assistant entries, %d distinct message ids, model(s) %s" % (
                path, r["entries"], r["ids"], ", ".join(r["models"]) or "-"))
            print("   " + ", ".join("%s %d" % (k, r["sums"][k]) for k in FIELDS))
        if by_prompt:
            for text, end in prompt_ends(path):
                c = usage_of(path, end)
                label = "after %r (lines 1-%d)" % (text[:50], end)
                if md:
                    print("| ... %s | %d | %d | %s | %s |" % (label.replace("|", "\\|"), c["entries"], c["ids"],
                                                        ", ".join("`%s`" % m for m in c["models"]) or "-",
                                                        " | ".join(str(c["sums"][k]) for k in FIELDS)))
                else:
                    print("   %s: %d entries, %d ids, %s" % (label, c["entries"], c["ids"],
                                                           ", ".join("%s %d" % (k, c["sums"][k]) for k in FIELDS)))
        for p in r["problems"]:
            print("   error: %s: %s" % (path, p), file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
