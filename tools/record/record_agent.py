#!/usr/bin/env python3
"""Records another agent's real hook payloads, offline, into fixtures/agents/<agent>-<version>.jsonl.

  tools/record/record_agent.py gemini     # .tools/gemini (tools/install-gemini.sh), GEMINI=... for another
  tools/record/record_agent.py copilot    # .tools/copilot (tools/install-copilot.sh), COPILOT=...

One headless session in a fresh HOME and project, against the scripted model server of this
directory on loopback (fake_gemini.py; fake_responses.py for Copilot's BYOK provider), with
log_hook.py on every event the agent has (every tool). Edits are scripted below: a new file by a
relative path, an overwrite, an edit that fails, an edit of several occurrences. The temporary
project and home are renamed /home/dev/proj and /home/dev; nothing else is changed."""
import json, os, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REC = os.path.join(ROOT, "tools", "record")


def log_command(events):
    return f"python3 {REC}/log_hook.py {events}"


def gemini(tmp, events):
    """Settings, script and environment of a Gemini CLI session."""
    names = ["SessionStart", "BeforeAgent", "BeforeTool", "AfterTool", "AfterAgent", "SessionEnd", "PreCompress"]
    hooks = {e: [{"matcher": "*", "hooks": [{"type": "command", "name": "log", "timeout": 5000,
                                             "command": log_command(events)}]}] for e in names}
    os.makedirs(f"{tmp}/proj/.gemini")
    json.dump({"hooks": hooks}, open(f"{tmp}/proj/.gemini/settings.json", "w"))
    os.makedirs(f"{tmp}/home/.gemini")
    json.dump({"security": {"auth": {"selectedType": "gemini-api-key"}},
               "general": {"enableAutoUpdate": False, "enableAutoUpdateNotification": False},
               "privacy": {"usageStatisticsEnabled": False}}, open(f"{tmp}/home/.gemini/settings.json", "w"))
    f = "src/parser.rs"
    turns = [
        {"call": {"name": "write_file", "args": {"file_path": f, "content": "pub fn parse() {}\n// parser\n"}}},
        {"call": {"name": "write_file", "args": {"file_path": f, "content": "pub fn parse() {}\n// the parser\n// v2\n"}}},
        {"call": {"name": "replace", "args": {"file_path": f, "old_string": "not there", "new_string": "x",
                                              "instruction": "x"}}},
        {"call": {"name": "replace", "args": {"file_path": f"{tmp}/proj/{f}", "old_string": "parse",
                                              "new_string": "parse_all", "allow_multiple": True,
                                              "instruction": "rename"}}},
        {"call": {"name": "read_file", "args": {"file_path": f}}},
        {"text": "Renamed."},
    ]
    env = lambda port: {"GEMINI_API_KEY": "offline", "GEMINI_CLI_TRUST_WORKSPACE": "true",
                        "GEMINI_CLI_NO_RELAUNCH": "true", "GOOGLE_GEMINI_BASE_URL": f"http://127.0.0.1:{port}"}
    client = os.environ.get("GEMINI", f"{ROOT}/.tools/gemini/node_modules/.bin/gemini")
    return turns, "fake_gemini.py", env, [client, "-p", "rename the parser module", "--yolo"]


def copilot(tmp, events):
    """Hooks, script and environment of a Copilot CLI session (BYOK provider, offline mode)."""
    names = ["sessionStart", "userPromptSubmitted", "preToolUse", "postToolUse", "agentStop", "subagentStop",
             "sessionEnd", "errorOccurred"]
    hooks = {e: [{"type": "command", "bash": log_command(events), "timeoutSec": 5}] for e in names}
    os.makedirs(f"{tmp}/proj/.github/hooks")
    json.dump({"version": 1, "hooks": hooks}, open(f"{tmp}/proj/.github/hooks/log.json", "w"))
    os.makedirs(f"{tmp}/home")
    f = f"{tmp}/proj/src/login.rs"
    os.makedirs(f"{tmp}/proj/src")
    turns = [
        {"call": {"name": "create", "arguments": {"path": f, "file_text": "fn login() {}\n// todo\n"}}},
        {"call": {"name": "edit", "arguments": {"path": f, "old_str": "// todo", "new_str": "// checks\n// the token"}}},
        {"call": {"name": "edit", "arguments": {"path": f, "old_str": "not there", "new_str": "x"}}},
        {"text": "Fixed."},
    ]
    env = lambda port: {"COPILOT_OFFLINE": "true", "COPILOT_PROVIDER_BASE_URL": f"http://127.0.0.1:{port}/v1",
                        "COPILOT_PROVIDER_WIRE_API": "responses", "COPILOT_PROVIDER_API_KEY": "offline",
                        # A Claude model gets Copilot's create and edit tools (GPT-5, apply_patch).
                        "COPILOT_MODEL": "claude-sonnet-4.5", "COPILOT_ALLOW_ALL": "true"}
    client = os.environ.get("COPILOT", f"{ROOT}/.tools/copilot/node_modules/.bin/copilot")
    return turns, "fake_responses.py", env, [client, "-p", "fix the login bug", "--allow-all-tools"]


def main():
    agent = sys.argv[1]
    tmp = os.path.realpath(tempfile.mkdtemp(prefix="rec-"))
    events = f"{tmp}/events.jsonl"
    turns, server_script, env, argv = {"gemini": gemini, "copilot": copilot}[agent](tmp, events)
    json.dump(turns, open(f"{tmp}/script.json", "w"))
    server = subprocess.Popen(["python3", f"{REC}/{server_script}", f"{tmp}/script.json",
                               f"{tmp}/requests.jsonl", f"{tmp}/port"])
    try:
        while not os.path.exists(f"{tmp}/port") or not open(f"{tmp}/port").read():
            time.sleep(0.05)
        port = int(open(f"{tmp}/port").read())
        base = {"PATH": os.environ["PATH"], "HOME": f"{tmp}/home", "TMPDIR": tmp}
        subprocess.run(argv, env={**base, **env(port)}, cwd=f"{tmp}/proj", stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, check=True)
        time.sleep(1)  # the session-end hook is not awaited by every client
        version = subprocess.run([argv[0], "--version"], capture_output=True, text=True).stdout
        version = version.splitlines()[0].split()[-1].rstrip(".")
        out = f"{ROOT}/fixtures/agents/{agent}-{version}.jsonl"
        text = open(events).read().replace(f"{tmp}/proj", "/home/dev/proj").replace(f"{tmp}/home", "/home/dev")
        open(out, "w").write(text)
        print(f"{out}: {len(text.splitlines())} payloads", file=sys.stderr)
    finally:
        server.kill()
        subprocess.run(["rm", "-rf", tmp])


main()
