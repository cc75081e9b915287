#!/usr/bin/env bash
# scripts/bench/run.sh [CAPTURE]: the tcpsleuth benchmark (as root if it has to make the capture).
#
# 1. Without CAPTURE, makes (or reuses, if it is already there) a 1 GiB capture,
#    $BENCH_DIR/bench-1g.pcap (BENCH_DIR=/tmp/tcpsleuth-bench), with scripts/bench/make-capture.sh
#    (iperf3 bulk streams, thousands of short connections, random loss; snaplen 128).
# 2. Builds tcpsleuth (cargo build --release), reads the capture once to warm the page cache and
#    measures with /usr/bin/time -v, on that file (stdout to /dev/null; wall time, user+sys CPU,
#    peak RSS):
#      tcpsleuth analyze --format json FILE          (BENCH_RUNS runs, default 3: the median)
#      tshark -n -r FILE -q -z expert                 (BENCH_TSHARK_RUNS, default 1)
#      tcptrace -l -r -n FILE                         (BENCH_RUNS runs: the median)
#    Missing tshark / tcptrace are installed with apt-get; a tool that cannot be is skipped.
#    Prints a table, the ratios and the targets (>= 25x faster than tshark's expert pass, >= 2x
#    faster than tcptrace, peak RSS <= 64 MB).
# 3. Builds an 8x capture (4x if /tmp would keep less than 2 GiB free; skipped if even that does
#    not fit) with scripts/bench/concat-pcap.py (copies with shifted timestamps and client ports,
#    so every connection stays distinct) and measures tcpsleuth on it once: does the peak RSS
#    stay flat, is the time linear?
# 4. Deletes the big capture; keeps the 1 GiB one (and says where) only if /tmp keeps at least
#    BENCH_KEEP_FREE_GB (default 20) GiB free with it, or if it was given as CAPTURE.
#
# Knobs: BENCH_DIR, BENCH_RUNS, BENCH_TSHARK_RUNS, BENCH_MULTIPLIER (8), BENCH_SIZE_MB (1024),
# BENCH_KEEP_FREE_GB, BENCH_SKIP_TSHARK=1, BENCH_SKIP_TCPTRACE=1, BENCH_SKIP_BIG=1; the
# make-capture.sh knobs (BENCH_LOSS_PERMILLE, ...) pass through.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
BENCH_DIR=${BENCH_DIR:-/tmp/tcpsleuth-bench}
RUNS=${BENCH_RUNS:-3}
TSHARK_RUNS=${BENCH_TSHARK_RUNS:-1}
MULT=${BENCH_MULTIPLIER:-8}
SIZE_MB=${BENCH_SIZE_MB:-1024}
KEEP_FREE_GB=${BENCH_KEEP_FREE_GB:-20}
TCPSLEUTH="$ROOT/target/release/tcpsleuth"

log() { echo "[bench $(date +%T)] $*" >&2; }
die() { echo "[bench] error: $*" >&2; exit 1; }

if [ $# -gt 1 ]; then echo "usage: $0 [CAPTURE]" >&2; exit 2; fi
GIVEN=${1:-}
mkdir -p "$BENCH_DIR"
TMP="$(mktemp -d "$BENCH_DIR/run.XXXXXX")"
BIG=
cleanup() {
    rm -rf "$TMP"
    if [ -n "$BIG" ]; then rm -f "$BIG"; fi
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM

# ---- tools ----
command -v /usr/bin/time >/dev/null || die "/usr/bin/time is missing (apt-get install time)"
install_tool() { # install_tool COMMAND PACKAGE: 0 if COMMAND is (now) available
    command -v "$1" >/dev/null && return 0
    log "installing $2"
    if [ "$(id -u)" = 0 ]; then
        DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -q "$2" >/dev/null 2>&1 || true
    fi
    command -v "$1" >/dev/null
}
HAVE_TSHARK=0 HAVE_TCPTRACE=0
if [ "${BENCH_SKIP_TSHARK:-0}" != 1 ]; then
    if install_tool tshark tshark; then HAVE_TSHARK=1; else log "tshark cannot be installed: skipped"; fi
fi
if [ "${BENCH_SKIP_TCPTRACE:-0}" != 1 ]; then
    if install_tool tcptrace tcptrace; then HAVE_TCPTRACE=1; else log "tcptrace cannot be installed: skipped"; fi
fi
log "building tcpsleuth"
(cd "$ROOT" && cargo build --release --quiet) || die "cargo build --release failed"

# ---- the capture ----
if [ -n "$GIVEN" ]; then
    CAP=$GIVEN
    [ -r "$CAP" ] || die "$CAP: not readable"
else
    CAP="$BENCH_DIR/bench-1g.pcap"
    if [ -s "$CAP" ] && [ "$(stat -c %s "$CAP")" -ge $((SIZE_MB * 1048576)) ]; then
        log "reusing $CAP (delete it to make a new one)"
    else
        [ "$(id -u)" = 0 ] || die "making the capture needs root (or give a CAPTURE)"
        timeout 1800 "$HERE/make-capture.sh" "$CAP" "$SIZE_MB" >/dev/null
    fi
fi
CAP_BYTES=$(stat -c %s "$CAP")
log "counting the packets of $CAP"
CAP_PACKETS=$(capinfos -c -M "$CAP" 2>/dev/null | sed -n 's/^Number of packets: *\([0-9]*\).*/\1/p' || true)
[ -n "$CAP_PACKETS" ] || CAP_PACKETS=$(tcpdump -n -r "$CAP" 2>/dev/null | wc -l)

# ---- measuring ----
# measure NAME RUNS CMD...: runs CMD (stdout to /dev/null) RUNS times under /usr/bin/time -v and
# sets R_WALL R_CPU R_RSS_KB R_RC of the median run (by wall time).
measure() {
    local name=$1 runs=$2 i f wall cpu rss rc
    shift 2
    : >"$TMP/$name.runs"
    for ((i = 1; i <= runs; i++)); do
        f="$TMP/$name.$i.time"
        rc=0
        /usr/bin/time -v -o "$f" "$@" >/dev/null 2>"$TMP/$name.$i.err" || rc=$?
        wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {
            n = split($2, p, ":"); s = 0; for (j = 1; j <= n; j++) s = s * 60 + p[j]; print s }' "$f")
        cpu=$(awk -F': ' '/User time/ {u = $2} /System time/ {s = $2} END {printf "%.2f", u + s}' "$f")
        rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$f")
        log "$name run $i/$runs: ${wall}s wall, ${cpu}s CPU, $((rss / 1024)) MB peak RSS, exit $rc"
        echo "$wall $cpu $rss $rc" >>"$TMP/$name.runs"
    done
    read -r R_WALL R_CPU R_RSS_KB R_RC < <(sort -n "$TMP/$name.runs" | sed -n "$(((runs + 1) / 2))p")
}

log "warming the page cache with $CAP"
cat "$CAP" >/dev/null
declare -A WALL CPU RSS
measure tcpsleuth "$RUNS" "$TCPSLEUTH" analyze --format json "$CAP"
WALL[tcpsleuth]=$R_WALL CPU[tcpsleuth]=$R_CPU RSS[tcpsleuth]=$R_RSS_KB
if [ "$R_RC" != 0 ]; then
    log "warning: tcpsleuth exited with $R_RC: $(head -c 400 "$TMP"/tcpsleuth.1.err)"
fi
if [ "$HAVE_TSHARK" = 1 ]; then
    measure tshark "$TSHARK_RUNS" tshark -n -r "$CAP" -q -z expert
    WALL[tshark]=$R_WALL CPU[tshark]=$R_CPU RSS[tshark]=$R_RSS_KB
fi
if [ "$HAVE_TCPTRACE" = 1 ]; then
    measure tcptrace "$RUNS" tcptrace -l -r -n "$CAP"
    WALL[tcptrace]=$R_WALL CPU[tcptrace]=$R_CPU RSS[tcptrace]=$R_RSS_KB
fi

# ---- the bigger capture ----
BIG_DONE=0
if [ "${BENCH_SKIP_BIG:-0}" != 1 ]; then
    avail=$(df -B1 --output=avail "$BENCH_DIR" | tail -1)
    reserve=$((2 * 1024 * 1024 * 1024))
    if [ $((CAP_BYTES * MULT + reserve)) -gt "$avail" ]; then
        log "$(df -h "$BENCH_DIR" | tail -1): not enough room for ${MULT}x, trying 4x"
        MULT=4
    fi
    if [ $((CAP_BYTES * MULT + reserve)) -gt "$avail" ]; then
        log "not enough room in $BENCH_DIR even for 4x: big capture skipped"
    else
        BIG="$BENCH_DIR/bench-${MULT}x.pcap"
        log "writing $BIG ($MULT copies, shifted timestamps and client ports)"
        BIG_PACKETS=$(timeout 3600 python3 "$HERE/concat-pcap.py" "$CAP" "$BIG" "$MULT")
        BIG_BYTES=$(stat -c %s "$BIG")
        cat "$BIG" >/dev/null
        measure tcpsleuth-big 1 "$TCPSLEUTH" analyze --format json "$BIG"
        WALL[big]=$R_WALL CPU[big]=$R_CPU RSS[big]=$R_RSS_KB
        if [ "$R_RC" != 0 ]; then
            log "warning: tcpsleuth exited with $R_RC on $BIG: $(head -c 400 "$TMP"/tcpsleuth-big.1.err)"
        fi
        rm -f "$BIG"
        BIG=
        BIG_DONE=1
    fi
fi

# ---- report ----
mb() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }
div() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.2f", a / b; else print "n/a"}'; }
rate() { awk -v n="$1" -v s="$2" 'BEGIN {if (s > 0) printf "%.2f", n / s / 1e6; else print "n/a"}'; }
# met A OP B (OP: ge or le): "met" or "NOT met"
met() {
    if awk -v a="$1" -v op="$2" -v b="$3" 'BEGIN {exit !(op == "ge" ? a + 0 >= b + 0 : a + 0 <= b + 0)}'; then
        echo "met"
    else
        echo "NOT met"
    fi
}

echo
echo "tcpsleuth benchmark, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, $(free -g | awk '/^Mem:/ {print $2}') GiB RAM, $(uname -r)"
echo "capture: $CAP, $CAP_BYTES bytes ($(mb $((CAP_BYTES / 1024))) MiB), $CAP_PACKETS packets"
echo
printf '%-40s %10s %12s %14s %12s %10s\n' "command (stdout > /dev/null)" "wall s" "user+sys s" "peak RSS MiB" "Mpackets/s" "MB/s"
row() { # row LABEL KEY PACKETS BYTES
    printf '%-40s %10s %12s %14s %12s %10s\n' "$1" "${WALL[$2]}" "${CPU[$2]}" "$(mb "${RSS[$2]}")" \
        "$(rate "$3" "${WALL[$2]}")" "$(awk -v b="$4" -v s="${WALL[$2]}" 'BEGIN {printf "%.0f", b / s / 1e6}')"
}
row "tcpsleuth analyze --format json" tcpsleuth "$CAP_PACKETS" "$CAP_BYTES"
if [ "$HAVE_TSHARK" = 1 ]; then row "tshark -n -r FILE -q -z expert" tshark "$CAP_PACKETS" "$CAP_BYTES"; fi
if [ "$HAVE_TCPTRACE" = 1 ]; then row "tcptrace -l -r -n FILE" tcptrace "$CAP_PACKETS" "$CAP_BYTES"; fi
if [ "$BIG_DONE" = 1 ]; then
    row "tcpsleuth, ${MULT}x capture ($(mb $((BIG_BYTES / 1024 / 1024))) GiB)" big "$BIG_PACKETS" "$BIG_BYTES"
fi
echo "(median of $RUNS runs for tcpsleuth and tcptrace, $TSHARK_RUNS for tshark, 1 for the ${MULT}x capture; MB = 10^6 bytes of pcap)"
echo
if [ "$HAVE_TSHARK" = 1 ]; then
    r=$(div "${WALL[tshark]}" "${WALL[tcpsleuth]}")
    echo "tshark / tcpsleuth:   wall ${r}x, CPU $(div "${CPU[tshark]}" "${CPU[tcpsleuth]}")x, peak RSS $(div "${RSS[tshark]}" "${RSS[tcpsleuth]}")x   target >= 25x faster: $(met "$r" ge 25)"
fi
if [ "$HAVE_TCPTRACE" = 1 ]; then
    r=$(div "${WALL[tcptrace]}" "${WALL[tcpsleuth]}")
    echo "tcptrace / tcpsleuth: wall ${r}x, CPU $(div "${CPU[tcptrace]}" "${CPU[tcpsleuth]}")x, peak RSS $(div "${RSS[tcptrace]}" "${RSS[tcpsleuth]}")x   target >= 2x faster: $(met "$r" ge 2)"
fi
echo "tcpsleuth peak RSS at 1x: $(mb "${RSS[tcpsleuth]}") MiB   target <= 64 MB: $(met "${RSS[tcpsleuth]}" le 65536)"
if [ "$BIG_DONE" = 1 ]; then
    echo "tcpsleuth peak RSS at ${MULT}x: $(mb "${RSS[big]}") MiB ($(div "${RSS[big]}" "${RSS[tcpsleuth]}")x the 1x figure)   target <= 64 MB: $(met "${RSS[big]}" le 65536)"
    echo "tcpsleuth time at ${MULT}x: ${WALL[big]} s = $(div "${WALL[big]}" "${WALL[tcpsleuth]}")x the 1x time for ${MULT}x the data (linear: ${MULT}x)"
fi
echo

# ---- cleanup of the 1x capture ----
if [ -z "$GIVEN" ]; then
    avail=$(df -B1 --output=avail "$BENCH_DIR" | tail -1)
    if [ "$avail" -ge $((KEEP_FREE_GB * 1024 * 1024 * 1024)) ]; then
        echo "kept the 1x capture: $CAP ($(df -h --output=avail "$BENCH_DIR" | tail -1 | tr -d ' ') free); rm -r $BENCH_DIR to remove it"
    else
        rm -f "$CAP"
        echo "deleted the 1x capture ($CAP): less than $KEEP_FREE_GB GiB free in $BENCH_DIR"
    fi
fi
