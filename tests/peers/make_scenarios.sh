#!/usr/bin/env bash
# Make sctpscope's scenario captures: real SCTP from the userspace stack (libusrsctp) driven by our own small
# peer program (tests/peers/sctp_peer.c), each capture with a JSON-lines log of what every application sent
# and received (the truth tests/test_scenarios.py checks the report against).
#
# Network (all made here, all deleted on exit): three namespaces, addresses only in 198.18.0.0/15 (RFC 2544)
# and fd00::/8 (unique local), so nothing can leave the machine.
#
#   NS_C (client host 1)  ifc1 198.18.1.1 fd00:5c7:1::1 ==== ifs1 198.18.1.2 fd00:5c7:1::2   NS_S (server)
#                         ifc2 198.18.2.1 fd00:5c7:2::1 ==== ifs2 198.18.2.2 fd00:5c7:2::2   (second path)
#   NS_D (client host 2)  ifd3 198.18.3.1               ==== ifs3 198.18.3.2
#   NS_D reaches the server's 198.18.1.2 over its own pair (on-link route), so clients from both hosts talk
#   to one single-homed server address. dumpcap runs in NS_S on the server's veth end(s).
# The well-known-port scenarios (ngap_many_gnbs, m3ua_pair) use a second network, made only for them: see
# setup_ran_network below.
#
# Usage (as root):  tests/peers/make_scenarios.sh [OUTDIR] [SCENARIO...]     (default: <repo>/captures, all)
# Writes OUTDIR/scenario__NAME.pcapng and OUTDIR/scenario__NAME.log.jsonl (all peers' lines, by time).
# Only the processes this script starts are stopped (by PID); only what it made is deleted.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
peers_setup make_scenarios.sh "${1:-}" ip dumpcap gcc python3
shift || true
ONLY=("$@")

ID=$$
NS_S=scn-s-$ID; NS_C=scn-c-$ID; NS_D=scn-d-$ID
IFC1=sc1c$ID; IFS1=sc1s$ID; IFC2=sc2c$ID; IFS2=sc2s$ID; IFD3=sc3d$ID; IFS3=sc3s$ID
C1=198.18.1.1; S1=198.18.1.2; C2=198.18.2.1; S2=198.18.2.2; D3=198.18.3.1; S3=198.18.3.2
C1_6=fd00:5c7:1::1; S1_6=fd00:5c7:1::2; C2_6=fd00:5c7:2::1; S2_6=fd00:5c7:2::2
SPORT=5000
WORK=$(mktemp -d /tmp/sctps-scenarios.XXXXXX)
PEER=$WORK/sctp_peer
PIDS=()
MADE_NS=()
MADE_IF=()

cleanup() {
    local rc=$? pid ns ifc
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    for ifc in "${MADE_IF[@]}"; do ip link del "$ifc" 2>/dev/null || true; done   # not yet moved
    for ns in "${MADE_NS[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
    rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

forget_pid() {
    local gone=$1 pid keep=()
    for pid in "${PIDS[@]}"; do [[ $pid == "$gone" ]] || keep+=("$pid"); done
    PIDS=("${keep[@]}")
}

gcc -O2 -Wall -o "$PEER" "$HERE/sctp_peer.c" -lusrsctp -lpthread

pair() {    # pair NS_A IF_A V4_A V6_A NS_B IF_B V4_B V6_B  (V6 may be "-")
    local nsa=$1 ifa=$2 v4a=$3 v6a=$4 nsb=$5 ifb=$6 v4b=$7 v6b=$8
    ip link add "$ifa" type veth peer name "$ifb"; MADE_IF+=("$ifa")
    ip link set "$ifa" netns "$nsa"
    ip link set "$ifb" netns "$nsb"
    local ns ifc v4 v6
    for side in a b; do
        if [[ $side == a ]]; then ns=$nsa ifc=$ifa v4=$v4a v6=$v6a; else ns=$nsb ifc=$ifb v4=$v4b v6=$v6b; fi
        ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$ifc.accept_ra=0" "net.ipv6.conf.$ifc.router_solicitations=0"
        ip -n "$ns" addr add "$v4/24" dev "$ifc"
        [[ $v6 == - ]] || ip -n "$ns" addr add "$v6/64" dev "$ifc" nodad
        ip -n "$ns" link set "$ifc" up
    done
}

setup_network() {
    local ns
    for ns in "$NS_S" "$NS_C" "$NS_D"; do
        ip netns add "$ns"; MADE_NS+=("$ns")
        ip -n "$ns" link set lo up
    done
    pair "$NS_C" "$IFC1" "$C1" "$C1_6" "$NS_S" "$IFS1" "$S1" "$S1_6"
    pair "$NS_C" "$IFC2" "$C2" "$C2_6" "$NS_S" "$IFS2" "$S2" "$S2_6"
    pair "$NS_D" "$IFD3" "$D3" - "$NS_S" "$IFS3" "$S3" -
    MADE_IF=()
    ip -n "$NS_D" route add "$S1/32" dev "$IFD3"
    sleep 2     # let link-up chatter (MLD) pass before any capture starts
}

CAP_PID=""
SCEN_PIDS=()
NAME=""
begin() {   # begin NAME IFACE...: dumpcap on the server's interfaces (in namespace CAP_NS, default NS_S)
    NAME=$1; shift
    local err=$WORK/dumpcap.err i args=()
    for i in "$@"; do args+=(-i "$i"); done
    : >"$err"
    rm -f "$WORK/$NAME".*
    ip netns exec "${CAP_NS:-$NS_S}" dumpcap -q "${args[@]}" -w "$WORK/$NAME.pcapng" 2>"$err" &
    CAP_PID=$!
    PIDS+=("$CAP_PID")
    for i in $(seq 100); do
        grep -q "Capturing on" "$err" && break
        kill -0 "$CAP_PID" 2>/dev/null || { cat "$err" >&2; echo "dumpcap died" >&2; exit 1; }
        sleep 0.1
    done
    sleep 0.5
    echo "== $NAME"
}

peer() {    # peer NS LOGNAME ARGS...: one sctp_peer in the background
    local ns=$1 log=$WORK/$NAME.$2.jsonl; shift 2
    ip netns exec "$ns" "$PEER" "$@" >"$log" 2>"$log.err" &
    PIDS+=("$!")
    SCEN_PIDS+=("$!")
}

end() {     # end: wait for the peers (each has its own watchdog), stop dumpcap, merge the logs
    local pid rc
    for pid in "${SCEN_PIDS[@]}"; do
        rc=0; wait "$pid" || rc=$?
        forget_pid "$pid"
        [[ $rc -eq 0 ]] || echo "warning: $NAME: a peer (pid $pid) exited with status $rc" >&2
    done
    SCEN_PIDS=()
    sleep 0.5
    kill -INT "$CAP_PID" 2>/dev/null || true
    wait "$CAP_PID" 2>/dev/null || true
    forget_pid "$CAP_PID"
    python3 - "$WORK" "$NAME" "$OUT/scenario__$NAME.log.jsonl" <<'EOF'
import glob, json, sys
work, name, out = sys.argv[1:]
rows = []
for path in sorted(glob.glob(f"{work}/{name}.*.jsonl")):
    for line in open(path):
        line = line.strip()
        if line:
            rows.append(json.loads(line))
rows.sort(key=lambda r: r["t"])
with open(out, "w") as f:
    for r in rows:
        f.write(json.dumps(r) + "\n")
EOF
    cat "$WORK/$NAME".*.err >&2 || true
    mv "$WORK/$NAME.pcapng" "$OUT/scenario__$NAME.pcapng"
    chmod 644 "$OUT/scenario__$NAME".*
    local all sctp
    all=$(tshark -n -r "$OUT/scenario__$NAME.pcapng" -T fields -e frame.number 2>/dev/null | wc -l)
    sctp=$(tshark -n -r "$OUT/scenario__$NAME.pcapng" -Y sctp -T fields -e frame.number 2>/dev/null | wc -l)
    echo "scenario__$NAME.pcapng: $(stat -c %s "$OUT/scenario__$NAME.pcapng") bytes, $all frames, $sctp SCTP"
}

want() {    # want NAME: run this scenario? (all when none were named)
    [[ ${#ONLY[@]} -eq 0 ]] && return 0
    local n; for n in "${ONLY[@]}"; do [[ $n == "$1" ]] && return 0; done
    return 1
}

SRV=(--role server --lport "$SPORT")
cli() {     # cli NAME LPORT [LOCAL [REMOTE]]: the usual client options
    echo --role "$1" --lport "$2" --local "${3:-$C1}" --remote "${4:-$S1}" --rport "$SPORT"
}

# usrsctp answers every SCTP packet it cannot place with an ABORT until sctp_peer has set its blackhole
# sysctl, a moment after start-up; every usrsctp process in a namespace sees every SCTP packet there (raw
# sockets). So all clients of a namespace are started together and connect later (--delay), when all are
# ready: no handshake is ever in flight while a new process starts up.
setup_network

# a. sendall_chat: one-to-many server broadcasting every message with SCTP_SENDALL to its 3 associations;
#    c1, c2 from host C, c3 from host D; each client sends 2 messages (all 3 are up by then) and closes.
if want sendall_chat; then
    begin sendall_chat "$IFS1" "$IFS3"
    peer "$NS_S" server "${SRV[@]}" --local "$S1" --bcast waitup:3:15000 waitdown:20000
    sleep 0.5
    peer "$NS_C" c1 $(cli c1 5001) --delay 600 sleep:1000 send:0:51:100 sleep:1500 send:1:51:120 sleep:3000
    peer "$NS_C" c2 $(cli c2 5002) --delay 800 sleep:1100 send:0:51:90 sleep:1500 send:1:51:130 sleep:2600
    peer "$NS_D" c3 $(cli c3 5003 "$D3") --delay 1000 sleep:1200 send:0:51:80 sleep:1500 send:1:51:140 sleep:2200
    end
fi

# b. init_streams (IPv6): client OS=10/MIS=5, server OS=3/MIS=8: negotiated client->server 8, server->client 3.
#    The client sends on streams 0..7 and tries stream 9 (refused locally); the server echoes on the same
#    stream, which it can only do on streams 0..2.
if want init_streams; then
    begin init_streams "$IFS1"
    peer "$NS_S" server "${SRV[@]}" --local "$S1_6" --os 3 --mis 8 --echo waitup:1:10000 waitdown:15000
    sleep 0.5
    peer "$NS_C" c1 $(cli c1 5001 "$C1_6" "$S1_6") --os 10 --mis 5 \
        send:0:46:100 send:1:46:100 send:2:46:100 send:3:46:100 send:4:46:100 send:5:46:100 send:6:46:100 \
        send:7:46:100 send:9:46:100 sleep:1500
    end
fi

# c. streams_mixed: several streams, ordered and unordered, PPIDs 46/60/18/51, messages of 3000-4000 bytes
#    over the 1500-byte MTU (fragmented); the server echoes every message.
MIXED=(send:0:46:200:n=3 send:1:60:300:u+n=2 send:2:18:4000:n=2 send:3:51:4000:u send:0:51:1000
       send:4:60:3000:u sleep:300 send:2:46:64 send:1:18:2500)
if want streams_mixed; then
    begin streams_mixed "$IFS1"
    peer "$NS_S" server "${SRV[@]}" --local "$S1" --os 8 --mis 8 --echo waitup:1:10000 waitdown:15000
    sleep 0.5
    peer "$NS_C" c1 $(cli c1 5001) --os 8 --mis 8 "${MIXED[@]}" sleep:1500
    end
fi

# d. abort_reason: after two acknowledged messages the server's route back to the client is blackholed (its
#    SACKs are lost: the client's burst stays outstanding), then the client aborts with a reason text.
if want abort_reason; then
    begin abort_reason "$IFS1"
    peer "$NS_S" server "${SRV[@]}" --local "$S1" waitup:1:10000 waitdown:15000
    sleep 0.5
    peer "$NS_C" c1 $(cli c1 5001) send:0:46:200 send:0:46:200 sleep:500 \
        "sh:ip -n $NS_S route add blackhole $C1/32" send:0:46:1000:n=5 sleep:400 \
        "abort:scenario abort: bye" sleep:200 "sh:ip -n $NS_S route del blackhole $C1/32" sleep:300
    end
fi

# e. eof_one_of_many: one-to-many echo server with c1 and c2; the server ends c1's association alone with
#    SCTP_EOF (sendv, that assoc id) while c2 (from the other host) keeps sending (and getting echoes) afterwards.
if want eof_one_of_many; then
    begin eof_one_of_many "$IFS1" "$IFS3"
    peer "$NS_S" server "${SRV[@]}" --local "$S1" --echo waitup:2:10000 sleep:1500 eof:a=1 waitdown:20000
    sleep 0.5
    peer "$NS_C" c1 $(cli c1 5001) --delay 500 send:0:46:100 sleep:400 send:0:46:100 sleep:4000
    peer "$NS_D" c2 $(cli c2 5002 "$D3") --delay 800 send:0:46:100 sleep:400 send:0:46:100 sleep:2000 send:0:46:150 \
        sleep:500 send:1:46:150 sleep:500 send:0:46:150 sleep:1000
    end
fi

# f. multihoming_failover: client 198.18.1.1+198.18.2.1, server 198.18.1.2+198.18.2.2; heartbeats every
#    500 ms. After 3 s the client loses 198.18.1.1 (address deleted: the server's packets to it go unanswered,
#    the client cannot use path 1 either); heartbeats fail, data moves to the 198.18.2.x path; 5 s later the
#    address comes back.
if want multihoming_failover; then
    MH=(--hb 500 --pmr 2 --rto-min 200 --rto-max 1000 --rto-init 500)
    acts=()
    for k in $(seq 10); do acts+=(send:0:46:200 sleep:300); done
    acts+=("sh:ip -n $NS_C addr del $C1/24 dev $IFC1")
    for k in $(seq 20); do acts+=(send:0:46:200 sleep:300); done
    acts+=("sh:ip -n $NS_C addr add $C1/24 dev $IFC1")
    for k in $(seq 10); do acts+=(send:0:46:200 sleep:300); done
    begin multihoming_failover "$IFS1" "$IFS2"
    peer "$NS_S" server "${SRV[@]}" --local "$S1,$S2" "${MH[@]}" --echo waitup:1:10000 waitdown:40000
    sleep 0.5
    peer "$NS_C" c1 $(cli c1 5001 "$C1,$C2" "$S1,$S2") "${MH[@]}" "${acts[@]}" sleep:1500
    end
fi

# g. loss_retransmit: the server's address 198.18.1.2 disappears for 0.4 s while the client sends a message
#    every 100 ms: dumpcap (at the server's interface) still sees the DATA, the server's IP layer drops it;
#    later DATA arrives, the server SACKs with gap blocks and the client retransmits.
if want loss_retransmit; then
    acts=()
    for k in $(seq 6); do acts+=(send:0:46:300 sleep:100); done
    acts+=("sh:ip -n $NS_S addr del $S1/24 dev $IFS1")
    for k in $(seq 4); do acts+=(send:0:46:300 sleep:100); done
    acts+=(sleep:50)
    acts+=("sh:ip -n $NS_S addr add $S1/24 dev $IFS1")
    for k in $(seq 10); do acts+=(send:0:46:300 sleep:100); done
    begin loss_retransmit "$IFS1"
    peer "$NS_S" server "${SRV[@]}" --local "$S1" waitup:1:10000 waitdown:20000
    sleep 0.5
    peer "$NS_C" c1 $(cli c1 5001) "${acts[@]}" sleep:3000
    end
fi

# h. udp_encap: (c) in small, UDP-encapsulated (RFC 6951, both peers on UDP port 9899).
if want udp_encap; then
    begin udp_encap "$IFS1"
    peer "$NS_S" server "${SRV[@]}" --local "$S1" --encap 9899 --echo waitup:1:10000 waitdown:15000
    sleep 0.5
    peer "$NS_C" c1 $(cli c1 5001) --encap 9899 send:0:46:200 send:1:60:300:u send:2:18:3000 send:0:51:100 \
        sleep:1500
    end
fi

# i. many_assocs: 20 clients (10 from each host) to one one-to-many server, one message each.
if want many_assocs; then
    begin many_assocs "$IFS1" "$IFS3"
    peer "$NS_S" server "${SRV[@]}" --local "$S1" waitup:20:20000 waitdown:30000
    sleep 0.5
    for k in $(seq 1 20); do
        if (( k % 2 )); then
            peer "$NS_C" "c$k" $(cli "c$k" $((5100 + k))) --delay $((1500 + 60 * k)) sleep:1000 "send:0:46:$((50 + k))" sleep:1500
        else
            peer "$NS_D" "c$k" $(cli "c$k" $((5100 + k)) "$D3") --delay $((1500 + 60 * k)) sleep:1000 "send:0:46:$((50 + k))" sleep:1500
        fi
    done
    end
fi

# j. prsctp_forward_tsn: messages with a 300 ms lifetime (SCTP_PR_SCTP_TTL) are sent while the server's
#    address is gone (they are on the wire, but the server never gets them); they are abandoned and the client
#    sends FORWARD-TSN; SEND_FAILED notifications in its log.
if want prsctp_forward_tsn; then
    begin prsctp_forward_tsn "$IFS1"
    peer "$NS_S" server "${SRV[@]}" --local "$S1" waitup:1:10000 waitdown:20000
    sleep 0.5
    peer "$NS_C" c1 $(cli c1 5001) send:0:46:200:ttl=300 send:0:46:200:ttl=300 sleep:300 \
        "sh:ip -n $NS_S addr del $S1/24 dev $IFS1" send:0:46:200:ttl=300+n=4 send:1:46:200:ttl=300+u sleep:1500 \
        "sh:ip -n $NS_S addr add $S1/24 dev $IFS1" send:0:46:200:ttl=300 sleep:2500
    end
fi

# k. stream_reset: 3 messages each on streams 0, 1, 2; SCTP_RESET_STREAMS of outgoing streams 1 and 2; then
#    more messages on 0, 1, 2 (the SSNs of 1 and 2 restart at 0).
if want stream_reset; then
    begin stream_reset "$IFS1"
    peer "$NS_S" server "${SRV[@]}" --local "$S1" waitup:1:10000 waitdown:15000
    sleep 0.5
    peer "$NS_C" c1 $(cli c1 5001) --os 4 send:0:46:100:n=3 send:1:46:100:n=3 send:2:46:100:n=3 sleep:500 \
        reset:1,2 sleep:800 send:0:46:100 send:1:46:100:n=2 send:2:46:100:n=2 sleep:1500
    end
fi

# l. partial_delivery: the server begins delivering a message once 1000 bytes of it are in (SCTP_PARTIAL_DELIVERY_POINT)
#    and SACKs late (every 10th packet or after 400 ms). The client sends one 30000-byte message with a 500 ms
#    lifetime: the first flight (what the initial congestion window allows) reaches the server, which hands its
#    bytes to the application; then the server's address disappears (its SACK cannot leave, the client's
#    retransmission is dropped), the message is abandoned, and when the address is back FORWARD-TSN tells the
#    server, which ends the partial delivery (PARTIAL_DELIVERY_ABORTED in its log). A last small message on the
#    same stream shows the stream going on.
# m. partial_delivery_idata: (l) with I-DATA (RFC 8260) offered by both peers: I-FORWARD-TSN ends the message.
for scn in partial_delivery partial_delivery_idata; do
    want "$scn" || continue
    opt=(); [[ $scn == *idata ]] && opt=(--idata)
    begin "$scn" "$IFS1"
    peer "$NS_S" server "${SRV[@]}" --local "$S1" "${opt[@]}" --pd 1000 --sack-freq 10 --sack-delay 400 \
        waitup:1:10000 waitdown:20000
    sleep 0.5
    peer "$NS_C" c1 $(cli c1 5001) "${opt[@]}" send:0:46:30000:ttl=500 "sh:ip -n $NS_S addr del $S1/24 dev $IFS1" \
        sleep:1500 "sh:ip -n $NS_S addr add $S1/24 dev $IFS1" sleep:2500 send:0:46:200 sleep:3500
    end
done

# n. add_streams: the client asks for 2 outgoing streams in its INIT (so 2 are negotiated towards the server),
#    sends on both, adds 2 more with SCTP_ADD_STREAMS (RE-CONFIG Add Outgoing Streams, answered "Success -
#    Performed"), then sends on the new streams 2 and 3. Both peers log their STREAM_CHANGE notification.
if want add_streams; then
    begin add_streams "$IFS1"
    peer "$NS_S" server "${SRV[@]}" --local "$S1" waitup:1:10000 waitdown:15000
    sleep 0.5
    peer "$NS_C" c1 $(cli c1 5001) --os 2 send:0:46:100 send:1:46:100 sleep:300 addstreams:2:0 sleep:300 addstreams:0:3 sleep:500 \
        send:2:46:100 send:3:46:100 sleep:1500
    end
fi

# --- Well-known port pairs (issue #11): many peers on ONE port pair, as in NGAP/S1AP and M3UA networks. ---
# A second network, made only when one of these scenarios runs: the core side NS_A holds a bridge with the
# server's single address 198.18.38.1/24 (and an on-link route to 198.18.39.0/24); four "gNB" namespaces
# NS_G1..NS_G4 each join the bridge with one veth pair:
#   NS_G1 198.18.38.11   NS_G2 198.18.38.12   NS_G3 198.18.38.13   NS_G4 198.18.38.14 + 198.18.39.14 (one veth)
# dumpcap runs in NS_A on the bridge (one pcapng interface: every frame to or from the server).
RAN_BR=rb$ID
RAN_S=198.18.38.1; RAN_G=(198.18.38.11 198.18.38.12 198.18.38.13 198.18.38.14); RAN_G4B=198.18.39.14
NS_A=scn-a-$ID; NS_G=(scn-g1-$ID scn-g2-$ID scn-g3-$ID scn-g4-$ID)
RAN_UP=0
setup_ran_network() {
    [[ $RAN_UP -eq 1 ]] && return 0
    local k ns gif sif
    ip netns add "$NS_A"; MADE_NS+=("$NS_A")
    ip netns exec "$NS_A" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    ip -n "$NS_A" link set lo up
    ip -n "$NS_A" link add "$RAN_BR" type bridge
    ip -n "$NS_A" link set "$RAN_BR" type bridge stp_state 0 forward_delay 0
    ip -n "$NS_A" addr add "$RAN_S/24" dev "$RAN_BR"
    ip -n "$NS_A" link set "$RAN_BR" up
    ip -n "$NS_A" route add 198.18.39.0/24 dev "$RAN_BR"
    for k in 0 1 2 3; do
        ns=${NS_G[$k]}; gif=rg$((k + 1))g$ID; sif=rg$((k + 1))s$ID
        ip netns add "$ns"; MADE_NS+=("$ns")
        ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
        ip -n "$ns" link set lo up
        ip link add "$gif" type veth peer name "$sif"; MADE_IF+=("$gif")
        ip link set "$gif" netns "$ns"
        ip link set "$sif" netns "$NS_A"
        MADE_IF=()
        ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
        ip -n "$ns" addr add "${RAN_G[$k]}/24" dev "$gif"
        ip -n "$ns" link set "$gif" up
        ip -n "$NS_A" link set "$sif" master "$RAN_BR"
        ip -n "$NS_A" link set "$sif" up
    done
    ip -n "${NS_G[3]}" addr add "$RAN_G4B/24" dev "rg4g$ID"
    ip netns exec "$NS_A" sysctl -qw net.ipv6.conf.all.disable_ipv6=1     # no IPv6 chatter in the captures
    RAN_UP=1
    sleep 2
}

# o. ngap_many_gnbs: an NGAP-style core: ONE one-to-many echo server on 198.18.38.1:38412 and four clients
#    ("gNBs") on four hosts, ALL bound to local port 38412, so every association uses the port pair
#    38412 -> 38412. c4 is multihomed (198.18.38.14 + 198.18.39.14): the server heartbeats both of its
#    addresses (heartbeat interval 500 ms; c4 pauses 2.5 s mid-way, so its primary path is probed too).
#    Each client sends small messages (PPID 60, NGAP) on streams 0..3 every 200 ms for ~8.5 s; the server
#    echoes each on the same stream. Every association is busy from start to end: a capture cut anywhere
#    in the middle holds both directions of all four.
if want ngap_many_gnbs; then
    setup_ran_network
    CAP_NS=$NS_A begin ngap_many_gnbs "$RAN_BR"
    peer "$NS_A" server --role server --lport 38412 --local "$RAN_S" --hb 500 --echo waitup:4:15000 \
        waitdown:40000
    sleep 0.5
    for k in 1 2 3; do
        acts=()
        for i in $(seq 42); do acts+=("send:$(( (i + k) % 4 )):60:$((40 + 10 * k + i % 7))" sleep:200); done
        peer "${NS_G[$((k - 1))]}" "c$k" --role "c$k" --lport 38412 --local "${RAN_G[$((k - 1))]}" \
            --remote "$RAN_S" --rport 38412 --hb 500 --delay $((200 + 150 * k)) "${acts[@]}" sleep:1000
    done
    acts=()
    for i in $(seq 15); do acts+=("send:$(( i % 4 )):60:$((90 + i % 5))" sleep:200); done
    acts+=(sleep:2500)
    for i in $(seq 15); do acts+=("send:$(( (i + 2) % 4 )):60:$((95 + i % 5))" sleep:200); done
    peer "${NS_G[3]}" c4 --role c4 --lport 38412 --local "${RAN_G[3]},$RAN_G4B" --remote "$RAN_S" --rport 38412 \
        --hb 500 --delay 800 "${acts[@]}" sleep:1000
    end
fi

# p. m3ua_pair: an M3UA-style link: one ASP (client, one-to-one) on 198.18.38.11:2905 and one SG (server,
#    one-to-many) on 198.18.38.1:2905, both on port 2905; 4 streams each way (PPID 3, M3UA). The client sends
#    a message every 150 ms on streams 0..3 (echoed by the server on the same stream), and the server sends
#    its own messages on streams 1..3 every 250 ms: DATA both ways throughout.
if want m3ua_pair; then
    setup_ran_network
    acts=()
    for i in $(seq 30); do acts+=("send:$(( i % 4 )):3:$((60 + i % 9))" sleep:150); done
    sacts=(waitup:1:10000 sleep:300)
    for i in $(seq 16); do sacts+=("send:$(( 1 + i % 3 )):3:$((120 + i % 5)):a=1" sleep:250); done
    CAP_NS=$NS_A begin m3ua_pair "$RAN_BR"
    peer "$NS_A" server --role server --lport 2905 --local "$RAN_S" --os 4 --mis 4 --echo "${sacts[@]}" \
        waitdown:20000
    sleep 0.5
    peer "${NS_G[0]}" c1 --role c1 --lport 2905 --local "${RAN_G[0]}" --remote "$RAN_S" --rport 2905 --os 4 --mis 4 \
        --delay 300 "${acts[@]}" sleep:1000
    end
fi
