#!/usr/bin/env bash
# Make sctpscope's own captures from real usrsctp peers (Debian package libusrsctp-examples).
#
# Two network namespaces joined by one veth pair; addresses only in 198.18.0.0/15 (RFC 2544 benchmarking)
# and fd00::/8 (unique local), so no packet can leave the machine. The kernel needs no SCTP module:
# usrsctp speaks SCTP itself, natively over raw IP sockets (IP protocol 132) or UDP-encapsulated
# (RFC 6951) over a kernel UDP socket. dumpcap records the client's end of the veth pair.
#
# Usage (as root):  tests/peers/make_captures.sh [OUTDIR]      (default: <repo>/captures)
# Writes, for each scenario NAME:
#   OUTDIR/usrsctp__NAME.pcapng        the capture
#   OUTDIR/usrsctp__NAME.server.log    the server's stdout+stderr (what it received, per message)
#   OUTDIR/usrsctp__NAME.client.log    the client's stdout+stderr (notifications, echoed data, stats)
# Only the processes this script starts are stopped, by PID; only the namespaces it made are deleted.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
peers_setup make_captures.sh "${1:-}" ip dumpcap timeout stdbuf
BIN=${USRSCTP_BIN:-/usr/lib/usrsctp}
for prog in echo_server client tsctp; do
    [[ -x $BIN/$prog ]] || { echo "make_captures.sh: $BIN/$prog missing (apt-get install libusrsctp-examples)" >&2; exit 1; }
done

ID=$$
NS_A=sctps-a-$ID            # client side, where dumpcap runs
NS_B=sctps-b-$ID            # server side
IF_A=sctpa$ID               # interface names must stay within 15 characters
IF_B=sctpb$ID
V4_A=198.18.0.1
V4_B=198.18.0.2
V6_A=fd00:5c7:5c7::1
V6_B=fd00:5c7:5c7::2
WORK=$(mktemp -d /tmp/sctps-captures.XXXXXX)
PIDS=()
MADE_NS=()

cleanup() {
    local rc=$?
    local pid
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    ip link del "$IF_A" 2>/dev/null || true          # only if it never made it into its namespace
    local ns
    for ns in "${MADE_NS[@]}"; do
        ip netns del "$ns" 2>/dev/null || true       # deleting a namespace deletes the veth end in it
    done
    rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

forget_pid() {  # drop a PID that has been waited for from the list cleanup() will kill
    local gone=$1 pid keep=()
    for pid in "${PIDS[@]}"; do [[ $pid == "$gone" ]] || keep+=("$pid"); done
    PIDS=("${keep[@]}")
}

stop_pid() {    # stop one process this script started (SIGINT first: dumpcap finishes its file on it)
    local pid=$1 sig=${2:-TERM} i
    kill "-$sig" "$pid" 2>/dev/null || true
    for i in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    forget_pid "$pid"
}

setup_network() {
    ip netns add "$NS_A"; MADE_NS+=("$NS_A")
    ip netns add "$NS_B"; MADE_NS+=("$NS_B")
    ip link add "$IF_A" type veth peer name "$IF_B"
    ip link set "$IF_A" netns "$NS_A"
    ip link set "$IF_B" netns "$NS_B"
    local ns ifc v4 v6
    for side in A B; do
        if [[ $side == A ]]; then ns=$NS_A ifc=$IF_A v4=$V4_A v6=$V6_A; else ns=$NS_B ifc=$IF_B v4=$V4_B v6=$V6_B; fi
        # No router solicitations or autoconfigured addresses: the captures hold only what the peers send.
        ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$ifc.accept_ra=0" "net.ipv6.conf.$ifc.router_solicitations=0"
        ip netns exec "$ns" ip link set lo up
        ip netns exec "$ns" ip addr add "$v4/24" dev "$ifc"
        ip netns exec "$ns" ip addr add "$v6/64" dev "$ifc" nodad
        ip netns exec "$ns" ip link set "$ifc" up
    done
    # Let link-up chatter (IPv6 MLD reports) pass before any capture starts.
    sleep 2
}

CAP_PID=""
start_capture() {   # start_capture FILE: dumpcap on the client's veth end, returns once it is capturing
    local file=$1 err=$WORK/dumpcap.err i
    : >"$err"
    # Background jobs are plain commands (never shell functions): $! is then the program's own PID, as
    # `ip netns exec` and `stdbuf` exec into it, so stopping it by PID really stops it.
    ip netns exec "$NS_A" dumpcap -q -i "$IF_A" -w "$file" 2>"$err" &
    CAP_PID=$!
    PIDS+=("$CAP_PID")
    for i in $(seq 100); do
        grep -q "Capturing on" "$err" && break
        kill -0 "$CAP_PID" 2>/dev/null || { cat "$err" >&2; echo "dumpcap died" >&2; exit 1; }
        sleep 0.1
    done
    sleep 0.5
}

stop_capture() {
    sleep 0.5
    stop_pid "$CAP_PID" INT
}

SRV_PID=""
start_server() {    # start_server LOG PROG ARGS...: a server in the server namespace, line-buffered output
    local log=$1; shift
    echo "# server (in namespace B, $V4_B / $V6_B): $*" >"$log"
    ip netns exec "$NS_B" stdbuf -oL -eL "$@" >>"$log" 2>&1 &
    SRV_PID=$!
    PIDS+=("$SRV_PID")
    sleep 1
    kill -0 "$SRV_PID" 2>/dev/null || { cat "$log" >&2; echo "server died" >&2; exit 1; }
}

stop_server() {
    stop_pid "$SRV_PID" TERM
}

lines() {   # the client's input: a few lines, paced so that every echo comes back before the next line
    local line
    for line in "$@"; do
        printf '%s\n' "$line"
        sleep 0.4
    done
    sleep 0.5
}

run_client() {  # run_client LOG INPUT_FUNCTION PROG ARGS...: the client in namespace A, bounded in time
    local log=$1 feed=$2; shift 2
    echo "# client (in namespace A, $V4_A / $V6_A): $*" >"$log"
    local rc=0
    $feed | timeout 30 ip netns exec "$NS_A" stdbuf -oL -eL "$@" >>"$log" 2>&1 || rc=$?
    echo "# client exit status: $rc" >>"$log"
    [[ $rc -eq 0 ]] || echo "warning: client exited with status $rc (see $log)" >&2
}

finish() {      # finish NAME: move the capture and its logs into OUTDIR, report what tshark sees
    local name=$1
    mv "$WORK/$name.pcapng" "$OUT/usrsctp__$name.pcapng"
    mv "$WORK/$name.server.log" "$OUT/usrsctp__$name.server.log"
    mv "$WORK/$name.client.log" "$OUT/usrsctp__$name.client.log"
    chmod 644 "$OUT/usrsctp__$name".*
    if command -v tshark >/dev/null; then
        local all sctp
        all=$(tshark -n -r "$OUT/usrsctp__$name.pcapng" -T fields -e frame.number 2>/dev/null | wc -l)
        sctp=$(tshark -n -r "$OUT/usrsctp__$name.pcapng" -Y 'sctp && !icmp && !icmpv6' -T fields -e frame.number 2>/dev/null | wc -l)
        echo "usrsctp__$name.pcapng: $(stat -c %s "$OUT/usrsctp__$name.pcapng") bytes, $all frames, $sctp SCTP"
    fi
}

echo_feed() { lines "hello, sctpscope" "a second message" "and a third one, a little longer than the others"; }

# Path failure: after the first echo, the server's IPv4 route back to the client is blackholed for a few
# seconds, so its SACKs and echoes to 198.18.0.1 are lost; the client's T3-rtx timer fires and it retransmits,
# possibly over the alternate (IPv6) path, and the server sees duplicate TSNs. Then the route comes back.
lossy_feed() {
    printf '%s\n' "before the outage"
    sleep 0.6
    ip -n "$NS_B" route add blackhole "$V4_A/32"
    printf '%s\n' "during the outage"
    sleep 0.3
    printf '%s\n' "still in the outage"
    sleep 6
    ip -n "$NS_B" route del blackhole "$V4_A/32"
    sleep 1
    printf '%s\n' "after the outage"
    sleep 1.5
}

scenario_echo() {   # scenario_echo NAME [FEED=] SERVER_ARGS -- CLIENT_ARGS
    local name=$1; shift
    local feed=echo_feed
    if [[ $1 == FEED=* ]]; then feed=${1#FEED=}; shift; fi
    local srv=() cli=()
    while [[ $1 != -- ]]; do srv+=("$1"); shift; done
    shift
    cli=("$@")
    start_capture "$WORK/$name.pcapng"
    start_server "$WORK/$name.server.log" "$BIN/echo_server" "${srv[@]}"
    run_client "$WORK/$name.client.log" "$feed" "$BIN/client" "${cli[@]}"
    stop_server
    stop_capture
    finish "$name"
}

scenario_tsctp() {  # scenario_tsctp NAME CLIENT_OPTIONS...: tsctp sink in B, tsctp sender in A
    local name=$1; shift
    start_capture "$WORK/$name.pcapng"
    start_server "$WORK/$name.server.log" "$BIN/tsctp" -v -E 9899
    run_client "$WORK/$name.client.log" true "$BIN/tsctp" -v -E 9899 "$@" "$V4_B"
    sleep 1         # the sink prints its summary when the association has closed
    stop_server
    stop_capture
    finish "$name"
}

scenario_tsctp_ipfrag() {   # route MTU 1280 both ways: the kernel fragments usrsctp's 1500-byte UDP datagrams
    local name=$1; shift
    ip -n "$NS_A" route add "$V4_B/32" dev "$IF_A" mtu lock 1280
    ip -n "$NS_B" route add "$V4_A/32" dev "$IF_B" mtu lock 1280
    start_capture "$WORK/$name.pcapng"
    start_server "$WORK/$name.server.log" "$BIN/tsctp" -v -E 9899
    run_client "$WORK/$name.client.log" true "$BIN/tsctp" -v -E 9899 -U 9899 "$@" "$V4_B"
    sleep 1
    stop_server
    stop_capture
    ip -n "$NS_A" route del "$V4_B/32"
    ip -n "$NS_B" route del "$V4_A/32"
    finish "$name"
}

setup_network

# echo_server: port 7, usrsctp_init(local UDP encapsulation port), optional remote encapsulation port.
# client: remote_addr remote_port local_port [local_encaps_port remote_encaps_port]; each stdin line is one
# message; EOF starts a graceful SHUTDOWN, and the client exits on SHUTDOWN_COMPLETE.
scenario_echo echo_ipv4     -- "$V4_B" 7 5007
scenario_echo echo_ipv6     -- "$V6_B" 7 5007
scenario_echo echo_udpencap 9899 9899 -- "$V4_B" 7 5007 9899 9899
scenario_echo echo_rtx_ipv4 FEED=lossy_feed -- "$V4_B" 7 5007
# tsctp: 8 messages of 3000 bytes, fragment point 1000 bytes, so every message is sent as 3+ DATA chunks
# (B, middle, E bits); -U would encapsulate, -u would send unordered.
scenario_tsctp tsctp_ipv4 -n 8 -l 3000 -f 1000
scenario_tsctp tsctp_unordered_ipv4 -n 6 -l 2500 -f 1200 -u
# Over raw IP usrsctp sets DF on DATA (the packets would be dropped): over UDP the kernel fragments them.
scenario_tsctp_ipfrag tsctp_ipfrag_udpencap -n 4 -l 4000
