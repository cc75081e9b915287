#!/usr/bin/env bash
# capture-missed: a healthy download of LAB_SIZE bytes (default 1000000, as healthy-bulk), then
# frames are deleted from client.pcap after the fact with editcap: the server data segments
# number LAB_MISS (default "100 250 251 400") counted among the server's data segments in the
# client capture (1 = the first one). server.pcap is left as captured. The client's ACKs cover the
# deleted segments (they were delivered, just not recorded) and nothing is ever retransmitted.
# The deleted frame numbers are printed on stderr ("[lab] deleted frames: ...").
# Knobs: LAB_SIZE (default 1000000), LAB_MISS (default "100 250 251 400"), LAB_TLP (default 0).
# The download is healthy-bulk.sh (same knobs); this script only edits its client.pcap.
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 1; }
"$(dirname "$0")/healthy-bulk.sh" "$@"
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "$0")/../lib.sh"
miss=${LAB_MISS:-100 250 251 400}
client_pcap="$1/client.pcap" tmp=$(mktemp -d /tmp/tcpsleuth-missed.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# Frame numbers of the server's data segments in client.pcap, in order.
mapfile -t data_frames < <(tshark -n -r "$client_pcap" \
    -Y "ip.src == $SERVER_IP && tcp.len > 0" -T fields -e frame.number 2>/dev/null)
delete=()
for k in $miss; do
    { [ "$k" -ge 1 ] && [ "$k" -le "${#data_frames[@]}" ]; } ||
        lab_die "LAB_MISS: data segment $k does not exist (${#data_frames[@]} data segments)"
    delete+=("${data_frames[$((k - 1))]}")
done
editcap -F pcap "$client_pcap" "$tmp/client.pcap" "${delete[@]}"
mv "$tmp/client.pcap" "$client_pcap"
lab_log "deleted frames: ${delete[*]} (server data segments $miss) from client.pcap"
