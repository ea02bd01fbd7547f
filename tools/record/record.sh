#!/usr/bin/env bash
# Record real Claude Code hook payloads, offline, against the scripted fake model server.
# Usage: tools/record/record.sh [session ...]      (default: all sessions)
# Env:   CLAUDE=/path/to/claude (default: `claude` on PATH)
#        OUT=folder for the recordings (default: fixtures/recorded in this repo)
#        TRANSCRIPTS=1 also copies each recorded session's transcripts (main + subagents), renamed
#          like the payloads, to TRANSCRIPTS_OUT/claude-code-<version>__<name>/ (default:
#          fixtures/transcripts in this repo)
#        KEEP=1 keeps the temp folder (raw logs, server request logs, transcripts)
# See README.md in this folder.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
CLAUDE=${CLAUDE:-$(command -v claude || true)}
OUT=${OUT:-$REPO/fixtures/recorded}
[ -x "$CLAUDE" ] || { echo "claude binary not found (set CLAUDE=...)" >&2; exit 1; }
CLAUDE=$(readlink -f "$CLAUDE")

# Network isolation: re-run ourselves in a private network namespace that has only loopback,
# so nothing can leave 127.0.0.1 whatever the client tries. Falls back to no isolation.
if [ -z "${REC_IN_NETNS:-}" ] && [ "${REC_NO_NETNS:-}" != 1 ]; then
  if unshare -n true 2>/dev/null; then
    exec unshare -n env REC_IN_NETNS=1 CLAUDE="$CLAUDE" OUT="$OUT" bash "$0" "$@"
  fi
  echo "warning: unshare -n not available, running without network isolation" >&2
fi
if [ -n "${REC_IN_NETNS:-}" ]; then ip link set lo up 2>/dev/null || true; fi

VERSION=$("$CLAUDE" --version | awk '{print $1}')
BASE=$(mktemp -d /tmp/ccrecXXXXXX)
SCRIPTS=$BASE/scripts
python3 "$HERE/make_scripts.py" "$SCRIPTS" >/dev/null
mkdir -p "$OUT"
echo "claude $VERSION, work folder $BASE" >&2

SERVER_PID=""
TMUX_SOCK=$BASE/tmux.sock
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true
  tmux -S "$TMUX_SOCK" kill-server 2>/dev/null || true
  if [ "${KEEP:-}" != 1 ]; then rm -rf "$BASE"; else echo "kept $BASE" >&2; fi
}
trap cleanup EXIT

# setup NAME: fresh HOME + project, hooks on every event, fake server playing scripts/NAME.json
setup() {
  NAME=$1
  S=$BASE/$NAME
  H=$S/home            # renamed to /home/dev afterwards
  P=$H/proj            # renamed to /home/dev/proj afterwards
  EV=$S/events.jsonl
  mkdir -p "$P/.claude" "$H/.claude"
  : > "$EV"
  python3 - "$P/.claude/settings.json" "$HERE/log_hook.py" "$EV" <<'PY'
import json, sys, shlex
path, hook, ev = sys.argv[1:4]
cmd = "python3 %s %s" % (shlex.quote(hook), shlex.quote(ev))
events = ["SessionStart", "UserPromptSubmit", "PreToolUse", "PostToolUse", "PostToolUseFailure", "Stop",
          "SubagentStart", "SubagentStop", "PreCompact", "PostCompact", "SessionEnd", "Notification",
          "PermissionRequest"]
tool_events = {"PreToolUse", "PostToolUse", "PostToolUseFailure", "PermissionRequest"}
hooks = {}
for e in events:
    entry = {"hooks": [{"type": "command", "command": cmd, "timeout": 30}]}
    if e in tool_events:
        entry["matcher"] = "*"
    hooks[e] = [entry]
json.dump({"hooks": hooks}, open(path, "w"), indent=2)
PY
  # skip first-run dialogs in interactive mode (theme, trust, API key approval)
  python3 - "$H/.claude.json" "$P" <<'PY'
import json, sys
path, proj = sys.argv[1:3]
json.dump({"hasCompletedOnboarding": True, "theme": "dark", "numStartups": 1,
           "bypassPermissionsModeAccepted": True,
           "customApiKeyResponses": {"approved": ["sk-ant-fake-key-for-offline-recording"[-20:]], "rejected": []},
           "projects": {proj: {"hasTrustDialogAccepted": True, "hasCompletedProjectOnboarding": True,
                               "allowedTools": []}}}, open(path, "w"), indent=2)
PY
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true
  rm -f "$S/port"
  python3 "$HERE/fake_anthropic.py" --script "$SCRIPTS/$NAME.json" --port-file "$S/port" \
    --log "$S/requests.jsonl" --cwd "$P" --home "$H" --seed "$NAME" 2>"$S/server.err" &
  SERVER_PID=$!
  for _ in $(seq 50); do [ -s "$S/port" ] && break; sleep 0.1; done
  PORT=$(cat "$S/port")
}

CENV=()
cenv() {
  CENV=(env -i PATH="$PATH" HOME="$H" TERM="${TERM:-xterm-256color}" LANG=C.UTF-8 USER=root SHELL=/bin/bash
        IS_SANDBOX=1 ANTHROPIC_BASE_URL="http://127.0.0.1:$PORT"
        ANTHROPIC_API_KEY="sk-ant-fake-key-for-offline-recording"
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 CLAUDE_CODE_DISABLE_OFFICIAL_MARKETPLACE_AUTOINSTALL=1
        DISABLE_AUTOUPDATER=1)
}

# run_p ARGS...: one `claude -p` process in the project folder
run_p() {
  cenv
  (cd "$P" && "${CENV[@]}" "$CLAUDE" --dangerously-skip-permissions "$@" </dev/null >>"$S/claude.out" 2>>"$S/claude.err")
}

# wait until the events log has a line matching a regex (or timeout)
wait_for() {  # wait_for REGEX [SECONDS]
  local re=$1 t=${2:-60} i
  for i in $(seq $((t * 10))); do grep -q -- "$re" "$EV" 2>/dev/null && return 0; sleep 0.1; done
  echo "timeout waiting for $re in $NAME" >&2; return 1
}
wait_count() {  # wait_count REGEX N [SECONDS]
  local re=$1 n=$2 t=${3:-60} i
  for i in $(seq $((t * 10))); do [ "$(grep -c -- "$re" "$EV" 2>/dev/null || true)" -ge "$n" ] && return 0; sleep 0.1; done
  echo "timeout waiting for $n x $re in $NAME" >&2; return 1
}

first_session_id() { python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["session_id"])' "$EV"; }

# tmux helpers for interactive mode
tm() { tmux -S "$TMUX_SOCK" "$@"; }
start_tui() {  # start_tui [claude args...]
  cenv
  local cmd; cmd=$(printf '%q ' "${CENV[@]}" "$CLAUDE" "$@")
  tm kill-session -t rec 2>/dev/null || true
  tm new-session -d -s rec -x 200 -y 50 -c "$P" "$cmd; echo CLAUDE-EXITED; sleep 600"
  sleep 1
}
screen() { tm capture-pane -p -t rec; }
wait_screen() {  # wait_screen REGEX [SECONDS]
  local re=$1 t=${2:-60} i
  for i in $(seq $((t * 2))); do screen | grep -qE -- "$re" && return 0; sleep 0.5; done
  echo "timeout waiting for screen /$re/ in $NAME" >&2; screen >&2; return 1
}
type_line() {  # type text then Enter
  tm send-keys -t rec -l -- "$1"; sleep 0.7; tm send-keys -t rec Enter
}

# finish NAME [FILTER_SESSION_ID] [SUFFIX]: rename paths and write the output file
# With TRANSCRIPTS=1 it also copies the transcripts of the session(s) written (see copy_transcripts).
finish() {
  local name=$1 sid=${2:-} exclude=${3:-} outname=${4:-$1}
  python3 - "$EV" "$P" "$H" "$sid" "$exclude" "$OUT/claude-code-${VERSION}__${outname}.jsonl" <<'PY'
import json, re, sys
ev, proj, home, sid, exclude, out = sys.argv[1:7]
san = lambda p: re.sub(r"[^A-Za-z0-9]", "-", p)
n = 0
with open(out, "w") as o:
    for line in open(ev):
        if not line.strip():
            continue
        d = json.loads(line)
        if sid and d.get("session_id") != sid:
            continue
        if exclude and d.get("session_id") == exclude:
            continue
        line = line.replace(proj, "/home/dev/proj").replace(san(proj), "-home-dev-proj").replace(home, "/home/dev")
        o.write(line if line.endswith("\n") else line + "\n")
        n += 1
print("%s: %d events" % (out, n), file=sys.stderr)
PY
  if [ "${TRANSCRIPTS:-}" = 1 ]; then
    copy_transcripts "$OUT/claude-code-${VERSION}__${outname}.jsonl" \
      "${TRANSCRIPTS_OUT:-$REPO/fixtures/transcripts}/claude-code-${VERSION}__${outname}"
  fi
}

# copy_transcripts PAYLOADS DEST: for every session_id in the (renamed) payload file, copy the
# client's transcript ~/.claude/projects/<slug>/<session_id>.jsonl and the subagent transcripts
# <session_id>/subagents/agent-<id>.jsonl into DEST, keeping that relative layout. The same
# renaming as the payloads (project, its slug, HOME), plus the two paths of the hook command
# (it shows in the transcript's stop_hook_summary entries): the events log becomes
# /home/dev/events.jsonl and log_hook.py becomes /home/dev/log_hook.py. Every transcript_path
# of the payloads must be among the files copied.
copy_transcripts() {
  local payloads=$1 dest=$2
  sleep 1   # the client appends its last entries around SessionEnd
  python3 - "$payloads" "$dest" "$P" "$H" "$EV" "$HERE/log_hook.py" <<'PY'
import glob, json, os, re, shutil, sys
payloads, dest, proj, home, ev, hook = sys.argv[1:7]
san = lambda p: re.sub(r"[^A-Za-z0-9]", "-", p)
ren = [(hook, "/home/dev/log_hook.py"), (ev, "/home/dev/events.jsonl"), (proj, "/home/dev/proj"),
       (san(proj), "-home-dev-proj"), (home, "/home/dev")]
src = os.path.join(home, ".claude", "projects", san(proj))
sids, tpaths = [], set()
for line in open(payloads):
    d = json.loads(line)
    if d.get("session_id") and d["session_id"] not in sids:
        sids.append(d["session_id"])
    if d.get("transcript_path"):
        tpaths.add(d["transcript_path"])
    if d.get("agent_transcript_path"):
        tpaths.add(d["agent_transcript_path"])
shutil.rmtree(dest, ignore_errors=True)
os.makedirs(dest)
copied = []
for sid in sids:
    files = [os.path.join(src, sid + ".jsonl")] + sorted(glob.glob(os.path.join(src, sid, "subagents", "agent-*.jsonl")))
    for f in files:
        if not os.path.exists(f):
            print("  warning: no transcript %s" % f, file=sys.stderr)
            continue
        rel = os.path.relpath(f, src)
        text = open(f, encoding="utf-8").read()
        for old, new in ren:
            text = text.replace(old, new)
        if "ccrec" in text:
            print("  warning: unrenamed temp path left in %s" % rel, file=sys.stderr)
        os.makedirs(os.path.dirname(os.path.join(dest, rel)), exist_ok=True)
        with open(os.path.join(dest, rel), "w", encoding="utf-8") as o:
            o.write(text)
        copied.append(rel)
        print("  %s/%s: %d lines" % (dest, rel, text.count("\n")), file=sys.stderr)
want = {os.path.relpath(t, "/home/dev/.claude/projects/-home-dev-proj") for t in tpaths}
missing = sorted(want - set(copied))
if missing:
    print("  warning: transcript_path(s) of the payloads not copied: %s" % ", ".join(missing), file=sys.stderr)
PY
}

# ---------------------------------------------------------------------------------------------
s_notebook_edit() {
  setup notebook-edit
  run_p -p "[[S:nb]] Create analysis.ipynb with two cells, then replace the first cell, insert a markdown cell after it and delete the second cell."
  finish notebook-edit
}

s_big_write() {
  setup big-write
  run_p -p "[[S:big]] Write big.txt with 15000 rows, rewrite it with a few rows changed, then replace every TODO-FIXME."
  finish big-write
}

s_resume_clear() {
  setup resume-clear
  run_p -p "[[S:r1]] Create notes.md with one item."
  local sid; sid=$(first_session_id)
  run_p --resume "$sid" -p "[[S:r2]] Add a second item to notes.md."
  # interactive: resume the same session, one more edit, then /clear and a prompt in the new session
  start_tui --dangerously-skip-permissions --resume "$sid"
  wait_for '"source": "resume"' 60
  sleep 3
  type_line "[[S:r3]] Add a third item to notes.md."
  wait_count '"hook_event_name": "Stop"' 3 90
  sleep 2
  type_line "/clear"
  wait_for '"source": "clear"' 60
  sleep 2
  type_line "[[S:c1]] Create after-clear.txt."
  wait_count '"hook_event_name": "Stop"' 4 90
  sleep 2
  type_line "/exit"
  wait_count '"hook_event_name": "SessionEnd"' 4 30 || true
  sleep 2
  finish resume-clear "$sid"
  finish resume-clear "" "$sid" resume-clear-after-clear
}

s_subagent_bg() {
  setup subagent-bg
  run_p -p "[[S:bg]] Have a background agent create bg.txt and edit it."
  finish subagent-bg
}

s_parallel_agents() {
  setup parallel-agents
  run_p -p "[[S:par]] Run two agents at the same time: one writes alpha.txt, the other beta.txt."
  finish parallel-agents
}

s_fork() {
  setup fork
  run_p -p "[[S:f1]] Create fork.txt."
  local sid; sid=$(first_session_id)
  run_p --resume "$sid" --fork-session -p "[[S:f2]] Edit fork.txt in a fork of the session."
  finish fork "$sid" "" fork-parent      # the session that was forked (one -p run)
  finish fork "" "$sid" fork             # the fork: new session_id, SessionStart source "fork"
}

s_permission() {
  setup permission
  start_tui --permission-mode default   # interactive default is "auto", which asks nothing
  wait_for '"hook_event_name": "SessionStart"' 60
  sleep 3
  type_line "[[S:perm]] Create perm.txt, then append a line with Bash."
  wait_for '"hook_event_name": "PermissionRequest"' 60
  sleep 10                           # leave the dialog open: Notification permission_prompt
  screen > "$S/screen-1.txt"
  tm send-keys -t rec Enter          # Write: accept ("1. Yes")
  wait_count '"hook_event_name": "PermissionRequest"' 2 60
  sleep 10
  screen > "$S/screen-2.txt"
  tm send-keys -t rec Escape         # Bash: refuse
  sleep 5
  screen > "$S/screen-3.txt"
  type_line "/exit"
  wait_for '"hook_event_name": "SessionEnd"' 30 || true
  sleep 1
  finish permission
}

s_switch_resume() {
  setup switch-resume
  run_p -p "[[S:s1]] Create first.txt."
  local sid1; sid1=$(first_session_id)
  start_tui --dangerously-skip-permissions
  wait_count '"hook_event_name": "SessionStart"' 2 60
  sleep 3
  type_line "[[S:s2]] Create second.txt."
  wait_count '"hook_event_name": "Stop"' 2 90
  sleep 2
  type_line "/resume $sid1"          # SessionEnd reason "resume" for this one, SessionStart resume for sid1
  wait_count '"source": "resume"' 1 60
  sleep 3
  type_line "[[S:s3]] Edit first.txt again."
  wait_count '"hook_event_name": "Stop"' 3 90
  sleep 2
  type_line "/logout"
  sleep 5
  screen > "$S/screen-logout.txt"
  wait_count '"hook_event_name": "SessionEnd"' 3 20 || { type_line "/exit"; wait_count '"hook_event_name": "SessionEnd"' 3 20 || true; }
  sleep 1
  finish switch-resume "" "$sid1" switch-resume-from   # interactive session left through /resume <id>
  finish switch-resume "$sid1" "" switch-resume-to     # the -p session, then resumed by /resume <id>
}

s_parallel_agents_bg() {
  setup parallel-agents-bg
  run_p -p "[[S:pbg]] Run two background agents: one writes gamma.txt, the other delta.txt."
  finish parallel-agents-bg
}

s_agent_fork() {
  setup agent-fork
  run_p -p "[[S:af]] Fork yourself to create forked.txt."
  finish agent-fork
}

# write-edit, subagent-fg: the corpus's two sessions of these names recorded again (same prompts,
# no marker). Not in the default list: run them by name (with TRANSCRIPTS=1, see
# fixtures/transcripts/README.md).
s_write_edit() {
  setup write-edit
  run_p -p "Create notes.md with three lines, change the second line, then add src/lib.rs."
  finish write-edit
}

s_subagent_fg() {
  setup subagent-fg
  run_p -p "Delegate writing sub.txt to a general-purpose subagent and wait for it."
  finish subagent-fg
}

# recall: an evaluation set for recall (see fixtures/recall/README.md). Many `-p` sessions, one
# after the other, with one HOME and several projects that keep their files between sessions:
# proj ($P, renamed to /home/dev/proj) and every other project NAME of the seed in $H/NAME
# (renamed to /home/dev/NAME: shop, blog). The projects start with the files of
# scripts/recall-seed.json; the sessions and their order are in scripts/recall-sessions.json (both
# written by make_scripts.py). One output file per session, named after the session, in
# RECALL_OUT (default fixtures/recall in this repo).
s_recall() {
  setup recall                                   # HOME $H, project A $P = $H/proj, server playing recall.json
  local A=$P ROUT=${RECALL_OUT:-$REPO/fixtures/recall}
  mkdir -p "$ROUT"
  python3 - "$SCRIPTS/recall-seed.json" "$A" "$H" <<'PY'
import json, os, shutil, sys
seed, a, home = sys.argv[1:4]
for proj, files in json.load(open(seed)).items():
    root = a if proj == "proj" else os.path.join(home, proj)
    if root != a:   # same hooks, same events log
        os.makedirs(os.path.join(root, ".claude"), exist_ok=True)
        shutil.copy(os.path.join(a, ".claude", "settings.json"), os.path.join(root, ".claude", "settings.json"))
    for rel, text in files.items():
        os.makedirs(os.path.dirname(os.path.join(root, rel)), exist_ok=True)
        open(os.path.join(root, rel), "w").write(text)
PY
  : > "$S/order.tsv"
  local name proj prompt sid
  while IFS=$'\t' read -r name proj prompt; do
    if [ "$proj" = proj ]; then P=$A; else P=$H/$proj; fi
    echo "   $name ($proj): $prompt" >&2
    run_p -p "$prompt" || echo "claude exited non-zero in $name" >&2
    sleep 1
    # the session that just ran: the last SessionStart in the log
    sid=$(python3 -c 'import json,sys
s=[json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print([d for d in s if d.get("hook_event_name")=="SessionStart"][-1]["session_id"])' "$EV")
    printf '%s\t%s\t%s\n' "$name" "$sid" "$P" >> "$S/order.tsv"
  done < <(python3 -c 'import json,sys
for s in json.load(open(sys.argv[1])): print("%s\t%s\t%s" % (s["name"], s["project"], s["prompt"]))' \
           "$SCRIPTS/recall-sessions.json")
  P=$A
  sleep 2
  python3 - "$EV" "$S/order.tsv" "$A" "$H" "$ROUT" "$VERSION" <<'PY'
import json, os, re, sys
ev, order, a, home, rout, version = sys.argv[1:7]
san = lambda p: re.sub(r"[^A-Za-z0-9]", "-", p)
rows = [l.rstrip("\n").split("\t") for l in open(order) if l.strip()]
# each project folder and its transcript folder: $H/NAME -> /home/dev/NAME, project A -> /home/dev/proj
ren = []
for p in [a] + sorted({p for _, _, p in rows} - {a}):
    dev = "/home/dev/" + ("proj" if p == a else os.path.basename(p))
    ren += [(p, dev), (san(p), san(dev))]
ren.append((home, "/home/dev"))
lines = [l if l.endswith("\n") else l + "\n" for l in open(ev) if l.strip()]
known = {sid for _, sid, _ in rows}
if len(known) != len(rows):
    print("error: two sessions have the same session_id (a run did not start?)", file=sys.stderr)
other = [l for l in lines if json.loads(l).get("session_id") not in known]
if other:
    print("warning: %d payloads of unknown sessions left out" % len(other), file=sys.stderr)
for name, sid, _ in rows:
    out = "%s/claude-code-%s__%s.jsonl" % (rout, version, name)
    n = 0
    with open(out, "w") as o:
        for line in lines:
            if json.loads(line).get("session_id") != sid:
                continue
            for old, new in ren:
                line = line.replace(old, new)
            assert "ccrec" not in line, "unrenamed temp path in " + name
            o.write(line)
            n += 1
    print("%s: %d events" % (out, n), file=sys.stderr)
    # a tool call the client refused before any hook ran (e.g. Edit old_string not found) leaves
    # no payload, only an error tool_result in the transcript: report it
    proj = [p for _, s2, p in rows if s2 == sid][0]
    tr = "%s/.claude/projects/%s/%s.jsonl" % (home, san(proj), sid)
    try:
        errs = sum(l.count('"is_error":true') for l in open(tr))
    except OSError:
        errs = -1
    if errs:
        print("  warning: %s: %s failed tool call(s) in the transcript %s" % (name, errs if errs > 0 else "?", tr),
              file=sys.stderr)
PY
}

# `recall` is not in the default list: it writes to fixtures/recall, run it by name. Neither are
# `write-edit` and `subagent-fg`.
ALL=(notebook_edit big_write resume_clear subagent_bg parallel_agents parallel_agents_bg fork agent_fork switch_resume permission)
if [ $# -gt 0 ]; then ALL=("${@//-/_}"); fi
for s in "${ALL[@]}"; do
  echo "== $s" >&2
  "s_$s" || echo "session $s failed (see KEEP=1 $BASE)" >&2
done
