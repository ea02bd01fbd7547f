#!/usr/bin/env python3
"""Write the model scripts (one JSON file per session) that fake_anthropic.py plays back.

Usage: make_scripts.py OUTDIR
Prompts carry a marker "[[S:key]]" so the server knows which conversation a request belongs to
(see fake_anthropic.py). "{CWD}" is replaced by the project folder at serve time.
"""
import json
import os
import sys

out = sys.argv[1]
os.makedirs(out, exist_ok=True)


def W(path, content):
    return {"name": "Write", "input": {"file_path": "{CWD}/" + path, "content": content}}


def E(path, old, new, replace_all=None):
    inp = {"file_path": "{CWD}/" + path, "old_string": old, "new_string": new}
    if replace_all is not None:
        inp["replace_all"] = replace_all
    return {"name": "Edit", "input": inp}


def T(*tools, text=None):
    t = {"tool_uses": list(tools)}
    if text:
        t["text"] = text
    return t


def F(text):
    return {"text": text}


def save(name, rules):
    with open(os.path.join(out, name + ".json"), "w") as f:
        json.dump({"rules": rules}, f)


# 1. notebook-edit ------------------------------------------------------------------------------
nb = {
    "cells": [
        {"cell_type": "code", "execution_count": None, "id": "cell-a", "metadata": {}, "outputs": [],
         "source": ["x = 1\n", "print(x)"]},
        {"cell_type": "markdown", "id": "cell-b", "metadata": {}, "source": ["# Notes\n", "first version"]},
    ],
    "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                 "language_info": {"name": "python"}},
    "nbformat": 4,
    "nbformat_minor": 5,
}
NB = "{CWD}/analysis.ipynb"
save("notebook-edit", [
    {"key": "main", "match": "[[S:nb]]", "turns": [
        T(W("analysis.ipynb", json.dumps(nb, indent=1) + "\n")),
        T({"name": "NotebookEdit", "input": {"notebook_path": NB, "cell_id": "cell-a",
                                              "new_source": "x = 2\nprint(x * 21)", "cell_type": "code",
                                              "edit_mode": "replace"}}),
        T({"name": "NotebookEdit", "input": {"notebook_path": NB, "cell_id": "cell-a",
                                              "new_source": "## Inserted after cell-a\nSome markdown.",
                                              "cell_type": "markdown", "edit_mode": "insert"}}),
        T({"name": "NotebookEdit", "input": {"notebook_path": NB, "cell_id": "cell-b", "new_source": "",
                                              "edit_mode": "delete"}}),
        F("The notebook was created and edited: one cell replaced, one inserted, one deleted."),
    ]},
])

# 2. big-write ----------------------------------------------------------------------------------
# 15,000 lines (~0.8 MB): the Write update payload (content + originalFile) is ~2.5 MB, a
# multi-megabyte payload, while the recording stays small enough to commit.
N = 15000
lines = []
for i in range(1, N + 1):
    tag = " TODO-FIXME" if i % 5000 == 0 else ""
    lines.append(f"row {i:05d}: the quick brown fox jumps over the lazy dog{tag}")
big1 = "\n".join(lines) + "\n"
lines2 = list(lines)
for i in (10, 7500, 14990):
    lines2[i - 1] = lines2[i - 1].replace("lazy dog", "sleepy cat")
lines2.insert(5000, "row INSERTED: a brand new line")
big2 = "\n".join(lines2) + "\n"
save("big-write", [
    {"key": "main", "match": "[[S:big]]", "turns": [
        T(W("big.txt", big1)),
        T(W("big.txt", big2)),
        T(E("big.txt", "TODO-FIXME", "DONE-FIXED", replace_all=True)),
        F("big.txt written (15,000 lines), rewritten with 4 changed lines, TODO-FIXME replaced everywhere."),
    ]},
])

# 3. resume-clear -------------------------------------------------------------------------------
save("resume-clear", [
    {"key": "r1", "match": "[[S:r1]]", "turns": [
        T(W("notes.md", "# Notes\n\n- first\n")),
        F("notes.md created."),
    ]},
    {"key": "r2", "match": "[[S:r2]]", "turns": [
        T(E("notes.md", "- first\n", "- first\n- second (after resume)\n")),
        F("Added a second item."),
    ]},
    {"key": "r3", "match": "[[S:r3]]", "turns": [
        T(E("notes.md", "- second (after resume)\n", "- second (after resume)\n- third (interactive)\n")),
        F("Added a third item."),
    ]},
    {"key": "c1", "match": "[[S:c1]]", "turns": [
        T(W("after-clear.txt", "written after /clear\n")),
        F("after-clear.txt created."),
    ]},
])

# 4. subagent-bg --------------------------------------------------------------------------------
save("subagent-bg", [
    {"key": "notif", "match": "<task-notification>", "turns": [
        F("The background agent finished and updated bg.txt."),
    ]},
    {"key": "main", "match": "[[S:bg]]", "turns": [
        T({"name": "Agent", "input": {"description": "Edit bg file in background",
                                       "prompt": "[[S:bgsub]] Create bg.txt, then change its second line.",
                                       "subagent_type": "general-purpose"}}),
        F("A background agent is working on bg.txt; I will report when it is done."),
    ]},
    {"key": "sub", "match": "[[S:bgsub]]", "turns": [
        T(W("bg.txt", "line one\nline two\nline three\n")),
        T(E("bg.txt", "line two\n", "line two (edited by the background agent)\n")),
        F("bg.txt created and its second line edited."),
    ]},
])

# 5. parallel-agents ----------------------------------------------------------------------------
save("parallel-agents", [
    {"key": "main", "match": "[[S:par]]", "turns": [
        T({"name": "Agent", "input": {"description": "Write alpha file",
                                       "prompt": "[[S:pa]] Create alpha.txt and then append a line to it.",
                                       "subagent_type": "general-purpose", "run_in_background": False}},
          {"name": "Agent", "input": {"description": "Write beta file",
                                       "prompt": "[[S:pb]] Create beta.txt and then append a line to it.",
                                       "subagent_type": "general-purpose", "run_in_background": False}},
          text="I will run two agents at once."),
        F("Both agents finished: alpha.txt and beta.txt exist."),
    ]},
    {"key": "pa", "match": "[[S:pa]]", "turns": [
        T(W("alpha.txt", "alpha 1\n")),
        T(E("alpha.txt", "alpha 1\n", "alpha 1\nalpha 2\n")),
        F("alpha.txt done."),
    ]},
    {"key": "pb", "match": "[[S:pb]]", "turns": [
        T(W("beta.txt", "beta 1\n")),
        T(E("beta.txt", "beta 1\n", "beta 1\nbeta 2\n")),
        F("beta.txt done."),
    ]},
])

# 6. fork (resume a session into a new id) -------------------------------------------------------
save("fork", [
    {"key": "f1", "match": "[[S:f1]]", "turns": [
        T(W("fork.txt", "base\n")),
        F("fork.txt created."),
    ]},
    {"key": "f2", "match": "[[S:f2]]", "turns": [
        T(E("fork.txt", "base\n", "base\nforked\n")),
        F("fork.txt edited in the forked session."),
    ]},
])

# 7. permission (interactive, no bypass): PermissionRequest + Notification ----------------------
save("permission", [
    {"key": "p1", "match": "[[S:perm]]", "turns": [
        T(W("perm.txt", "needs permission\n")),
        T({"name": "Bash", "input": {"command": "echo appended >> perm.txt", "description": "Append a line"}}),
        F("The Bash command was refused; perm.txt has one line."),
    ]},
])
# 8. switch-resume: /resume to another session inside interactive mode, then /logout -------------
save("switch-resume", [
    {"key": "s1", "match": "[[S:s1]]", "turns": [
        T(W("first.txt", "from the first session\n")),
        F("first.txt created."),
    ]},
    {"key": "s2", "match": "[[S:s2]]", "turns": [
        T(W("second.txt", "from the second session\n")),
        F("second.txt created."),
    ]},
    {"key": "s3", "match": "[[S:s3]]", "turns": [
        T(E("first.txt", "from the first session\n", "from the first session\nback after /resume\n")),
        F("first.txt edited after switching back."),
    ]},
])
# 9. parallel-agents-bg: two background Agent calls in one message --------------------------------
save("parallel-agents-bg", [
    {"key": "notif", "match": "<task-notification>", "turns": [
        F("Noted the finished background agent."),
    ]},
    {"key": "main", "match": "[[S:pbg]]", "turns": [
        T({"name": "Agent", "input": {"description": "Write gamma file",
                                       "prompt": "[[S:pg]] Create gamma.txt and then append a line to it.",
                                       "subagent_type": "general-purpose"}},
          {"name": "Agent", "input": {"description": "Write delta file",
                                       "prompt": "[[S:pd]] Create delta.txt and then append a line to it.",
                                       "subagent_type": "general-purpose", "run_in_background": True}}),
        F("Two background agents are running."),
    ]},
    {"key": "pg", "match": "[[S:pg]]", "turns": [
        T(W("gamma.txt", "gamma 1\n")),
        T(E("gamma.txt", "gamma 1\n", "gamma 1\ngamma 2\n")),
        F("gamma.txt done."),
    ]},
    {"key": "pd", "match": "[[S:pd]]", "turns": [
        T(W("delta.txt", "delta 1\n")),
        T(E("delta.txt", "delta 1\n", "delta 1\ndelta 2\n")),
        F("delta.txt done."),
    ]},
])

# 10. agent-fork: Agent with subagent_type "fork" (a subagent that inherits the conversation) -----
save("agent-fork", [
    {"key": "notif", "match": "<task-notification>", "turns": [
        F("The fork finished."),
    ]},
    {"key": "main", "match": "[[S:af]]", "turns": [
        T({"name": "Agent", "input": {"description": "Forked helper",
                                       "prompt": "[[S:afk]] Create forked.txt.",
                                       "subagent_type": "fork", "run_in_background": False}}),
        F("The forked agent created forked.txt."),
    ]},
    {"key": "fk", "match": "[[S:afk]]", "turns": [
        T(W("forked.txt", "written by a fork subagent\n")),
        F("forked.txt created."),
    ]},
])
print("scripts written to", out)
