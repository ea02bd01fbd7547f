#!/usr/bin/env python3
"""Hook command used while recording: append the hook's stdin JSON as one line to argv[1].
Prints nothing, exits 0 (never influences the session)."""
import fcntl, json, sys
raw = sys.stdin.read()
try:
    line = json.dumps(json.loads(raw))
except Exception:
    line = json.dumps({"_unparsed_stdin": raw})
with open(sys.argv[1], "a") as f:
    fcntl.flock(f, fcntl.LOCK_EX)
    f.write(line + "\n")
    f.flush()
    fcntl.flock(f, fcntl.LOCK_UN)
