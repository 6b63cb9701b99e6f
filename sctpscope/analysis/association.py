"""One SCTP association as seen on the wire: endpoints, negotiation, state, streams, ending, events, anomalies."""

from __future__ import annotations

from typing import Final, TYPE_CHECKING, Any, cast

from sctpscope.analysis.anomalies import MAX_PER_ASSOCIATION
from sctpscope.analysis.serial import Running
from sctpscope.analysis.streams import DataFlow, StreamStats
from sctpscope.analysis.tally import Tally
from sctpscope.decode.sctp import chunk_name
from sctpscope.decode.sctp.chunks import Chunk, DataChunk, IDataChunk, SackChunk, ShortChunk
from sctpscope.text import cause_detail

if TYPE_CHECKING:
    from sctpscope.decode.frame import SctpRecord

INITIATOR: Final = 0
RESPONDER: Final = 1
SIDE_NAMES: Final = ("initiator", "responder")
DIRECTIONS: Final = ("initiator_to_responder", "responder_to_initiator")

# Chunk type codes (RFC 9260 §3.2 and extensions).
DATA: Final = 0
INIT: Final = 1
INIT_ACK: Final = 2
SACK: Final = 3
HEARTBEAT: Final = 4
HEARTBEAT_ACK: Final = 5
ABORT: Final = 6
SHUTDOWN: Final = 7
SHUTDOWN_ACK: Final = 8
ERROR: Final = 9
COOKIE_ECHO: Final = 10
COOKIE_ACK: Final = 11
ECNE: Final = 12
CWR: Final = 13
SHUTDOWN_COMPLETE: Final = 14
AUTH: Final = 15
NR_SACK: Final = 16
I_DATA: Final = 64
ASCONF_ACK: Final = 128
RE_CONFIG: Final = 130
FORWARD_TSN: Final = 192
ASCONF: Final = 193
I_FORWARD_TSN: Final = 194

# Parameter types used here.
P_IPV4: Final = 5
P_IPV6: Final = 6
P_ECN: Final = 0x8000
P_ZERO_CHECKSUM: Final = 0x8001
P_RANDOM: Final = 0x8002
P_SUPPORTED_EXT: Final = 0x8008
P_FWD_TSN: Final = 0xC000
P_ADAPTATION: Final = 0xC006
P_ADD_IP: Final = 0xC001
P_DEL_IP: Final = 0xC002
P_SET_PRIMARY: Final = 0xC004
P_OUT_RESET: Final = 13
P_IN_RESET: Final = 14
P_SSN_TSN_RESET: Final = 15
P_RESPONSE: Final = 16
P_ADD_OUT: Final = 17
RESULT_PERFORMED: Final = 1       # RFC 6525 §4.4 Re-configuration Response results
RESULT_IN_PROGRESS: Final = 6

# Caps of the lists that grow with packets (the same in every build); what they leave out is counted in the
# association's `truncated` object.
MAX_EVENTS: Final = 10000           # events kept per association
MAX_PATH_CHANGES: Final = 1000      # primary path changes kept per association
MAX_ABORT_CAUSES: Final = 256       # causes listed for the ABORT that ended an association

_NO_ADDRESSES: Final[set[tuple[int, str]]] = set()     # shared, never added to (see _heartbeat)

EXTENSION_CHUNKS: Final = {FORWARD_TSN: "PR-SCTP", AUTH: "AUTH", ASCONF: "ASCONF", RE_CONFIG: "RE-CONFIG",
                    I_DATA: "I-DATA", NR_SACK: "NR-SACK", 129: "PKTDROP", 132: "PAD"}


def _ints(p, *names) -> list[int]:
    for n in names:
        v = getattr(p, n, None)
        if v is not None:
            return list(v)
    return []


def extensions_of(params) -> list[str]:
    """The extensions an endpoint announces in its INIT or INIT ACK parameters."""
    ext = set()
    for p in params:
        t = p.type
        if t == P_SUPPORTED_EXT:
            for ct in _ints(p, "chunk_types", "types", "values"):
                name = EXTENSION_CHUNKS.get(ct)
                if name:
                    ext.add(name)
        elif t == P_FWD_TSN:
            ext.add("PR-SCTP")
        elif t == P_ECN:
            ext.add("ECN")
        elif t == P_RANDOM:
            ext.add("AUTH")
        elif t == P_ZERO_CHECKSUM:
            ext.add("ZERO_CHECKSUM")
        elif t == P_ADAPTATION:
            ext.add("ADAPTATION")
    return sorted(ext)


class Endpoint:
    __slots__ = ("port", "addresses", "tag", "init", "extensions")

    def __init__(self, port: int | None, tag: int | None) -> None:
        self.port = port
        self.addresses: set[str] = set()
        self.tag = tag          # the verification tag packets TO this endpoint carry
        self.init: dict | None = None
        self.extensions: list[str] = []

    def as_dict(self) -> dict:
        return {"port": self.port, "addresses": sorted(self.addresses, key=_addr_key), "vtag": self.tag,
                "init": self.init}


def restart_detail(previous_id: int | None) -> str:
    return f"new INIT on the ports of association {previous_id}"


def _addr_key(a: str) -> tuple:
    return (":" in a, a)


class PathStats:
    """One source/destination address pair of an association (multihoming)."""

    __slots__ = ("packets", "data_chunks", "retransmissions", "heartbeats", "rtt", "first_frame", "src", "dst")

    def __init__(self, frame: int, src: str, dst: str) -> None:
        self.src, self.dst = src, dst
        self.packets = self.data_chunks = self.retransmissions = self.heartbeats = 0
        self.rtt = Running()          # heartbeat round-trip times
        self.first_frame = frame


class Association:
    """State of one association: fed packet by packet by the Tracker, turned into the contract dict at the end."""

    def __init__(self, ident: int, frame: int, ts: float, initiator: Endpoint, responder: Endpoint,
                 path_max_retrans: int = 5) -> None:
        self.id = ident
        self.pmr = path_max_retrans   # Path.Max.Retrans (RFC 9260 §16): not on the wire, a setting
        self.first_frame = self.last_frame = frame
        self.start = self.end = ts
        self.eps = (initiator, responder)
        self.init_seen = self.init_ack_seen = False
        self.cookie_ack_seen = False
        self.packets = 0
        self.chunks: tuple[Tally, Tally] = (Tally(), Tally())
        self.flows = (DataFlow(), DataFlow())
        self.negotiated: list[int | None] | None = None        # streams each way at the handshake
        self.stream_counts: list[int | None] | None = None     # ...and after RE-CONFIG Add Streams since
        self.ending: dict[str, Any] = _NO_ENDING      # shared until the association ends (replaced, never changed)
        self.shutdown_sent = [False, False]
        self.closed = False
        self.aborted = False
        #: (ts, frame, type, endpoint name or None, further keys or None): a tuple each, made a contract dict
        #: by `as_dict` (a dict per event would be most of a short association's memory)
        self.events: list[tuple[float, int | None, str, str | None, dict | None]] = []
        self.anomalies: list[dict] = []
        self.anomaly_count = 0
        self.checksums: tuple[Tally, Tally] = (Tally(), Tally())   # per sender: status -> count, except good CRC32c
        self.good_checksums = [0, 0]
        self.first_bad: list[int | None] = [None, None]
        self.paths: dict[tuple[str, str], PathStats] = {}
        self.primary: list[PathStats | None] = [None, None]     # path of the latest new DATA per sender
        self.primary_changes: list[dict] = []
        self.events_dropped = 0
        self.path_changes_dropped = 0
        self.abort_causes_dropped = 0
        self.authenticated = [False, False]      # AUTHENTICATION told to each endpoint
        self.heartbeats: dict[tuple[int, bytes], tuple[float, tuple[str, str]]] = {}
        #: HEARTBEAT ACKs captured before their HEARTBEAT (captures merged from two points are not always in
        #: time order): (side of the HEARTBEAT, heartbeat info) -> time of the ACK
        self.early_acks: dict[tuple[int, bytes], float] = {}
        #: RE-CONFIG reset requests awaiting their response: (requester, request seq) -> (sids, SSN/TSN reset?)
        self.reset_requests: dict[tuple[int, int], tuple[list[int], bool]] = {}
        #: Add Outgoing Streams requests awaiting their answer: (requester, sequence) -> (streams, ts, frame)
        self.add_requests: dict[tuple[int, int], tuple[int, float, int]] = {}
        # Per (sender side, destination address): a heartbeat outstanding?, error count, unreachable?
        self.hb_outstanding: dict[tuple[int, str], bool] = {}
        self.path_errors: dict[tuple[int, str], int] = {}
        self.unreachable: set[tuple[int, str]] = _NO_ADDRESSES     # its own set from the first one on
        self.restart_of: Association | None = None   # the association this one restarted
        self.collision = False                       # INIT collision folded in (RFC 9260 §5.2.1)
        self.init_count = [0, 0]
        self.cookie_echo_count = 0

    # -- helpers -------------------------------------------------------------------------------------
    def event(self, ts: float, frame: int, kind: str, endpoint: int | None, **extra) -> None:
        if len(self.events) >= MAX_EVENTS:
            self.events_dropped += 1
            return
        self.events.append((ts, frame, kind, SIDE_NAMES[endpoint] if endpoint is not None else None,
                            extra if extra else None))

    def anomaly(self, frame: int | None, kind: str, detail: str) -> None:
        self.anomaly_count += 1
        if len(self.anomalies) < MAX_PER_ASSOCIATION:
            self.anomalies.append({"frame": frame, "kind": kind, "detail": detail})

    # -- per packet ----------------------------------------------------------------------------------
    def packet(self, rec: SctpRecord, side: int, chunk_totals: Tally) -> None:
        """Account one packet sent by `side`; its chunks are also counted into `chunk_totals`."""
        pkt = rec.packet
        frame = rec.frame
        self.packets += 1
        self.last_frame = frame
        self.end = rec.ts
        ps = self.paths.get((rec.src, rec.dst))
        if ps is None:
            ps = self._new_path(rec, side)
        ps.packets += 1
        status = pkt.checksum_status
        if status != "crc32c":
            self._checksum(side, status, frame)
        else:
            self.good_checksums[side] += 1
        if pkt.problems:
            self.anomaly(frame, "malformed_chunk", str(pkt.problems[0]))
        counts = self.chunks[side]
        # typed: compiled (mypyc), the chunk records' fields are then read natively
        chunks: list[Chunk] = pkt.chunks
        c: Chunk
        bundled = len(chunks) > 1
        for c in chunks:
            t = c.type
            counts[t] += 1
            chunk_totals[t] += 1
            if c.__class__ is ShortChunk:
                continue        # fixed fields missing: counted, and a decode problem already
            if t == DATA:
                self._data(cast(DataChunk, c), side, rec, ps)
            elif t == SACK:
                self._sack(cast(SackChunk, c), side, rec, ps)
            elif t == I_DATA:
                self._idata(cast(IDataChunk, c), side, rec, ps)
            else:
                handler = _HANDLERS.get(t)
                if handler is not None:
                    if bundled and t in _ALONE:
                        self.anomaly(frame, "bundling_violation",
                                     f"{chunk_name(t)} bundled with {len(chunks) - 1} other chunk(s)")
                    handler(self, c, side, rec, ps)

    def _new_path(self, rec: SctpRecord, side: int) -> PathStats:
        self.eps[side].addresses.add(rec.src)
        self.eps[1 - side].addresses.add(rec.dst)
        ps = self.paths[(rec.src, rec.dst)] = PathStats(rec.frame, rec.src, rec.dst)
        return ps

    def _checksum(self, side: int, status: str, frame: int) -> None:
        self.checksums[side][status] += 1
        if status in ("bad", "zero") and self.first_bad[side] is None:
            self.first_bad[side] = frame

    # -- chunk handlers ------------------------------------------------------------------------------
    def _init(self, c, side: int, rec, ps) -> None:
        ep = self.eps[side]
        self.init_count[side] += 1
        if c.type == INIT:
            self.init_seen = True
            if self.init_count[side] == 2:
                self.anomaly(rec.frame, "init_retransmitted", "INIT sent again before an INIT ACK was seen")
        else:
            self.init_ack_seen = True
        ep.tag = c.initiate_tag
        ep.extensions = extensions_of(c.params)
        ep.init = {"initiate_tag": c.initiate_tag, "a_rwnd": c.a_rwnd, "outbound_streams": c.outbound_streams,
                   "max_inbound_streams": c.inbound_streams, "initial_tsn": c.initial_tsn,
                   "extensions": ep.extensions}
        for p in c.params:
            if p.type in (P_IPV4, P_IPV6) and getattr(p, "address", None):
                ep.addresses.add(p.address)
            elif p.type == P_ADAPTATION and c.type == INIT_ACK:
                self.event(rec.ts, rec.frame, "ADAPTATION_INDICATION", 1 - side,
                           indication=getattr(p, "indication", None))
        ini, res = self.eps[INITIATOR].init, self.eps[RESPONDER].init
        if ini and res:
            self.negotiated = [min(ini["outbound_streams"], res["max_inbound_streams"]),
                               min(res["outbound_streams"], ini["max_inbound_streams"])]
            self.stream_counts = list(self.negotiated)

    def _cookie_echo(self, c, side: int, rec, ps) -> None:
        self.cookie_echo_count += 1
        if self.cookie_echo_count == 2:
            self.anomaly(rec.frame, "cookie_echo_retransmitted", "COOKIE ECHO sent again")

    def _cookie_ack(self, c, side: int, rec, ps) -> None:
        if not self.cookie_ack_seen:
            self.cookie_ack_seen = True
            self.event(rec.ts, rec.frame, "COMM_UP", INITIATOR if side == RESPONDER else RESPONDER)
            self.event(rec.ts, rec.frame, "COMM_UP", side)

    def _data(self, c: DataChunk, side: int, rec: SctpRecord, ps: PathStats) -> None:
        st, sent, late, new = self.flows[side].data(c, rec.frame, rec.ts)
        self._user_data(st, sent, late, new, c.tsn, c.sid, c.ssn, side, rec, ps)

    def _idata(self, c: IDataChunk, side: int, rec: SctpRecord, ps: PathStats) -> None:
        st, sent, late, new = self.flows[side].idata_chunk(c, rec.frame, rec.ts)
        self._user_data(st, sent, late, new, c.tsn, c.sid, c.mid, side, rec, ps)

    def _user_data(self, st: StreamStats, sent: int, late: bool, new: bool, tsn: int, sid: int, seq: int,
                   side: int, rec: SctpRecord, ps: PathStats) -> None:
        """What a DATA or I-DATA chunk (`seq`: its SSN or MID) tells beyond its flow: paths and anomalies."""
        ps.data_chunks += 1
        if sent > 1:
            ps.retransmissions += 1
            if sent == 4:
                self.anomaly(rec.frame, "retransmitted_more_than_twice",
                             f"TSN {tsn} sent for the 4th time by the {SIDE_NAMES[side]}")
        elif new:
            old = self.primary[side]
            if old is not ps:
                if old is not None and len(self.primary_changes) >= MAX_PATH_CHANGES:
                    self.path_changes_dropped += 1
                elif old is not None:
                    self.primary_changes.append({"frame": rec.frame, "ts": rec.ts, "by": SIDE_NAMES[side],
                                                 "from": [old.src, old.dst], "to": [ps.src, ps.dst]})
                self.primary[side] = ps
            if self.shutdown_sent[side]:
                self.anomaly(rec.frame, "data_after_shutdown",
                             f"new DATA TSN {tsn} after the {SIDE_NAMES[side]} began the shutdown")
        if late:
            self.anomaly(rec.frame, "out_of_order", f"stream {sid} message SSN/MID {seq} arrived after a later one")
        limit = self.stream_counts[side] if self.stream_counts else None
        if limit is not None and sid >= limit and not st.beyond_negotiated:
            st.beyond_negotiated = True
            self.anomaly(rec.frame, "invalid_stream_id",
                         f"DATA on stream {sid}, but {limit} streams were negotiated "
                         f"{DIRECTIONS[side].replace('_', ' ')}")

    def _sack(self, c: SackChunk, side: int, rec: SctpRecord, ps: PathStats) -> None:
        flow = self.flows[1 - side]          # the DATA this SACK acknowledges
        if flow.acks.sack(c, flow.near(c.cum_tsn_ack), rec.ts, rec.frame):
            self.anomaly(rec.frame, "zero_window", f"the {SIDE_NAMES[side]} advertised a_rwnd 0")

    def _heartbeat(self, c, side: int, rec, ps) -> None:
        ps.heartbeats += 1
        info = hb_info(c)
        early = self.early_acks.pop((side, info), None) if self.early_acks else None
        if early is not None and early >= rec.ts:
            ps.rtt.add(early - rec.ts)      # answered already: neither pending nor outstanding
            return
        if len(self.heartbeats) < 1024:
            self.heartbeats[(side, info)] = (rec.ts, (rec.src, rec.dst))
        # A new HEARTBEAT to an address whose previous one is still unanswered: that one timed out, an error
        # for the address (RFC 9260 §8.3); past Path.Max.Retrans the sender marks it unreachable (§8.2).
        key = (side, rec.dst)
        if self.hb_outstanding.get(key):
            n = self.path_errors[key] = self.path_errors.get(key, 0) + 1
            if n > self.pmr and key not in self.unreachable:
                if self.unreachable is _NO_ADDRESSES:
                    self.unreachable = set()
                self.unreachable.add(key)
                self.event(rec.ts, rec.frame, "PEER_ADDR_CHANGE", side, address=rec.dst, state="ADDR_UNREACHABLE",
                           evidence=f"{n} heartbeats unanswered")
        self.hb_outstanding[key] = True

    def _heartbeat_ack(self, c, side: int, rec, ps) -> None:
        sent = self.heartbeats.pop((1 - side, hb_info(c)), None)
        if sent is None and len(self.early_acks) < 1024:
            self.early_acks[(1 - side, hb_info(c))] = rec.ts
        if sent is not None:
            p = self.paths.get(sent[1])
            if p is not None:
                p.rtt.add(rec.ts - sent[0])
            key = (1 - side, sent[1][1])
            self.hb_outstanding[key] = False
            self.path_errors[key] = 0
            if key in self.unreachable:
                self.unreachable.discard(key)
                self.event(rec.ts, rec.frame, "PEER_ADDR_CHANGE", 1 - side, address=key[1],
                           state="ADDR_AVAILABLE", evidence="heartbeat answered")

    def _abort(self, c, side: int, rec, ps) -> None:
        if not self.aborted and not self.closed:
            causes = [{"code": x.code, "name": x.name, "detail": cause_detail(x)}
                      for x in c.causes[:MAX_ABORT_CAUSES]]
            self.abort_causes_dropped = max(0, len(c.causes) - MAX_ABORT_CAUSES)
            self.aborted = True
            self.ending = {"kind": "abort", "by": SIDE_NAMES[side], "first_frame": rec.frame,
                           "abort_causes": causes, "t_bit": bool(c.flags & 1)}
            kind = "COMM_LOST" if self.cookie_ack_seen or not self.init_seen else "CANT_STR_ASSOC"
            self.event(rec.ts, rec.frame, kind, 1 - side, causes=[x["code"] for x in causes])

    def _shutdown(self, c, side: int, rec, ps) -> None:
        if not self.shutdown_sent[side]:
            self.shutdown_sent[side] = True
            if self.ending["kind"] == "none":
                self.ending = {"kind": "graceful", "by": SIDE_NAMES[side], "first_frame": rec.frame,
                               "abort_causes": []}
            if c.type == SHUTDOWN:
                self.event(rec.ts, rec.frame, "SHUTDOWN_EVENT", 1 - side)

    def _shutdown_complete(self, c, side: int, rec, ps) -> None:
        if not self.closed and not self.aborted:
            self.closed = True
            if self.ending["kind"] == "none":
                self.ending = {"kind": "graceful", "by": SIDE_NAMES[side], "first_frame": rec.frame,
                               "abort_causes": []}
            self.event(rec.ts, rec.frame, "SHUTDOWN_COMP", INITIATOR)
            self.event(rec.ts, rec.frame, "SHUTDOWN_COMP", RESPONDER)

    def _error(self, c, side: int, rec, ps) -> None:
        for x in c.causes:
            self.event(rec.ts, rec.frame, "REMOTE_ERROR", 1 - side, code=x.code, name=x.name)
            detail = cause_detail(x)
            self.anomaly(rec.frame, "error_chunk", f"{x.name}: {detail}" if detail else x.name)

    def _asconf(self, c, side: int, rec, ps) -> None:
        ep = self.eps[side]
        for p in c.params:
            if p.type in (P_ADD_IP, P_DEL_IP, P_SET_PRIMARY):
                # the address parameter it carries; any other parameter nested there (an Add IP inside a Set
                # Primary) names no address
                addr = getattr(p.address, "address", None) if p.address is not None else None
                if not isinstance(addr, str):
                    addr = None
                if addr:
                    ep.addresses.add(addr)
                what = {P_ADD_IP: "ADDR_ADDED", P_DEL_IP: "ADDR_REMOVED", P_SET_PRIMARY: "ADDR_MADE_PRIM"}[p.type]
                self.event(rec.ts, rec.frame, "PEER_ADDR_CHANGE", 1 - side, address=addr, state=what)

    def _reconfig(self, c, side: int, rec, ps) -> None:
        """RE-CONFIG (RFC 6525). A stream reset takes effect when the peer answers "Success - Performed":
        the requester's outgoing SSNs (an Outgoing SSN Reset Request; an Incoming one makes the peer send its
        own) or both sides' (SSN/TSN Reset) start again at 0, and both endpoints are told (the socket API's
        SCTP_STREAM_RESET_EVENT / SCTP_ASSOC_RESET_EVENT). Requests sent again (answer "In progress") keep
        their sequence number; a denied or failed one resets nothing.

        Added streams (SCTP_STREAM_CHANGE_EVENT) count once the Add Outgoing Streams request is performed: the
        receiver is told at the request (it performs it before answering), the requester at the answer. An
        Add Incoming Streams request changes nothing by itself: the peer performs it by sending an Add
        Outgoing Streams request of its own (RFC 6525 §5.2.6)."""
        for p in c.params:
            if p.type == P_OUT_RESET or p.type == P_SSN_TSN_RESET:
                seq = getattr(p, "req_seq", None)
                if seq is not None and len(self.reset_requests) < 1024:
                    self.reset_requests[(side, seq)] = (_ints(p, "sids", "stream_ids"), p.type == P_SSN_TSN_RESET)
            elif p.type == P_ADD_OUT:
                seq = getattr(p, "req_seq", None)
                if seq is not None and len(self.add_requests) < 1024:
                    self.add_requests[(side, seq)] = (getattr(p, "new_streams", 0) or 0, rec.ts, rec.frame)
            elif p.type == P_RESPONSE:
                result = getattr(p, "result", None)
                if result == RESULT_IN_PROGRESS:
                    continue
                key = (1 - side, getattr(p, "resp_seq", -1))
                add = self.add_requests.pop(key, None)
                if add is not None and result == RESULT_PERFORMED:
                    self._streams_added(1 - side, *add, rec)
                req = self.reset_requests.pop(key, None)
                if req is None or result != RESULT_PERFORMED:
                    continue
                sids, both = req
                asker = 1 - side
                if both:
                    self._reset_streams(self.flows[0], [])
                    self._reset_streams(self.flows[1], [])
                    for ep in (asker, side):
                        self.event(rec.ts, rec.frame, "ASSOC_RESET", ep)
                else:
                    self._reset_streams(self.flows[asker], sids)
                    self.event(rec.ts, rec.frame, "STREAM_RESET", asker, direction="outgoing", sids=sids)
                    self.event(rec.ts, rec.frame, "STREAM_RESET", side, direction="incoming", sids=sids)

    def _streams_added(self, asker: int, n: int, ts: float, frame: int, rec) -> None:
        """`asker`'s Add Outgoing Streams request of `n` streams (sent at ts/frame) was performed at `rec`."""
        total = None
        if self.stream_counts:
            total = self.stream_counts[asker] = (self.stream_counts[asker] or 0) + n
        if len(self.events) >= MAX_EVENTS:
            self.events_dropped += 2
            return
        at = len(self.events)
        while at and (self.events[at - 1][1] or 0) > frame:      # in frame order, before later events
            at -= 1
        self.events.insert(at, (ts, frame, "STREAM_CHANGE", SIDE_NAMES[1 - asker],
                                {"direction": DIRECTIONS[asker], "added": n, "streams": total}))
        self.event(rec.ts, rec.frame, "STREAM_CHANGE", asker, direction=DIRECTIONS[asker], added=n, streams=total)

    @staticmethod
    def _reset_streams(flow: DataFlow, sids: list[int]) -> None:
        for sid, st in flow.streams.items():
            if not sids or sid in sids:
                st.reset()

    def _forward_tsn(self, c, side: int, rec, ps) -> None:
        flow = self.flows[side]
        if c.type == FORWARD_TSN:
            n = flow.forward_tsn(c.new_cum_tsn)
        else:
            n = flow.i_forward_tsn(c.new_cum_tsn, c.entries)
        if n:
            self.event(rec.ts, rec.frame, "SEND_FAILED", side, abandoned=n)
        for sid, seq, unordered, fragments, size in flow.cut_short:
            st = flow.streams.get(sid)
            if st is not None:
                st.abandoned_begun += 1
            # RFC 6458 §6.1.7: a receiver that had begun delivering the message (its partial delivery point, not
            # on the wire) is told that the rest will never come
            self.event(rec.ts, rec.frame, "PARTIAL_DELIVERY", 1 - side, indication="PARTIAL_DELIVERY_ABORTED",
                       sid=sid, **{"mid" if c.type != FORWARD_TSN else "ssn": seq}, unordered=unordered,
                       fragments=fragments, bytes=size)

    def _auth(self, c, side: int, rec, ps) -> None:
        if not self.authenticated[1 - side]:
            self.authenticated[1 - side] = True
            self.event(rec.ts, rec.frame, "AUTHENTICATION", 1 - side, key_id=c.shared_key_id)

    # -- the contract record -------------------------------------------------------------------------
    def state(self) -> str:
        if self.aborted:
            return "aborted"
        if self.closed:
            return "closed"
        if any(self.shutdown_sent):
            return "shutting_down"
        if self.cookie_ack_seen:
            return "established"
        if self.init_seen or self.init_ack_seen:
            return "incomplete"
        return "established"

    def finish(self) -> None:
        """End-of-capture verdicts: checksum offload vs corruption, gaps, incomplete messages."""
        for side in (INITIATOR, RESPONDER):
            cs = self.checksums[side]
            total = sum(cs.values()) + self.good_checksums[side]
            bad = cs["bad"] + cs["zero"]
            who = SIDE_NAMES[side]
            if bad and bad == total and total > 1:
                self.anomaly(self.first_bad[side], "checksum_offload",
                             f"all {total} packets from the {who} have a wrong checksum: checksum offload")
            elif bad:
                zero_ok = "ZERO_CHECKSUM" in self.eps[1 - side].extensions
                if cs["zero"] and not zero_ok:
                    self.anomaly(self.first_bad[side], "zero_checksum",
                                 f"{cs['zero']} packet(s) from the {who} with checksum 0")
                if cs["bad"]:
                    self.anomaly(self.first_bad[side], "bad_checksum",
                                 f"{cs['bad']} of {total} packets from the {who} have a wrong CRC32c")
            flow = self.flows[side]
            gaps = flow.tsn_gaps()
            if gaps:
                self.anomaly(self.last_frame, "tsn_gap", f"{gaps} TSN(s) from the {who} never seen")
            for sid, st in sorted(flow.streams.items()):
                if st.ssn_gaps():
                    self.anomaly(self.last_frame, "ssn_gap",
                                 f"stream {sid} from the {who}: {st.ssn_gaps()} ordered message(s) never seen")
            inc = flow.incomplete_messages()
            if inc:
                self.anomaly(self.last_frame, "incomplete_message",
                             f"{inc} message(s) from the {who} still missing fragments")
        if self.init_seen and not self.init_ack_seen and not self.aborted:
            self.anomaly(self.first_frame, "unanswered_init", "no INIT ACK answered the INIT")
            if not any(e[2] == "CANT_STR_ASSOC" for e in self.events):
                self.event(self.end, self.last_frame, "CANT_STR_ASSOC", INITIATOR)
        if self.restart_of is not None:
            self.anomaly(self.first_frame, "restart", restart_detail(self.restart_of.id))
        # a finding or an event that names no frame (None) goes last rather than stopping the sort
        self.anomalies.sort(key=_by_frame)
        self.events.sort(key=_event_frame)

    def absorb(self, other: "Association") -> None:
        """Fold in `other`, the same association seen from the opposite INIT of an INIT collision:
        its initiator is our responder."""
        self.collision = True
        self.packets += other.packets
        if other.first_frame < self.first_frame:
            self.first_frame, self.start = other.first_frame, other.start
        if other.last_frame > self.last_frame:
            self.last_frame, self.end = other.last_frame, other.end
        for mine, theirs in ((INITIATOR, RESPONDER), (RESPONDER, INITIATOR)):
            self.chunks[mine].update(other.chunks[theirs])
            self.eps[mine].addresses |= other.eps[theirs].addresses
            self.checksums[mine].update(other.checksums[theirs])
            self.good_checksums[mine] += other.good_checksums[theirs]
            self.init_count[mine] += other.init_count[theirs]
            bad = other.first_bad[theirs]
            had = self.first_bad[mine]
            if bad is not None and (had is None or bad < had):
                self.first_bad[mine] = bad
        for path, ps in other.paths.items():
            mine_ps = self.paths.get(path)
            if mine_ps is None:
                self.paths[path] = ps
            else:
                mine_ps.packets += ps.packets
                mine_ps.heartbeats += ps.heartbeats
                mine_ps.first_frame = min(mine_ps.first_frame, ps.first_frame)
        for ev in other.events:
            if len(self.events) < MAX_EVENTS:
                self.events.append(ev)
            else:
                self.events_dropped += 1
        self.events_dropped += other.events_dropped
        self.path_changes_dropped += other.path_changes_dropped
        self.anomaly_count += other.anomaly_count - len(other.anomalies)
        for side in (INITIATOR, RESPONDER):
            self.authenticated[side] = self.authenticated[side] or other.authenticated[1 - side]
        for x in other.anomalies:
            self.anomaly(x["frame"], x["kind"], x["detail"])
        self.anomaly(other.first_frame, "init_collision",
                     "both endpoints sent INIT; the INIT ACKs joined them into this association")

    def snapshot_dict(self) -> dict:
        """The contract dict as if the capture ended now; the association goes on unchanged (live views,
        progressive indexing)."""
        events, anomalies, count = list(self.events), list(self.anomalies), self.anomaly_count
        dropped = self.events_dropped
        try:
            self.finish()
            return self.as_dict()
        finally:
            self.events, self.anomalies, self.anomaly_count = events, anomalies, count
            self.events_dropped = dropped

    def as_dict(self) -> dict:
        streams = []
        for side in (INITIATOR, RESPONDER):
            waiting = self.flows[side].waiting_by_stream()
            for sid, st in sorted(self.flows[side].streams.items()):
                streams.append(st.as_dict(DIRECTIONS[side], waiting.get(sid, 0)))
        handshake = self.init_seen and self.init_ack_seen
        neg = counts = None
        if handshake and self.negotiated and self.stream_counts:
            neg = {"initiator_to_responder_streams": self.negotiated[0],
                   "responder_to_initiator_streams": self.negotiated[1]}
            counts = {"initiator_to_responder_streams": self.stream_counts[0],
                      "responder_to_initiator_streams": self.stream_counts[1]}
        paths = []
        for (src, dst), p in self.paths.items():
            paths.append({"src": src, "dst": dst, "packets": p.packets, "data_chunks": p.data_chunks,
                          "retransmissions": p.retransmissions, "heartbeats": p.heartbeats,
                          "heartbeat_rtt": p.rtt.as_dict(),
                          "first_frame": p.first_frame})
        flows = self.flows
        return {
            "id": self.id, "first_frame": self.first_frame, "last_frame": self.last_frame,
            "start": self.start, "end": self.end, "handshake_seen": handshake,
            "initiator": self.eps[INITIATOR].as_dict(), "responder": self.eps[RESPONDER].as_dict(),
            "negotiated": neg, "stream_counts": counts, "state": self.state(), "packets": self.packets,
            "chunks": {SIDE_NAMES[s]: {chunk_name(t): n for t, n in sorted(self.chunks[s].items())}
                       for s in (INITIATOR, RESPONDER)},
            "streams": streams,
            "retransmissions": {"initiator": flows[0].retransmissions, "responder": flows[1].retransmissions},
            "ending": dict(self.ending), "events": [_event_dict(e) for e in self.events],
            "anomalies": self.anomalies,
            # beyond the contract
            "extensions": sorted(set(self.eps[0].extensions) & set(self.eps[1].extensions)),
            "paths": paths, "primary_path_changes": self.primary_changes,
            "restart_of": self.restart_of.id if self.restart_of is not None else None,
            "init_collision": self.collision, "anomaly_count": self.anomaly_count,
            "abandoned_messages": {"initiator": flows[0].abandoned, "responder": flows[1].abandoned},
            # acknowledgements of the DATA each side sent (SACKs come from the other side)
            "acknowledgements": {"initiator": flows[0].acks.as_dict(), "responder": flows[1].acks.as_dict()},
            # what the caps on lists that grow with packets left out (MAX_EVENTS, anomalies.MAX_PER_ASSOCIATION,
            # MAX_PATH_CHANGES, MAX_ABORT_CAUSES; streams.MAX_PENDING_FRAGMENTS: fragments forgotten)
            "truncated": {"events": self.events_dropped, "anomalies": self.anomaly_count - len(self.anomalies),
                          "primary_path_changes": self.path_changes_dropped,
                          "abort_causes": self.abort_causes_dropped,
                          "pending_fragments": flows[0].fragments_dropped + flows[1].fragments_dropped},
        }


def _by_frame(d: dict) -> tuple[bool, int]:
    f = d.get("frame")
    return (True, 0) if f is None else (False, f)


def _event_frame(e: tuple) -> tuple[bool, int]:
    f = e[1]
    return (True, 0) if f is None else (False, f)


_NO_ENDING: Final[dict[str, Any]] = {"kind": "none", "by": None, "first_frame": None, "abort_causes": []}


def _event_dict(e: tuple) -> dict:
    """An event as the contract has it: ts, frame, type, endpoint (when one), then its own keys; an
    association named by a RESTART is given by its id."""
    ts, frame, kind, endpoint, extra = e
    d: dict[str, Any] = {"ts": ts, "frame": frame, "type": kind}
    if endpoint is not None:
        d["endpoint"] = endpoint
    if extra:
        for k, v in extra.items():
            d[k] = v.id if isinstance(v, Association) else v
    return d


def hb_info(c) -> bytes:
    for p in getattr(c, "params", ()):
        v = getattr(p, "info", None) or getattr(p, "value", None)
        if v is not None:
            return bytes(v)
    return b""


_ALONE: Final = frozenset((INIT, INIT_ACK, SHUTDOWN_COMPLETE))  # never bundled (RFC 9260 §6.10)

_HANDLERS: Final = {
    INIT: Association._init, INIT_ACK: Association._init, COOKIE_ECHO: Association._cookie_echo,
    COOKIE_ACK: Association._cookie_ack, DATA: Association._data, I_DATA: Association._idata,
    SACK: Association._sack, NR_SACK: Association._sack, HEARTBEAT: Association._heartbeat,
    HEARTBEAT_ACK: Association._heartbeat_ack, ABORT: Association._abort, SHUTDOWN: Association._shutdown,
    SHUTDOWN_ACK: Association._shutdown, SHUTDOWN_COMPLETE: Association._shutdown_complete,
    ERROR: Association._error, ASCONF: Association._asconf, RE_CONFIG: Association._reconfig,
    FORWARD_TSN: Association._forward_tsn, I_FORWARD_TSN: Association._forward_tsn, AUTH: Association._auth,
}
