#!/usr/bin/env bash
# lab/run.sh: regenerate the lab captures (and, for the default output directory, the tshark
# goldens of the repository's own captures) with one command. Needs root.
#
#   lab/run.sh [--out DIR] [--no-golden] [--list] [SCENARIO...]
#
# Runs lab/scenarios/SCENARIO.sh DIR/SCENARIO for every SCENARIO given (default: every script in
# lab/scenarios, in name order), one after the other; each writes DIR/SCENARIO/client.pcap and
# DIR/SCENARIO/server.pcap. DIR defaults to <repo>/fixtures/captures/lab. When DIR is that default
# (and --no-golden is not given), it then runs
#   scripts/tshark-golden.sh fixtures/captures fixtures/tshark-own
# so the conformance goldens follow the new captures. A scenario that fails is reported and the
# others still run; the exit status is 1 if any failed.
#
# Scenarios read LAB_* environment knobs (see lab/README.md and each script's header), e.g.
#   LAB_LOSS_PERMILLE=50 lab/run.sh --out /tmp/lab loss-random
# Common knobs (lab/lib.sh): LAB_FORWARD=kernel|user, LAB_SNAPLEN, LAB_KEEP=1, LAB_VERBOSE=1.
# LAB_SCENARIO_TIMEOUT (default 120) bounds each scenario in seconds.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
default_out="$repo/fixtures/captures/lab"
out="$default_out"
golden=1
list=0
names=()
while [ $# -gt 0 ]; do
    case "$1" in
        --out) out=${2:?--out needs a directory}; shift 2 ;;
        --out=*) out=${1#--out=}; shift ;;
        --no-golden) golden=0; shift ;;
        --list) list=1; shift ;;
        -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "unknown option $1" >&2; exit 2 ;;
        *) names+=("${1%.sh}"); shift ;;
    esac
done
if [ ${#names[@]} -eq 0 ]; then
    for f in "$repo"/lab/scenarios/*.sh; do
        n=$(basename "$f" .sh)
        names+=("$n")
    done
fi
if [ "$list" = 1 ]; then
    printf '%s\n' "${names[@]}"
    exit 0
fi
[ "$(id -u)" = 0 ] || { echo "lab/run.sh must run as root (network namespaces)" >&2; exit 2; }
for n in "${names[@]}"; do
    [ -x "$repo/lab/scenarios/$n.sh" ] || { echo "no scenario lab/scenarios/$n.sh" >&2; exit 2; }
done
mkdir -p "$out"
out="$(cd "$out" && pwd)"

failed=()
for n in "${names[@]}"; do
    echo "=== $n"
    rm -rf "${out:?}/$n"
    mkdir -p "$out/$n"
    start=$(date +%s)
    if timeout "${LAB_SCENARIO_TIMEOUT:-120}" "$repo/lab/scenarios/$n.sh" "$out/$n"; then
        echo "--- $n: ok in $(($(date +%s) - start)) s: $(cd "$out/$n" && wc -c client.pcap server.pcap 2>/dev/null | head -2 | tr -s ' \n' ' ')"
    else
        echo "--- $n: FAILED" >&2
        failed+=("$n")
    fi
done

if [ "$out" = "$default_out" ] && [ "$golden" = 1 ]; then
    echo "=== tshark goldens"
    (cd "$repo" && scripts/tshark-golden.sh fixtures/captures fixtures/tshark-own)
fi
echo "total size of $out: $(du -sh "$out" | cut -f1)"
if [ ${#failed[@]} -gt 0 ]; then
    echo "FAILED: ${failed[*]}" >&2
    exit 1
fi
