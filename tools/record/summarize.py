#!/usr/bin/env python3
"""Print event counts (hook_event_name / tool_name, SessionStart source, SessionEnd reason) per recording."""
import collections, json, sys
for f in sys.argv[1:]:
    c = collections.Counter()
    sids = []
    for line in open(f):
        d = json.loads(line)
        e = d.get("hook_event_name")
        k = e + ("/" + d["tool_name"] if "tool_name" in d else "")
        if e == "SessionStart":
            k += "(" + d.get("source", "") + ")"
        if e == "SessionEnd":
            k += "(" + d.get("reason", "") + ")"
        if e == "Notification":
            k += "(" + d.get("notification_type", "") + ")"
        if d.get("agent_id"):
            k += " [subagent]"
        c[k] += 1
        if d["session_id"] not in sids:
            sids.append(d["session_id"])
    print("%s: %d events, %d session_id(s)" % (f.rsplit("/", 1)[-1], sum(c.values()), len(sids)))
    print("   " + ", ".join("%s x%d" % kv for kv in c.items()))
