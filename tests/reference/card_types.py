"""Writes tests/data/card_types.json: the card networks, IIN patterns and lengths of
Braintree's `credit-card-type` (npm), an independent table that tests/detect_cards.rs
checks memscan's IIN table against.

    npm pack credit-card-type@10.3.0 && tar xzf credit-card-type-10.3.0.tgz
    python tests/reference/card_types.py package/src/lib/card-types.ts > tests/data/card_types.json
"""
import json
import re
import sys

src = open(sys.argv[1], encoding="utf-8").read()
types = []
# each entry: `name: { ... type: "x", patterns: [...], ... lengths: [...], ...}`
for m in re.finditer(r'type: "([a-z\-]+)",\s*patterns: \[(.*?)\],\s*gaps: \[[^\]]*\],\s*lengths: \[([^\]]*)\]', src, re.S):
    name, pats, lens = m.group(1), m.group(2), m.group(3)
    patterns = []
    body = re.sub(r"\s+", "", pats)
    for p in re.finditer(r"\[(\d+),(\d+)\]|(\d+)", body):
        if p.group(3):
            patterns.append([int(p.group(3)), int(p.group(3))])
        else:
            patterns.append([int(p.group(1)), int(p.group(2))])
    lengths = [int(x) for x in lens.split(",") if x.strip()]
    types.append({"type": name, "patterns": patterns, "lengths": lengths})
assert len(types) >= 10, f"parsed only {len(types)} types"
json.dump({"source": "credit-card-type 10.3.0 (npm), src/lib/card-types.ts", "types": types}, sys.stdout, indent=1)
print()
