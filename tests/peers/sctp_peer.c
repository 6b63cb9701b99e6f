/*
 * sctp_peer: a small scriptable SCTP endpoint on the userspace stack (libusrsctp), for sctpscope's
 * scenario captures (tests/peers/make_scenarios.sh). It logs every action and every received message and
 * notification as one JSON object per line on stdout (flushed per line): that log is the ground truth the
 * tests compare sctpscope's report against.
 *
 * Build: gcc -O2 -o sctp_peer tests/peers/sctp_peer.c -lusrsctp -lpthread
 *
 * Usage: sctp_peer [options] [ACTION...]
 *   --role NAME          label for the log ("server", "c1", ...); a role starting with "server" listens
 *   --local A[,A]        local addresses (all IPv4 or all IPv6), bound with usrsctp_bindx
 *   --lport P            local SCTP port
 *   --remote A[,A]       (client) the server's addresses, for usrsctp_connectx
 *   --rport P            (client) the server's port
 *   --seqpacket          one-to-many socket (default for a server); --stream: one-to-one (client default)
 *   --os N --mis N       SCTP_INITMSG sinit_num_ostreams / sinit_max_instreams
 *   --encap PORT         usrsctp_init(PORT): RFC 6951 UDP encapsulation; clients also set the remote port
 *   --echo               (server) send every received message back to its association (same sid/ppid/U)
 *   --bcast              (server) send every received message to all associations (SCTP_SENDALL)
 *   --hb MS --pmr N --amr N --rto-min MS --rto-max MS --rto-init MS   usrsctp sysctl defaults
 *   --sack-delay MS --sack-freq N   usrsctp sysctl defaults: delayed SACK time, packets per SACK
 *   --pd BYTES           SCTP_PARTIAL_DELIVERY_POINT: partial delivery of a message begins at BYTES
 *   --idata              offer I-DATA (RFC 8260): SCTP_FRAGMENT_INTERLEAVE 2 and SCTP_INTERLEAVING_SUPPORTED
 *   --timeout S          watchdog: log "timeout" and exit 3 after S seconds (default 60)
 *   --delay MS           (client) wait MS after start-up before connecting (see make_scenarios.sh: a usrsctp
 *                        process answers everything out of the blue until its sysctls are set, so start
 *                        every process of a namespace before any association there begins its handshake)
 * Actions, in order (the server runs them after listen, a client after connecting):
 *   send:SID:PPID:LEN[:OPT+OPT...]  OPT: u (SCTP_UNORDERED), all (SCTP_SENDALL), a=N (to the N-th association
 *                                   this endpoint saw come up, 1-based), ttl=MS / rtx=N (PR-SCTP), n=K (K times)
 *   sleep:MS                        pause
 *   waitup:N:MS                     wait until N associations have come up (at most MS)
 *   waitrecv:N:MS                   wait until N messages have been received in total (at most MS)
 *   waitdown:MS                     wait until every association that came up has ended (at most MS)
 *   eof[:a=N]                       graceful shutdown: SCTP_EOF via sendv (one-to-many) / shutdown (one-to-one)
 *   abort:TEXT                      sendv with SCTP_ABORT and TEXT (all the rest) as the user-initiated abort
 *                                   reason; abortassoc:N:TEXT for the N-th association of a one-to-many socket
 *   reset:SID,SID...[:a=N]          SCTP_RESET_STREAMS of those outgoing streams
 *   addstreams:OUT:IN[:a=N]         SCTP_ADD_STREAMS: OUT more outgoing and IN more incoming streams
 *   sh:COMMAND                      run a shell command (e.g. add a blackhole route), log its status
 *   close                           usrsctp_close (done implicitly at the end when not done before)
 * Exit status: 0 when every action ran (send errors are logged, not fatal), 1 on set-up errors, 3 on timeout.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <usrsctp.h>

#ifndef SCTP_INTERLEAVING_SUPPORTED
#define SCTP_INTERLEAVING_SUPPORTED 0x00001206    /* usrsctp's netinet/sctp.h; not in usrsctp.h */
#endif

#define MAX_ADDRS 4
#define MAX_ASSOCS 64
#define MAX_PENDING 64

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static const char *role = "peer";
static struct socket *sock;
static int one_to_many;
static int echo_mode, bcast_mode;
static int closed;

struct assoc {
	sctp_assoc_t id;
	int up, down;
	int peer_port;
	char peer_addr[INET6_ADDRSTRLEN];
};
static struct assoc assocs[MAX_ASSOCS];
static int n_assocs;
static long n_recv;

/* partially delivered messages: (assoc, sid) -> bytes so far */
struct pending { sctp_assoc_t id; uint16_t sid; size_t len; int used; };
static struct pending pend[MAX_PENDING];

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* log one JSON line: the caller gives the rest of the object after "ev" (already JSON, starting with ',' or empty) */
static void logj(const char *ev, const char *fmt, ...)
{
	char body[4096] = "";
	va_list ap;
	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(body, sizeof body, fmt, ap);
		va_end(ap);
	}
	pthread_mutex_lock(&lock);
	printf("{\"t\": %.6f, \"role\": \"%s\", \"ev\": \"%s\"%s}\n", now(), role, ev, body);
	fflush(stdout);
	pthread_mutex_unlock(&lock);
}

static void json_str(char *out, size_t n, const char *s)   /* escape a string for JSON (no quotes added) */
{
	size_t o = 0;
	for (; *s && o + 7 < n; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') { out[o++] = '\\'; out[o++] = c; }
		else if (c < 0x20) o += snprintf(out + o, n - o, "\\u%04x", c);
		else out[o++] = c;
	}
	out[o] = 0;
}

static void addr_str(const struct sockaddr *sa, char *buf, int *port)
{
	buf[0] = 0; *port = 0;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s = (const void *)sa;
		inet_ntop(AF_INET, &s->sin_addr, buf, INET6_ADDRSTRLEN); *port = ntohs(s->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const void *)sa;
		inet_ntop(AF_INET6, &s->sin6_addr, buf, INET6_ADDRSTRLEN); *port = ntohs(s->sin6_port);
	}
}

/* the association table; lock held by the caller */
static struct assoc *find_assoc(sctp_assoc_t id, int create)
{
	for (int i = 0; i < n_assocs; i++)
		if (assocs[i].id == id && !assocs[i].down) return &assocs[i];
	if (!one_to_many && !create && n_assocs)   /* one-to-one: there is only the one */
		return &assocs[n_assocs - 1];
	if (!create || n_assocs >= MAX_ASSOCS) return NULL;
	struct assoc *a = &assocs[n_assocs++];
	memset(a, 0, sizeof *a);
	a->id = id;
	return a;
}

static int peer_port_of(sctp_assoc_t id)
{
	pthread_mutex_lock(&lock);
	struct assoc *a = find_assoc(id, 0);
	int p = a ? a->peer_port : 0;
	pthread_mutex_unlock(&lock);
	return p;
}

static void learn_peer(sctp_assoc_t id, const struct sockaddr *sa)
{
	char buf[INET6_ADDRSTRLEN]; int port;
	addr_str(sa, buf, &port);
	pthread_mutex_lock(&lock);
	struct assoc *a = find_assoc(id, 0);
	if (a && !a->peer_port && port) { a->peer_port = port; strcpy(a->peer_addr, buf); }
	pthread_mutex_unlock(&lock);
}

static const char *assoc_state_name(int s)
{
	switch (s) {
	case SCTP_COMM_UP: return "COMM_UP";
	case SCTP_COMM_LOST: return "COMM_LOST";
	case SCTP_RESTART: return "RESTART";
	case SCTP_SHUTDOWN_COMP: return "SHUTDOWN_COMP";
	case SCTP_CANT_STR_ASSOC: return "CANT_STR_ASSOC";
	default: return "UNKNOWN";
	}
}

static const char *paddr_state_name(int s)
{
	switch (s) {
	case SCTP_ADDR_AVAILABLE: return "ADDR_AVAILABLE";
	case SCTP_ADDR_UNREACHABLE: return "ADDR_UNREACHABLE";
	case SCTP_ADDR_REMOVED: return "ADDR_REMOVED";
	case SCTP_ADDR_ADDED: return "ADDR_ADDED";
	case SCTP_ADDR_MADE_PRIM: return "ADDR_MADE_PRIM";
	case SCTP_ADDR_CONFIRMED: return "ADDR_CONFIRMED";
	default: return "UNKNOWN";
	}
}

static void handle_notification(const union sctp_notification *n, size_t len)
{
	(void)len;
	switch (n->sn_header.sn_type) {
	case SCTP_ASSOC_CHANGE: {
		const struct sctp_assoc_change *c = &n->sn_assoc_change;
		int idx = 0, port = 0;
		pthread_mutex_lock(&lock);
		struct assoc *a = find_assoc(c->sac_assoc_id, c->sac_state == SCTP_COMM_UP || c->sac_state == SCTP_RESTART);
		if (a) {
			idx = (int)(a - assocs) + 1;
			port = a->peer_port;
			if (c->sac_state == SCTP_COMM_UP || c->sac_state == SCTP_RESTART) a->up = 1;
			if (c->sac_state == SCTP_COMM_LOST || c->sac_state == SCTP_SHUTDOWN_COMP) a->down = 1;
		}
		pthread_mutex_unlock(&lock);
		if (c->sac_state == SCTP_COMM_UP && !closed) {
			struct sockaddr *addrs = NULL;
			int k = usrsctp_getpaddrs(sock, c->sac_assoc_id, &addrs);
			if (k > 0) { learn_peer(c->sac_assoc_id, addrs); port = peer_port_of(c->sac_assoc_id); }
			if (addrs) usrsctp_freepaddrs(addrs);
		}
		logj("notify", ", \"type\": \"ASSOC_CHANGE\", \"state\": \"%s\", \"assoc\": %u, \"index\": %d, "
		     "\"peer_port\": %d, \"error\": %u, \"outbound_streams\": %u, \"inbound_streams\": %u",
		     assoc_state_name(c->sac_state), c->sac_assoc_id, idx, port, c->sac_error,
		     c->sac_outbound_streams, c->sac_inbound_streams);
		break;
	}
	case SCTP_PEER_ADDR_CHANGE: {
		const struct sctp_paddr_change *p = &n->sn_paddr_change;
		char buf[INET6_ADDRSTRLEN]; int port;
		addr_str((const struct sockaddr *)&p->spc_aaddr, buf, &port);
		logj("notify", ", \"type\": \"PEER_ADDR_CHANGE\", \"state\": \"%s\", \"addr\": \"%s\", \"assoc\": %u, "
		     "\"peer_port\": %d, \"error\": %u", paddr_state_name(p->spc_state), buf, p->spc_assoc_id,
		     peer_port_of(p->spc_assoc_id), p->spc_error);
		break;
	}
	case SCTP_REMOTE_ERROR: {
		const struct sctp_remote_error *r = &n->sn_remote_error;
		logj("notify", ", \"type\": \"REMOTE_ERROR\", \"error\": %u, \"assoc\": %u, \"peer_port\": %d",
		     ntohs(r->sre_error), r->sre_assoc_id, peer_port_of(r->sre_assoc_id));
		break;
	}
	case SCTP_SHUTDOWN_EVENT:
		logj("notify", ", \"type\": \"SHUTDOWN_EVENT\", \"assoc\": %u, \"peer_port\": %d",
		     n->sn_shutdown_event.sse_assoc_id, peer_port_of(n->sn_shutdown_event.sse_assoc_id));
		break;
	case SCTP_SEND_FAILED_EVENT: {
		const struct sctp_send_failed_event *f = &n->sn_send_failed_event;
		logj("notify", ", \"type\": \"SEND_FAILED\", \"data\": \"%s\", \"error\": %u, \"assoc\": %u, "
		     "\"peer_port\": %d, \"sid\": %u, \"ppid\": %u, \"len\": %u",
		     (f->ssfe_flags & SCTP_DATA_SENT) ? "sent" : "unsent", f->ssfe_error, f->ssfe_assoc_id,
		     peer_port_of(f->ssfe_assoc_id), f->ssfe_info.snd_sid, ntohl(f->ssfe_info.snd_ppid),
		     (unsigned)(f->ssfe_length - sizeof(struct sctp_send_failed_event)));
		break;
	}
	case SCTP_STREAM_RESET_EVENT: {
		const struct sctp_stream_reset_event *s = &n->sn_strreset_event;
		char list[512] = ""; size_t o = 0;
		int k = (int)((s->strreset_length - sizeof(*s)) / sizeof(uint16_t));
		for (int i = 0; i < k && o < sizeof list - 8; i++)
			o += snprintf(list + o, sizeof list - o, "%s%u", i ? ", " : "", s->strreset_stream_list[i]);
		logj("notify", ", \"type\": \"STREAM_RESET\", \"assoc\": %u, \"peer_port\": %d, \"incoming\": %s, "
		     "\"outgoing\": %s, \"denied\": %s, \"failed\": %s, \"streams\": [%s]", s->strreset_assoc_id,
		     peer_port_of(s->strreset_assoc_id),
		     (s->strreset_flags & SCTP_STREAM_RESET_INCOMING_SSN) ? "true" : "false",
		     (s->strreset_flags & SCTP_STREAM_RESET_OUTGOING_SSN) ? "true" : "false",
		     (s->strreset_flags & SCTP_STREAM_RESET_DENIED) ? "true" : "false",
		     (s->strreset_flags & SCTP_STREAM_RESET_FAILED) ? "true" : "false", list);
		break;
	}
	case SCTP_STREAM_CHANGE_EVENT:
		logj("notify", ", \"type\": \"STREAM_CHANGE\", \"assoc\": %u, \"instreams\": %u, \"outstreams\": %u, "
		     "\"denied\": %s, \"failed\": %s", n->sn_strchange_event.strchange_assoc_id,
		     n->sn_strchange_event.strchange_instrms, n->sn_strchange_event.strchange_outstrms,
		     (n->sn_strchange_event.strchange_flags & SCTP_STREAM_CHANGE_DENIED) ? "true" : "false",
		     (n->sn_strchange_event.strchange_flags & SCTP_STREAM_CHANGE_FAILED) ? "true" : "false");
		break;
	case SCTP_PARTIAL_DELIVERY_EVENT: {
		/* the message delivered in part so far on that stream is dropped: log how much of it arrived */
		const struct sctp_pdapi_event *pd = &n->sn_pdapi_event;
		size_t got = 0;
		pthread_mutex_lock(&lock);
		for (int i = 0; i < MAX_PENDING; i++)
			if (pend[i].used && pend[i].id == pd->pdapi_assoc_id && pend[i].sid == pd->pdapi_stream) {
				got = pend[i].len;
				pend[i].used = 0;
			}
		pthread_mutex_unlock(&lock);
		logj("notify", ", \"type\": \"PARTIAL_DELIVERY\", \"indication\": %u, \"assoc\": %u, \"sid\": %u, "
		     "\"seq\": %u, \"delivered\": %zu", pd->pdapi_indication, pd->pdapi_assoc_id, pd->pdapi_stream,
		     pd->pdapi_seq, got);
		break;
	}
	default:
		logj("notify", ", \"type\": \"OTHER\", \"sn_type\": %u", n->sn_header.sn_type);
		break;
	}
}

static ssize_t do_send(const void *buf, size_t len, uint16_t sid, uint32_t ppid, uint16_t flags,
                       sctp_assoc_t id, int pr_policy, uint32_t pr_value, const char *why)
{
	struct sctp_sendv_spa spa;
	memset(&spa, 0, sizeof spa);
	spa.sendv_flags = SCTP_SEND_SNDINFO_VALID;
	spa.sendv_sndinfo.snd_sid = sid;
	spa.sendv_sndinfo.snd_flags = flags;
	spa.sendv_sndinfo.snd_ppid = htonl(ppid);
	spa.sendv_sndinfo.snd_assoc_id = id;
	if (pr_policy) {
		spa.sendv_flags |= SCTP_SEND_PRINFO_VALID;
		spa.sendv_prinfo.pr_policy = (uint16_t)pr_policy;
		spa.sendv_prinfo.pr_value = pr_value;
	}
	ssize_t r = usrsctp_sendv(sock, buf, len, NULL, 0, &spa, sizeof spa, SCTP_SENDV_SPA, 0);
	int err = r < 0 ? errno : 0;
	char fl[128] = "", to[1024] = "";
	size_t o = 0;
	if (flags & SCTP_UNORDERED) o += snprintf(fl + o, sizeof fl - o, "%s\"unordered\"", o ? ", " : "");
	if (flags & SCTP_SENDALL) o += snprintf(fl + o, sizeof fl - o, "%s\"sendall\"", o ? ", " : "");
	if (flags & SCTP_EOF) o += snprintf(fl + o, sizeof fl - o, "%s\"eof\"", o ? ", " : "");
	if (flags & SCTP_ABORT) o += snprintf(fl + o, sizeof fl - o, "%s\"abort\"", o ? ", " : "");
	if (pr_policy == SCTP_PR_SCTP_TTL) o += snprintf(fl + o, sizeof fl - o, "%s\"pr_ttl\"", o ? ", " : "");
	if (pr_policy == SCTP_PR_SCTP_RTX) o += snprintf(fl + o, sizeof fl - o, "%s\"pr_rtx\"", o ? ", " : "");
	if (flags & SCTP_SENDALL) {     /* the associations a SENDALL goes to: those up now, by peer port */
		size_t p = 0;
		pthread_mutex_lock(&lock);
		for (int i = 0; i < n_assocs; i++)
			if (assocs[i].up && !assocs[i].down)
				p += snprintf(to + p, sizeof to - p, "%s%d", p ? ", " : "", assocs[i].peer_port);
		pthread_mutex_unlock(&lock);
	}
	logj("send", ", \"assoc\": %u, \"peer_port\": %d, \"sid\": %u, \"ppid\": %u, \"len\": %zu, \"flags\": [%s], "
	     "\"pr_value\": %u, \"ret\": %zd, \"errno\": %d, \"error\": \"%s\", \"why\": \"%s\"%s%s%s",
	     id, (flags & SCTP_SENDALL) ? 0 : peer_port_of(id), sid, ppid, len, fl, pr_value, r, err,
	     err ? strerror(err) : "", why, (flags & SCTP_SENDALL) ? ", \"to_peer_ports\": [" : "", to,
	     (flags & SCTP_SENDALL) ? "]" : "");
	return r;
}

static int receive_cb(struct socket *s, union sctp_sockstore addr, void *data, size_t datalen,
                      struct sctp_rcvinfo rcv, int flags, void *ulp_info)
{
	(void)s; (void)ulp_info;
	if (data == NULL) {
		logj("socket_closed", NULL);
		return 1;
	}
	if (flags & MSG_NOTIFICATION) {
		handle_notification(data, datalen);
		free(data);
		return 1;
	}
	/* one-to-one sockets report assoc id 0 on receive: keep it as it is */
	learn_peer(rcv.rcv_assoc_id, &addr.sa);
	char from[INET6_ADDRSTRLEN]; int from_port;
	addr_str(&addr.sa, from, &from_port);
	size_t total = datalen;
	int complete = (flags & MSG_EOR) != 0;
	pthread_mutex_lock(&lock);
	struct pending *pe = NULL, *freep = NULL;
	for (int i = 0; i < MAX_PENDING; i++) {
		if (pend[i].used && pend[i].id == rcv.rcv_assoc_id && pend[i].sid == rcv.rcv_sid) pe = &pend[i];
		if (!pend[i].used && !freep) freep = &pend[i];
	}
	if (!complete) {
		if (!pe && freep) { pe = freep; pe->used = 1; pe->id = rcv.rcv_assoc_id; pe->sid = rcv.rcv_sid; pe->len = 0; }
		if (pe) pe->len += datalen;
	} else if (pe) {
		total += pe->len;
		pe->used = 0;
	}
	if (complete) n_recv++;
	pthread_mutex_unlock(&lock);
	if (!complete)
		logj("recv_part", ", \"assoc\": %u, \"sid\": %u, \"ssn\": %u, \"tsn\": %u, \"len\": %zu",
		     rcv.rcv_assoc_id, rcv.rcv_sid, rcv.rcv_ssn, rcv.rcv_tsn, datalen);
	if (complete) {
		logj("recv", ", \"assoc\": %u, \"peer_port\": %d, \"from\": \"%s\", \"from_port\": %d, \"sid\": %u, "
		     "\"ssn\": %u, \"tsn\": %u, \"ppid\": %u, \"len\": %zu, \"flags\": [%s]",
		     rcv.rcv_assoc_id, from_port, from, from_port, rcv.rcv_sid, rcv.rcv_ssn, rcv.rcv_tsn,
		     ntohl(rcv.rcv_ppid), total, (rcv.rcv_flags & SCTP_UNORDERED) ? "\"unordered\"" : "");
		if ((echo_mode || bcast_mode) && total == datalen && !closed) {
			uint16_t f = (rcv.rcv_flags & SCTP_UNORDERED) ? SCTP_UNORDERED : 0;
			if (bcast_mode)
				do_send(data, datalen, rcv.rcv_sid, ntohl(rcv.rcv_ppid), f | SCTP_SENDALL, 0, 0, 0, "bcast");
			else
				do_send(data, datalen, rcv.rcv_sid, ntohl(rcv.rcv_ppid), f, rcv.rcv_assoc_id, 0, 0, "echo");
		}
	}
	free(data);
	return 1;
}

static void debug_printf(const char *format, ...)
{
	(void)format;
}

static int parse_addrs(const char *list, int port, struct sockaddr_storage *out, int max)
{
	char buf[512];
	int n = 0;
	snprintf(buf, sizeof buf, "%s", list);
	for (char *tok = strtok(buf, ","); tok && n < max; tok = strtok(NULL, ",")) {
		memset(&out[n], 0, sizeof out[n]);
		struct sockaddr_in *s4 = (void *)&out[n];
		struct sockaddr_in6 *s6 = (void *)&out[n];
		if (inet_pton(AF_INET, tok, &s4->sin_addr) == 1) {
			s4->sin_family = AF_INET; s4->sin_port = htons(port);
		} else if (inet_pton(AF_INET6, tok, &s6->sin6_addr) == 1) {
			s6->sin6_family = AF_INET6; s6->sin6_port = htons(port);
		} else {
			fprintf(stderr, "bad address %s\n", tok); exit(1);
		}
		n++;
	}
	return n;
}

/* pack sockaddrs as usrsctp_bindx/connectx want them: back to back, each its own size */
static void *pack_addrs(struct sockaddr_storage *a, int n)
{
	static char buf[MAX_ADDRS * sizeof(struct sockaddr_in6)];
	size_t o = 0;
	for (int i = 0; i < n; i++) {
		size_t l = a[i].ss_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
		memcpy(buf + o, &a[i], l); o += l;
	}
	return buf;
}

static sctp_assoc_t assoc_by_index(int idx)
{
	sctp_assoc_t id = 0;
	pthread_mutex_lock(&lock);
	if (idx >= 1 && idx <= n_assocs) id = assocs[idx - 1].id;
	pthread_mutex_unlock(&lock);
	return id;
}

static int count_up(int *alive)
{
	int up = 0, live = 0;
	pthread_mutex_lock(&lock);
	for (int i = 0; i < n_assocs; i++) {
		if (assocs[i].up) up++;
		if (assocs[i].up && !assocs[i].down) live++;
	}
	pthread_mutex_unlock(&lock);
	if (alive) *alive = live;
	return up;
}

static void msleep(long ms) { if (ms > 0) usleep((useconds_t)ms * 1000); }

static void *watchdog(void *arg)
{
	long secs = (long)arg;
	sleep((unsigned)secs);
	logj("timeout", ", \"after_s\": %ld", secs);
	_exit(3);
	return NULL;
}

static sctp_assoc_t target_of(const char *opt)   /* "a=N" -> association id; one-to-one: 0 */
{
	if (opt && strncmp(opt, "a=", 2) == 0) return assoc_by_index(atoi(opt + 2));
	return 0;
}

static void do_close(void)
{
	if (closed) return;
	closed = 1;
	logj("close", NULL);
	usrsctp_close(sock);
}

static void run_action(const char *act)
{
	char buf[1024], esc[1100];
	snprintf(buf, sizeof buf, "%s", act);
	json_str(esc, sizeof esc, act);
	char *colon = strchr(buf, ':');
	char *arg = colon ? colon + 1 : NULL;
	if (colon) *colon = 0;
	if (!strcmp(buf, "sleep")) {
		msleep(atol(arg));
	} else if (!strcmp(buf, "send")) {
		int sid = 0, len = 0, pr = 0, times = 1; unsigned ppid = 0, prv = 0;
		uint16_t flags = 0; sctp_assoc_t id = 0;
		char *opts = NULL;
		char *p = arg;
		sid = atoi(strsep(&p, ":"));
		ppid = (unsigned)strtoul(p ? strsep(&p, ":") : "0", NULL, 10);
		len = atoi(p ? strsep(&p, ":") : "0");
		opts = p;
		for (char *o = opts ? strsep(&opts, "+") : NULL; o; o = opts ? strsep(&opts, "+") : NULL) {
			if (!strcmp(o, "u")) flags |= SCTP_UNORDERED;
			else if (!strcmp(o, "all")) flags |= SCTP_SENDALL;
			else if (!strncmp(o, "a=", 2)) id = target_of(o);
			else if (!strncmp(o, "ttl=", 4)) { pr = SCTP_PR_SCTP_TTL; prv = (unsigned)atoi(o + 4); }
			else if (!strncmp(o, "rtx=", 4)) { pr = SCTP_PR_SCTP_RTX; prv = (unsigned)atoi(o + 4); }
			else if (!strncmp(o, "n=", 2)) times = atoi(o + 2);
		}
		char *data = malloc(len ? len : 1);
		for (int k = 0; k < times; k++) {
			for (int i = 0; i < len; i++) data[i] = (char)('a' + (i + k) % 26);
			snprintf(data, len, "%s#%d sid %d", role, k, sid);   /* readable start; fills at most len bytes */
			if (len) data[len - 1] = '\n';
			do_send(data, (size_t)len, (uint16_t)sid, ppid, flags, id, pr, prv, "script");
		}
		free(data);
	} else if (!strcmp(buf, "waitup") || !strcmp(buf, "waitrecv")) {
		char *p = arg;
		long want = atol(strsep(&p, ":")), ms = p ? atol(p) : 10000;
		double end = now() + ms / 1000.0;
		long have = 0;
		while (now() < end) {
			if (!strcmp(buf, "waitup")) have = count_up(NULL);
			else { pthread_mutex_lock(&lock); have = n_recv; pthread_mutex_unlock(&lock); }
			if (have >= want) break;
			msleep(10);
		}
		logj("waited", ", \"action\": \"%s\", \"want\": %ld, \"have\": %ld", esc, want, have);
	} else if (!strcmp(buf, "waitdown")) {
		double end = now() + (arg ? atol(arg) : 10000) / 1000.0;
		int alive = 0;
		while (now() < end) {
			count_up(&alive);
			if (alive == 0) break;
			msleep(10);
		}
		logj("waited", ", \"action\": \"%s\", \"alive\": %d", esc, alive);
	} else if (!strcmp(buf, "eof")) {
		if (one_to_many) {
			do_send("", 0, 0, 0, SCTP_EOF, target_of(arg), 0, 0, "script");   /* NULL data: EFAULT */
		} else {
			int r = usrsctp_shutdown(sock, SHUT_WR);
			logj("shutdown", ", \"ret\": %d, \"errno\": %d", r, r < 0 ? errno : 0);
		}
	} else if (!strcmp(buf, "abort") || !strcmp(buf, "abortassoc")) {
		/* abort:TEXT (the whole rest, colons included) or abortassoc:N:TEXT */
		char *p = arg;
		sctp_assoc_t id = 0;
		if (!strcmp(buf, "abortassoc")) id = assoc_by_index(atoi(strsep(&p, ":")));
		const char *text = p ? p : "";
		char tesc[1100];
		json_str(tesc, sizeof tesc, text);
		logj("abort", ", \"assoc\": %u, \"text\": \"%s\"", id, tesc);
		do_send(text, strlen(text), 0, 0, SCTP_ABORT, id, 0, 0, "script");
	} else if (!strcmp(buf, "reset")) {
		char *p = arg;
		char *list = strsep(&p, ":");
		uint16_t sids[64]; int n = 0;
		for (char *t = strtok(list, ","); t && n < 64; t = strtok(NULL, ",")) sids[n++] = (uint16_t)atoi(t);
		size_t sz = sizeof(struct sctp_reset_streams) + n * sizeof(uint16_t);
		struct sctp_reset_streams *rs = calloc(1, sz);
		rs->srs_assoc_id = target_of(p);
		rs->srs_flags = SCTP_STREAM_RESET_OUTGOING;
		rs->srs_number_streams = (uint16_t)n;
		memcpy(rs->srs_stream_list, sids, n * sizeof(uint16_t));
		int r = usrsctp_setsockopt(sock, IPPROTO_SCTP, SCTP_RESET_STREAMS, rs, (socklen_t)sz);
		logj("reset_streams", ", \"action\": \"%s\", \"ret\": %d, \"errno\": %d", esc, r, r < 0 ? errno : 0);
		free(rs);
	} else if (!strcmp(buf, "addstreams")) {
		char *p = arg;
		struct sctp_add_streams as;
		memset(&as, 0, sizeof as);
		as.sas_outstrms = (uint16_t)atoi(strsep(&p, ":"));
		as.sas_instrms = (uint16_t)atoi(p ? strsep(&p, ":") : "0");
		as.sas_assoc_id = target_of(p);
		int r = usrsctp_setsockopt(sock, IPPROTO_SCTP, SCTP_ADD_STREAMS, &as, (socklen_t)sizeof as);
		logj("add_streams", ", \"action\": \"%s\", \"ret\": %d, \"errno\": %d", esc, r, r < 0 ? errno : 0);
	} else if (!strcmp(buf, "sh")) {
		char cmd[1024], cesc[1100];
		snprintf(cmd, sizeof cmd, "%s", act + 3);
		json_str(cesc, sizeof cesc, cmd);
		int r = system(cmd);
		logj("sh", ", \"cmd\": \"%s\", \"status\": %d", cesc, r);
	} else if (!strcmp(buf, "close")) {
		do_close();
	} else {
		logj("error", ", \"what\": \"unknown action\", \"action\": \"%s\"", esc);
	}
}

int main(int argc, char **argv)
{
	const char *local = NULL, *remote = NULL;
	int lport = 0, rport = 0, os = 0, mis = 0, encap = 0, type = -1;
	long delay = 0;
	long hb = 0, pmr = 0, amr = 0, rto_min = 0, rto_max = 0, rto_init = 0, timeout = 60;
	long sack_delay = 0, sack_freq = 0, pd_point = 0;
	int idata = 0;
	int i;
	for (i = 1; i < argc && !strncmp(argv[i], "--", 2); i++) {
		const char *o = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : "";
		if (!strcmp(o, "--seqpacket")) { type = SOCK_SEQPACKET; continue; }
		if (!strcmp(o, "--stream")) { type = SOCK_STREAM; continue; }
		if (!strcmp(o, "--echo")) { echo_mode = 1; continue; }
		if (!strcmp(o, "--bcast")) { bcast_mode = 1; continue; }
		if (!strcmp(o, "--idata")) { idata = 1; continue; }
		i++;
		if (!strcmp(o, "--role")) role = v;
		else if (!strcmp(o, "--local")) local = v;
		else if (!strcmp(o, "--remote")) remote = v;
		else if (!strcmp(o, "--lport")) lport = atoi(v);
		else if (!strcmp(o, "--rport")) rport = atoi(v);
		else if (!strcmp(o, "--os")) os = atoi(v);
		else if (!strcmp(o, "--mis")) mis = atoi(v);
		else if (!strcmp(o, "--encap")) encap = atoi(v);
		else if (!strcmp(o, "--hb")) hb = atol(v);
		else if (!strcmp(o, "--pmr")) pmr = atol(v);
		else if (!strcmp(o, "--amr")) amr = atol(v);
		else if (!strcmp(o, "--rto-min")) rto_min = atol(v);
		else if (!strcmp(o, "--rto-max")) rto_max = atol(v);
		else if (!strcmp(o, "--rto-init")) rto_init = atol(v);
		else if (!strcmp(o, "--timeout")) timeout = atol(v);
		else if (!strcmp(o, "--sack-delay")) sack_delay = atol(v);
		else if (!strcmp(o, "--sack-freq")) sack_freq = atol(v);
		else if (!strcmp(o, "--pd")) pd_point = atol(v);
		else if (!strcmp(o, "--delay")) delay = atol(v);
		else { fprintf(stderr, "unknown option %s\n", o); return 1; }
	}
	int server = !strncmp(role, "server", 6);
	if (type < 0) type = server ? SOCK_SEQPACKET : SOCK_STREAM;
	one_to_many = type == SOCK_SEQPACKET;
	if (!local || !lport || (!server && (!remote || !rport))) {
		fprintf(stderr, "usage: see the comment at the top of sctp_peer.c\n");
		return 1;
	}
	pthread_t wd;
	pthread_create(&wd, NULL, watchdog, (void *)timeout);
	pthread_detach(wd);

	usrsctp_init((uint16_t)encap, NULL, debug_printf);
	/* Several usrsctp processes share one network namespace (raw sockets: each sees every SCTP packet).
	 * With the default (0) each would answer the others' packets as out of the blue with an ABORT and
	 * kill their associations; 2 = never answer out-of-the-blue packets. User-initiated ABORTs still go out. */
	usrsctp_sysctl_set_sctp_blackhole(2);
	if (hb) usrsctp_sysctl_set_sctp_heartbeat_interval_default((uint32_t)hb);
	if (pmr) usrsctp_sysctl_set_sctp_path_rtx_max_default((uint32_t)pmr);
	if (amr) usrsctp_sysctl_set_sctp_assoc_rtx_max_default((uint32_t)amr);
	if (rto_min) usrsctp_sysctl_set_sctp_rto_min_default((uint32_t)rto_min);
	if (rto_max) usrsctp_sysctl_set_sctp_rto_max_default((uint32_t)rto_max);
	if (rto_init) usrsctp_sysctl_set_sctp_rto_initial_default((uint32_t)rto_init);
	if (sack_delay) usrsctp_sysctl_set_sctp_delayed_sack_time_default((uint32_t)sack_delay);
	if (sack_freq) usrsctp_sysctl_set_sctp_sack_freq_default((uint32_t)sack_freq);

	struct sockaddr_storage laddrs[MAX_ADDRS], raddrs[MAX_ADDRS];
	int nl = parse_addrs(local, lport, laddrs, MAX_ADDRS);
	int nr = remote ? parse_addrs(remote, rport, raddrs, MAX_ADDRS) : 0;
	int af = laddrs[0].ss_family;

	sock = usrsctp_socket(af, type, IPPROTO_SCTP, receive_cb, NULL, 0, NULL);
	if (!sock) { logj("error", ", \"what\": \"usrsctp_socket\", \"errno\": %d", errno); return 1; }

	if (os || mis) {
		struct sctp_initmsg im;
		memset(&im, 0, sizeof im);
		im.sinit_num_ostreams = (uint16_t)os;
		im.sinit_max_instreams = (uint16_t)mis;
		if (usrsctp_setsockopt(sock, IPPROTO_SCTP, SCTP_INITMSG, &im, sizeof im) < 0)
			logj("error", ", \"what\": \"SCTP_INITMSG\", \"errno\": %d", errno);
	}
	{
		struct sctp_initmsg im; socklen_t l = sizeof im;
		memset(&im, 0, sizeof im);
		usrsctp_getsockopt(sock, IPPROTO_SCTP, SCTP_INITMSG, &im, &l);
		logj("initmsg", ", \"ostreams\": %u, \"instreams\": %u", im.sinit_num_ostreams, im.sinit_max_instreams);
	}
	uint16_t types[] = {SCTP_ASSOC_CHANGE, SCTP_PEER_ADDR_CHANGE, SCTP_REMOTE_ERROR, SCTP_SHUTDOWN_EVENT,
	                    SCTP_SEND_FAILED_EVENT, SCTP_STREAM_RESET_EVENT, SCTP_PARTIAL_DELIVERY_EVENT,
	                    SCTP_STREAM_CHANGE_EVENT};
	for (unsigned k = 0; k < sizeof types / sizeof types[0]; k++) {
		struct sctp_event ev;
		memset(&ev, 0, sizeof ev);
		ev.se_assoc_id = SCTP_FUTURE_ASSOC;
		ev.se_type = types[k];
		ev.se_on = 1;
		if (usrsctp_setsockopt(sock, IPPROTO_SCTP, SCTP_EVENT, &ev, sizeof ev) < 0)
			logj("error", ", \"what\": \"SCTP_EVENT\", \"type\": %u, \"errno\": %d", types[k], errno);
	}
	{
		struct sctp_assoc_value av;
		av.assoc_id = SCTP_FUTURE_ASSOC;
		av.assoc_value = SCTP_ENABLE_RESET_STREAM_REQ | SCTP_ENABLE_CHANGE_ASSOC_REQ;
		if (usrsctp_setsockopt(sock, IPPROTO_SCTP, SCTP_ENABLE_STREAM_RESET, &av, sizeof av) < 0)
			logj("error", ", \"what\": \"SCTP_ENABLE_STREAM_RESET\", \"errno\": %d", errno);
		const int on = 1;
		usrsctp_setsockopt(sock, IPPROTO_SCTP, SCTP_RECVRCVINFO, &on, sizeof on);
		/* no Nagle: every message leaves at once (when cwnd allows), so timed outages hit what they should */
		usrsctp_setsockopt(sock, IPPROTO_SCTP, SCTP_NODELAY, &on, sizeof on);
	}
	if (pd_point) {
		uint32_t v = (uint32_t)pd_point;
		if (usrsctp_setsockopt(sock, IPPROTO_SCTP, SCTP_PARTIAL_DELIVERY_POINT, &v, sizeof v) < 0)
			logj("error", ", \"what\": \"SCTP_PARTIAL_DELIVERY_POINT\", \"errno\": %d", errno);
	}
	if (idata) {
		int level = 2;      /* I-DATA needs interleaving level 2 first */
		struct sctp_assoc_value av = {.assoc_id = SCTP_FUTURE_ASSOC, .assoc_value = 1};
		if (usrsctp_setsockopt(sock, IPPROTO_SCTP, SCTP_FRAGMENT_INTERLEAVE, &level, sizeof level) < 0 ||
		    usrsctp_setsockopt(sock, IPPROTO_SCTP, SCTP_INTERLEAVING_SUPPORTED, &av, sizeof av) < 0)
			logj("error", ", \"what\": \"SCTP_INTERLEAVING_SUPPORTED\", \"errno\": %d", errno);
	}
	if (encap && !server) {
		struct sctp_udpencaps ue;
		memset(&ue, 0, sizeof ue);
		ue.sue_address.ss_family = (sa_family_t)af;
		ue.sue_port = htons((uint16_t)encap);
		if (usrsctp_setsockopt(sock, IPPROTO_SCTP, SCTP_REMOTE_UDP_ENCAPS_PORT, &ue, sizeof ue) < 0)
			logj("error", ", \"what\": \"SCTP_REMOTE_UDP_ENCAPS_PORT\", \"errno\": %d", errno);
	}
	if (usrsctp_bindx(sock, pack_addrs(laddrs, nl), nl, SCTP_BINDX_ADD_ADDR) < 0) {
		logj("error", ", \"what\": \"usrsctp_bindx\", \"errno\": %d", errno);
		return 1;
	}
	char lesc[600], resc[600];
	json_str(lesc, sizeof lesc, local);
	json_str(resc, sizeof resc, remote ? remote : "");
	logj("start", ", \"server\": %s, \"socket\": \"%s\", \"local\": \"%s\", \"lport\": %d, \"remote\": \"%s\", "
	     "\"rport\": %d, \"encap\": %d, \"pid\": %d", server ? "true" : "false",
	     one_to_many ? "one-to-many" : "one-to-one", lesc, lport, resc, rport, encap, (int)getpid());
	if (server) {
		if (usrsctp_listen(sock, 1) < 0) { logj("error", ", \"what\": \"listen\", \"errno\": %d", errno); return 1; }
		logj("listen", NULL);
	} else {
		sctp_assoc_t id = 0;
		msleep(delay);
		int r = usrsctp_connectx(sock, pack_addrs(raddrs, nr), nr, &id);
		int err = r < 0 ? errno : 0;
		logj("connect", ", \"ret\": %d, \"errno\": %d, \"assoc\": %u, \"lport\": %d, \"rport\": %d",
		     r, err, id, lport, rport);
		if (r < 0 && err != EINPROGRESS) { do_close(); usrsctp_finish(); return 2; }
		/* connectx on a blocking socket returns once established; wait for COMM_UP to be logged anyway */
		double end = now() + 10;
		while (count_up(NULL) < 1 && now() < end) msleep(5);
		if (one_to_many == 0) {  /* one-to-one: remember the peer for the log */
			pthread_mutex_lock(&lock);
			if (n_assocs && !assocs[0].peer_port) assocs[0].peer_port = rport;
			pthread_mutex_unlock(&lock);
		}
	}
	for (; i < argc; i++) run_action(argv[i]);
	do_close();
	for (int k = 0; k < 300 && usrsctp_finish() != 0; k++) msleep(50);
	logj("exit", ", \"received\": %ld", n_recv);
	return 0;
}
