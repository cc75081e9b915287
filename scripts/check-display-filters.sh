#!/usr/bin/env bash
# Checks that every Wireshark display filter tcpsleuth prints is accepted by tshark.
#
#   scripts/check-display-filters.sh [CAPTURE...]
#
# Defaults to every capture under fixtures/captures and ../shared/corpus/public. Each distinct
# filter of `tcpsleuth analyze --format json` is compiled by `tshark -Y` on a small capture;
# the script prints the ones tshark rejects and exits 1 if there are any. Needs tshark and
# python3; builds tcpsleuth in release mode.
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"
command -v tshark >/dev/null || { echo "error: tshark not found" >&2; exit 2; }
cargo build --release -q
if [ "$#" -eq 0 ]; then
  mapfile -t captures < <(find fixtures/captures ../shared/corpus/public -type f ! -name 'MANIFEST*' | sort)
else
  captures=("$@")
fi
filters=$(mktemp)
trap 'rm -f "$filters"' EXIT
for capture in "${captures[@]}"; do
  ./target/release/tcpsleuth analyze --format json "$capture" 2>/dev/null || true
done | python3 -c '
import json, sys
decoder, text, seen = json.JSONDecoder(), sys.stdin.read(), set()
i = 0
while i < len(text):
    if text[i].isspace():
        i += 1
        continue
    doc, i = decoder.raw_decode(text, i)
    for conn in doc["connections"]:
        for finding in conn["findings"]:
            seen.add(finding["display_filter"])
print("\n".join(sorted(seen)))
' > "$filters"
probe=fixtures/captures/lab/receiver-drops-then-resets.pcap
bad=0
total=0
while IFS= read -r filter; do
  [ -n "$filter" ] || continue
  total=$((total + 1))
  if ! tshark -r "$probe" -Y "$filter" -c 1 >/dev/null 2>&1; then
    echo "rejected: $filter"
    bad=$((bad + 1))
  fi
done < "$filters"
echo "$total distinct display filters, $bad rejected by $(tshark --version | head -n 1)"
[ "$bad" -eq 0 ]
