#!/usr/bin/env bash
# Regenerate the tshark golden exports used by tests/conformance.rs.
#
#   scripts/tshark-golden.sh [CORPUS_DIR] [OUT_DIR]
#
# Defaults: CORPUS_DIR = <repo>/../shared/corpus/public, OUT_DIR = <repo>/fixtures/tshark.
#
# For every capture under CORPUS_DIR (recursive; MANIFEST.* ignored; .pcap.gz is read by tshark
# directly) it writes, named from the corpus-relative path with '/' -> '__':
#   <name>.tsv.gz     per-frame fields (every frame, non-TCP frames have an empty tcp.stream),
#                     tab separated, header row, gzip -n (deterministic)
#   <name>.conv.txt   output of `tshark -n -q -z conv,tcp`
# plus INDEX.tsv: name, corpus path, capture size in bytes, sha256, tshark exit status of the
# field export, rows written (frames), and tshark's stderr (first line, minus the root warning).
#
# The invocation is the one of wireshark-tcp-analysis.md §14.1, but SINGLE PASS (no -2): tcpsleuth
# streams, so it reproduces single-pass semantics (completeness and initial_rtt differ with -2).
#
# tshark must be 4.0.17; set TSHARK_GOLDEN_ANY_VERSION=1 to override (the goldens will then
# probably not match the analyzer, which targets 4.0.17). TSHARK=/path/to/tshark selects a binary.
set -euo pipefail
export LC_ALL=C

REQUIRED_VERSION="4.0.17"
TSHARK="${TSHARK:-tshark}"
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
corpus_dir="${1:-$repo_root/../shared/corpus/public}"
out_dir="${2:-$repo_root/fixtures/tshark}"

command -v "$TSHARK" >/dev/null 2>&1 || { echo "error: $TSHARK not found" >&2; exit 2; }
command -v gzip >/dev/null 2>&1 || { echo "error: gzip not found" >&2; exit 2; }
[ -d "$corpus_dir" ] || { echo "error: corpus directory $corpus_dir does not exist" >&2; exit 2; }

version="$("$TSHARK" --version 2>/dev/null | head -n 1 | sed -n 's/^TShark (Wireshark) \([0-9][0-9.]*\).*/\1/p')"
if [ "$version" != "$REQUIRED_VERSION" ]; then
    if [ "${TSHARK_GOLDEN_ANY_VERSION:-}" = "1" ]; then
        echo "warning: tshark is '${version:-unknown}', not $REQUIRED_VERSION (TSHARK_GOLDEN_ANY_VERSION=1)" >&2
    else
        echo "error: tshark is '${version:-unknown}', goldens must come from $REQUIRED_VERSION" >&2
        echo "       (set TSHARK_GOLDEN_ANY_VERSION=1 to override)" >&2
        exit 2
    fi
fi

corpus_dir="$(cd "$corpus_dir" && pwd)"
mkdir -p "$out_dir"
out_dir="$(cd "$out_dir" && pwd)"

# An empty config dir makes tshark ignore any saved user preferences; the -o options pin the rest.
cfg_dir="$(mktemp -d)"
tmp_dir="$(mktemp -d)"
trap 'rm -rf "$cfg_dir" "$tmp_dir"' EXIT
export WIRESHARK_CONFIG_DIR="$cfg_dir"

prefs=(
    -o tcp.analyze_sequence_numbers:TRUE -o tcp.relative_sequence_numbers:TRUE
    -o tcp.track_bytes_in_flight:TRUE -o tcp.bif_seq_based:FALSE
    -o tcp.fastrt_supersedes_ooo:TRUE -o tcp.calculate_timestamps:TRUE
    -o tcp.check_checksum:FALSE -o 'tcp.default_window_scaling:Not known'
)
fields=(
    frame.number tcp.stream
    frame.len ip.src ipv6.src tcp.srcport ip.dst ipv6.dst tcp.dstport
    tcp.len tcp.seq tcp.ack tcp.flags
    tcp.analysis.retransmission tcp.analysis.fast_retransmission
    tcp.analysis.spurious_retransmission tcp.analysis.out_of_order
    tcp.analysis.lost_segment tcp.analysis.ack_lost_segment
    tcp.analysis.duplicate_ack tcp.analysis.duplicate_ack_num
    tcp.analysis.duplicate_ack_frame tcp.analysis.zero_window
    tcp.analysis.zero_window_probe tcp.analysis.zero_window_probe_ack
    tcp.analysis.window_full tcp.analysis.window_update
    tcp.analysis.keep_alive tcp.analysis.keep_alive_ack
    tcp.analysis.reused_ports tcp.analysis.rto tcp.analysis.rto_frame
    tcp.analysis.acks_frame tcp.analysis.ack_rtt tcp.analysis.initial_rtt
    tcp.analysis.bytes_in_flight tcp.analysis.push_bytes_sent
    tcp.completeness
)
field_args=()
for f in "${fields[@]}"; do field_args+=(-e "$f"); done

# Start from a clean set of generated files so renamed/removed captures leave nothing stale.
rm -f "$out_dir"/*.tsv.gz "$out_dir"/*.conv.txt "$out_dir"/INDEX.tsv

index="$tmp_dir/INDEX.tsv"
printf 'name\tpath\tsize\tsha256\ttshark_status\trows\ttshark_stderr\n' >"$index"

count=0
while IFS= read -r -d '' file; do
    rel="${file#"$corpus_dir"/}"
    name="${rel//\//__}"
    status=0
    "$TSHARK" -n -r "$file" "${prefs[@]}" \
        -T fields -E header=y -E separator=/t -E occurrence=f -E quote=n \
        "${field_args[@]}" >"$tmp_dir/out.tsv" 2>"$tmp_dir/err.txt" || status=$?
    # Damaged files make tshark stop with an error after the readable frames: keep what it printed.
    if [ "$status" -ne 0 ]; then
        echo "note: tshark exited $status on $rel: $(grep -v 'Running as user' "$tmp_dir/err.txt" | head -n 1)" >&2
    fi
    gzip -n -9 -c "$tmp_dir/out.tsv" >"$out_dir/$name.tsv.gz"

    "$TSHARK" -n -q -r "$file" -z conv,tcp >"$out_dir/$name.conv.txt" 2>/dev/null || true

    size="$(wc -c <"$file" | tr -d ' ')"
    sha="$(sha256sum "$file" | cut -d' ' -f1)"
    rows="$(($(wc -l <"$tmp_dir/out.tsv") - 1))"
    err="$(grep -v 'Running as user' "$tmp_dir/err.txt" | head -n 1 | tr '\t' ' ' | sed "s|$corpus_dir/||g" || true)"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$rel" "$size" "$sha" "$status" "$rows" "$err" >>"$index"
    count=$((count + 1))
done < <(find "$corpus_dir" -type f ! -name 'MANIFEST.*' -print0 | sort -z)

mv "$index" "$out_dir/INDEX.tsv"
echo "wrote goldens for $count captures to $out_dir ($(du -sh "$out_dir" | cut -f1))"
