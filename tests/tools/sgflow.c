// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * sgflow: end-to-end byte-stream checker for sockgate. It plays both the TLS client and the
 * backend around the gateway and proves that every byte of a bulk transfer arrives exactly once
 * and in order in both directions, half-close included. A third mode replays a ClientHello file
 * and reports how the peer ended the connection. Usage: usage_text below, tests/e2e/README.md.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HDR_MAGIC    "SGF1"
#define HDR_LEN	     24
#define DOWN_XOR     0x5a5a5a5au
#define BUF_BIG	     (256 * 1024)
#define BUF_SMALL    (64 * 1024) /* with many connections: 500 x 2 x 256 KiB is too much RSS */
#define MANY_CONNS   64
#define MAX_CLIENTS  4096
#define MAX_FILE     (1 << 20)
#define THREAD_STACK (256 * 1024) /* buffers are on the heap; 500 x 8 MiB stacks is waste */
#define WHY_LEN	     200
#define CONNECT_MS   10000 /* replay: bound on connect(), separate from --wait */

static const char usage_text[] =
	"usage:\n"
	"  sgflow server ADDR PORT [--once] [--max-conns N] [--reply-after-eof] [--hello FILE]\n"
	"                [--ignore-empty] [--timeout S] [--lifetime S] [--pause-read MS]\n"
	"  sgflow client HOST PORT --hello FILE [--up N] [--down M] [--conns C] [--seed S]\n"
	"                [--pause-read MS] [--up-rate N] [--timeout S] [--bytewise-hello] "
	"[--reply-after-eof-check] [--fin-after-eof]\n"
	"  sgflow replay HOST PORT FILE [--bytewise] [--wait S]\n"
	"\n"
	"server: per connection skip one TLS record (the ClientHello; with --hello FILE: expect\n"
	"  exactly FILE's bytes instead), read the 24-byte header \"SGF1\" seed(u32) up(u64) "
	"down(u64)\n"
	"  (big endian), then at the same time verify `up` pattern bytes + EOF and send `down` "
	"bytes\n"
	"  + FIN. Prints `conn peer=IP:PORT seed=S up=N down=M result=ok|FAIL:<reason>`.\n"
	"  --once = --max-conns 1: exit after N connections, 1 if any failed (else run until "
	"killed)\n"
	"  --reply-after-eof  start sending only after the client's EOF (half-close test)\n"
	"  --pause-read MS    read nothing of the stream for MS ms after its header\n"
	"  --ignore-empty     connections closed before their first byte (port probes) print\n"
	"                     result=empty and do not count; otherwise they are FAIL:empty\n"
	"  --timeout S        per-connection deadline (default 60)\n"
	"  --lifetime S       exit 1 if not done after S seconds (default: no limit)\n"
	"client: C parallel connections, connection i with seed S+i (default S=1, C=1, N=M=0):\n"
	"  send FILE, the header, N pattern bytes + FIN, and verify M reply bytes + EOF.\n"
	"  Prints `conn i seed=S up=N down=M result=ok|FAIL:<reason> ms=T local=IP:PORT`\n"
	"  (local: our end, the client= of the gateway's access line) and a summary line.\n"
	"  --pause-read MS         read nothing for MS ms after connecting (stalled receiver)\n"
	"  --up-rate N             send the up bytes at N bytes a second, in 100 ms steps\n"
	"                          (a long-lived flow, e.g. for sockgate top)\n"
	"  --timeout S             overall deadline (default 60)\n"
	"  --bytewise-hello        send FILE one byte per segment (TCP_NODELAY), 1 ms apart\n"
	"  --reply-after-eof-check fail if reply bytes arrive before our FIN (for a server\n"
	"                          running --reply-after-eof)\n"
	"  --fin-after-eof         keep our write side open until the reply and its EOF are\n"
	"                          in (a TLS client does not half-close)\n"
	"replay: send FILE (whole, or --bytewise), no FIN, wait up to S seconds (default 5), "
	"print\n"
	"  `replay sent=N received=R end=eof|reset|open`.\n"
	"Sizes take K, M, G (x1024). Exit: 0 ok, 1 failure, 2 usage.\n";

__attribute__((noreturn, format(printf, 1, 2))) static void usage_exit(const char *fmt, ...)
{
	if (fmt) {
		va_list ap;

		va_start(ap, fmt);
		fputs("sgflow: ", stderr);
		vfprintf(stderr, fmt, ap);
		fputs("\n", stderr);
		va_end(ap);
	}
	fputs(usage_text, stderr);
	exit(2);
}

__attribute__((noreturn, format(printf, 1, 2))) static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("sgflow: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputs("\n", stderr);
	va_end(ap);
	exit(1);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int ms_left(int64_t deadline)
{
	int64_t left = deadline - now_ms();

	return left < 0 ? 0 : left > INT_MAX ? INT_MAX : (int)left;
}

/* Reasons end up in `result=FAIL:<reason>`, so they use errno names: no spaces to parse around. */
static const char *ename(int e)
{
	const char *n = strerrorname_np(e);

	return n ? n : "EUNKNOWN";
}

__attribute__((format(printf, 2, 3))) static int failf(char *why, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, WHY_LEN, fmt, ap);
	va_end(ap);
	return -1;
}

/* 1: ready, 0: deadline passed, -1: poll error. */
static int wait_fd(int fd, short events, int64_t deadline)
{
	for (;;) {
		struct pollfd p = {.fd = fd, .events = events};
		int r = poll(&p, 1, ms_left(deadline));

		if (r > 0)
			return 1;
		if (r == 0)
			return 0;
		if (errno != EINTR)
			return -1;
	}
}

/* ---- pattern ---------------------------------------------------------------------------- */

/*
 * xorshift64*, 8 bytes per step, consumed low byte first. The stream is sequential, so each
 * byte's value depends on its offset: a dropped, duplicated or reordered chunk shows up as a
 * mismatch at the first offset where the stream diverges.
 */
struct pat {
	uint64_t s;
	uint64_t word;	/* current output word, low byte next */
	unsigned avail; /* bytes of word not consumed yet */
	uint32_t seed;	/* for pat_locate() after a mismatch */
};

static void pat_init(struct pat *p, uint32_t seed)
{
	p->s = (uint64_t)seed * 0x9E3779B97F4A7C15ull + 1;
	if (!p->s)
		p->s = 1; /* xorshift must not start at 0 */
	p->word = 0;
	p->avail = 0;
	p->seed = seed;
}

static inline uint64_t pat_next(struct pat *p)
{
	uint64_t x = p->s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	p->s = x;
	return x * 0x2545F4914F6CDD1Dull;
}

static inline uint8_t pat_byte(struct pat *p)
{
	uint8_t b;

	if (!p->avail) {
		p->word = pat_next(p);
		p->avail = 8;
	}
	b = (uint8_t)p->word;
	p->word >>= 8;
	p->avail--;
	return b;
}

static void pat_fill(struct pat *p, uint8_t *b, size_t n)
{
	size_t i = 0;

	while (i < n && p->avail)
		b[i++] = pat_byte(p);
	for (; i + 8 <= n; i += 8) {
		uint64_t v = htole64(pat_next(p));

		memcpy(b + i, &v, 8);
	}
	while (i < n)
		b[i++] = pat_byte(p);
}

/* Index of the first byte of b[0..n) that differs from the pattern (expected byte in *want), or n. */
static size_t pat_verify(struct pat *p, const uint8_t *b, size_t n, uint8_t *want)
{
	size_t i = 0;

	for (; i < n && p->avail; i++) {
		*want = pat_byte(p);
		if (b[i] != *want)
			return i;
	}
	for (; i + 8 <= n; i += 8) {
		uint64_t w = pat_next(p), got;

		memcpy(&got, b + i, 8);
		if (got == htole64(w))
			continue;
		for (;; i++, w >>= 8) {
			if (b[i] != (uint8_t)w) {
				*want = (uint8_t)w;
				return i;
			}
		}
	}
	for (; i < n; i++) {
		*want = pat_byte(p);
		if (b[i] != *want)
			return i;
	}
	return n;
}

/*
 * After a mismatch at stream offset off: which offset of the expected stream (seed, total
 * bytes long) holds the n received bytes b, searched within PAT_SEARCH bytes either side?
 * The nearest match, or -1. It tells a skipped chunk (a later offset), a repeated one (an
 * earlier offset) and foreign or garbled bytes (none) apart. Only run on a failure.
 */
#define PAT_SEARCH (4u << 20)
static int64_t pat_locate(uint32_t seed, uint64_t off, uint64_t total, const uint8_t *b, size_t n)
{
	uint64_t lo = off > PAT_SEARCH ? off - PAT_SEARCH : 0;
	uint64_t hi = off + PAT_SEARCH + n < total ? off + PAT_SEARCH + n : total;
	int64_t best = -1;
	struct pat p;
	uint8_t *w, *q;

	if (hi <= lo || hi - lo < n || !(w = malloc(hi - lo)))
		return -1;
	pat_init(&p, seed);
	for (uint64_t i = 0; i < lo / 8; i++)
		pat_next(&p);
	for (uint64_t i = 0; i < lo % 8; i++)
		pat_byte(&p);
	pat_fill(&p, w, hi - lo);
	for (q = w; (q = memmem(q, (size_t)(w + (hi - lo) - q), b, n)); q++) {
		int64_t at = (int64_t)(lo + (uint64_t)(q - w));

		if (best < 0 || llabs(at - (int64_t)off) < llabs(best - (int64_t)off))
			best = at;
	}
	free(w);
	return best;
}

/* ---- full-duplex transfer ----------------------------------------------------------------- */

struct half {
	struct pat pat;
	uint64_t total, done;
	uint8_t *buf;
	size_t off, len;  /* tx: generated but unsent bytes are buf[off..len) */
	bool fin;	  /* tx: shutdown(SHUT_WR) done; rx: EOF seen */
	const char *name; /* "up" or "down" */
};

struct flow {
	int fd;
	size_t bufsz;
	struct half tx, rx;
	int64_t deadline;
	int64_t read_from;  /* no recv() before this time (--pause-read) */
	uint64_t tx_rate;   /* --up-rate: bytes a second, 0 unlimited */
	int64_t tx_from;    /* when pacing started */
	bool tx_after_eof;  /* server --reply-after-eof: start sending only after the peer's EOF */
	bool rx_after_fin;  /* client --reply-after-eof-check: data before our FIN is a failure */
	bool fin_after_eof; /* client --fin-after-eof: our FIN only after the peer's EOF */
	char *why;
};

static int flow_timeout(struct flow *f)
{
	const struct half *up = f->tx.name[0] == 'u' ? &f->tx : &f->rx;
	const struct half *down = up == &f->tx ? &f->rx : &f->tx;

	return failf(f->why, "timeout:up=%" PRIu64 "/%" PRIu64 "%s:down=%" PRIu64 "/%" PRIu64 "%s",
		     up->done, up->total, up->fin ? "+fin" : "", down->done, down->total,
		     down->fin ? "+fin" : "");
}

/* --up-rate: how many bytes may have been sent by now, in 100 ms steps so a
 * step is worth a send(); UINT64_MAX when unpaced. *next gets the next step. */
static uint64_t tx_allowed(const struct flow *f, int64_t now, int64_t *next)
{
	uint64_t steps = (uint64_t)(now - f->tx_from) / 100 + 1;
	uint64_t per_step = f->tx_rate / 10 ? f->tx_rate / 10 : 1;

	*next = f->tx_from + (int64_t)steps * 100;
	return f->tx_rate ? steps * per_step : UINT64_MAX;
}

static int tx_step(struct flow *f, uint64_t allowed)
{
	struct half *h = &f->tx;
	size_t want;
	ssize_t n;

	if (h->off == h->len) {
		uint64_t left = h->total - h->done;
		size_t len = left < f->bufsz ? (size_t)left : f->bufsz;

		pat_fill(&h->pat, h->buf, len);
		h->off = 0;
		h->len = len;
	}
	want = h->len - h->off;
	if (allowed - h->done < want)
		want = (size_t)(allowed - h->done);
	n = send(f->fd, h->buf + h->off, want, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return 0;
		return failf(f->why, "%s-send:%s:%s=%" PRIu64 "/%" PRIu64, h->name, ename(errno),
			     h->name, h->done, h->total);
	}
	h->off += (size_t)n;
	h->done += (uint64_t)n;
	return 0;
}

static int rx_step(struct flow *f)
{
	struct half *h = &f->rx;
	ssize_t n = recv(f->fd, h->buf, f->bufsz, MSG_DONTWAIT);
	uint64_t want_len;
	size_t bad;
	uint8_t want = 0;

	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return 0;
		return failf(f->why, "%s-recv:%s:%s=%" PRIu64 "/%" PRIu64, h->name, ename(errno),
			     h->name, h->done, h->total);
	}
	if (n == 0) {
		if (h->done < h->total)
			return failf(f->why, "early-eof:%s=%" PRIu64 "/%" PRIu64, h->name, h->done,
				     h->total);
		h->fin = true;
		return 0;
	}
	if (f->rx_after_fin && !f->tx.fin)
		return failf(f->why,
			     "reply-before-eof:%zd-bytes-before-up-fin:up=%" PRIu64 "/%" PRIu64, n,
			     f->tx.done, f->tx.total);
	want_len = h->total - h->done < (uint64_t)n ? h->total - h->done : (uint64_t)n;
	bad = pat_verify(&h->pat, h->buf, (size_t)want_len, &want);
	if (bad < want_len) {
		/* Up to 16 received bytes from the first bad one, in hex, and where in the
		 * expected stream they belong (got-is-offset=N|none; "?" with under 8 bytes). */
		size_t k = want_len - bad < 16 ? (size_t)(want_len - bad) : 16;
		int64_t at =
			k >= 8 ? pat_locate(h->pat.seed, h->done + bad, h->total, h->buf + bad, k)
			       : -1;
		char hex[33], where[24];

		for (size_t i = 0; i < k; i++)
			snprintf(hex + 2 * i, 3, "%02x", h->buf[bad + i]);
		if (k < 8)
			snprintf(where, sizeof(where), "?");
		else if (at < 0)
			snprintf(where, sizeof(where), "none");
		else
			snprintf(where, sizeof(where), "%" PRId64, at);
		return failf(f->why,
			     "%s-mismatch:offset=%" PRIu64
			     ":want=0x%02x:got=0x%02x:got-is-offset=%s"
			     ":got-bytes=%s",
			     h->name, h->done + bad, want, h->buf[bad], where, hex);
	}
	h->done += want_len;
	if ((uint64_t)n > want_len)
		return failf(f->why, "%s-extra:%" PRIu64 "-bytes-after-offset=%" PRIu64, h->name,
			     (uint64_t)n - want_len, h->total);
	return 0;
}

/* Runs both directions until our FIN is sent and the peer's EOF is read; 0 or -1 (f->why). */
static int flow_run(struct flow *f)
{
	for (;;) {
		struct pollfd p = {.fd = -1};
		int64_t now = now_ms();
		int64_t wake = f->deadline, next_step;
		uint64_t allowed = tx_allowed(f, now, &next_step);
		int r;

		if (!f->tx.fin && f->tx.done == f->tx.total &&
		    (!(f->tx_after_eof || f->fin_after_eof) || f->rx.fin)) {
			if (shutdown(f->fd, SHUT_WR) < 0)
				return failf(f->why, "shutdown:%s", ename(errno));
			f->tx.fin = true;
		}
		if (f->tx.fin && f->rx.fin)
			return 0;
		if (now >= f->deadline)
			return flow_timeout(f);
		if (!f->tx.fin && f->tx.done < f->tx.total && (!f->tx_after_eof || f->rx.fin)) {
			if (f->tx.done < allowed)
				p.events |= POLLOUT;
			else if (next_step < wake)
				wake = next_step;
		}
		if (!f->rx.fin) {
			if (now >= f->read_from)
				p.events |= POLLIN;
			else if (f->read_from < wake)
				wake = f->read_from;
		}
		/* Without events poll() only sleeps; this also keeps a POLLHUP during
		 * --pause-read from turning the loop into a busy wait. */
		if (p.events)
			p.fd = f->fd;
		r = poll(&p, 1, (int)(wake - now < INT_MAX ? wake - now : INT_MAX));
		if (r < 0 && errno != EINTR)
			return failf(f->why, "poll:%s", ename(errno));
		if (r <= 0)
			continue;
		if ((p.events & POLLIN) && (p.revents & (POLLIN | POLLHUP | POLLERR)) && rx_step(f))
			return -1;
		if ((p.events & POLLOUT) && (p.revents & (POLLOUT | POLLHUP | POLLERR)) &&
		    tx_step(f, allowed))
			return -1;
	}
}

static void flow_init(struct flow *f, int fd, size_t bufsz, uint8_t *bufs, char *why)
{
	memset(f, 0, sizeof(*f));
	f->fd = fd;
	f->bufsz = bufsz;
	f->tx.buf = bufs;
	f->rx.buf = bufs + bufsz;
	f->why = why;
}

/* ---- socket helpers ----------------------------------------------------------------------- */

static int send_all(int fd, const void *buf, size_t len, int64_t deadline, const char *what,
		    char *why)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n = send(fd, (const uint8_t *)buf + off, len - off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		int r;

		if (n >= 0) {
			off += (size_t)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return failf(why, "%s-send:%s:sent=%zu/%zu", what, ename(errno), off, len);
		r = wait_fd(fd, POLLOUT, deadline);
		if (r == 0)
			return failf(why, "timeout:%s:sent=%zu/%zu", what, off, len);
		if (r < 0)
			return failf(why, "poll:%s", ename(errno));
	}
	return 0;
}

/* One byte per segment, as a slow or hostile client would: the gateway must reassemble. */
static int send_bytewise(int fd, const uint8_t *buf, size_t len, int64_t deadline, char *why)
{
	int one = 1;

	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0)
		return failf(why, "TCP_NODELAY:%s", ename(errno));
	for (size_t i = 0; i < len; i++) {
		if (i > 0)
			poll(NULL, 0, 1);
		if (send_all(fd, buf + i, 1, deadline, "hello", why))
			return -1;
	}
	return 0;
}

/* 1: got all n bytes, 0: EOF after *got bytes, -1: error or timeout (why set). */
static int recv_exact(int fd, void *buf, size_t n, int64_t deadline, size_t *got, const char *what,
		      char *why)
{
	*got = 0;
	while (*got < n) {
		ssize_t r = recv(fd, (uint8_t *)buf + *got, n - *got, MSG_DONTWAIT);
		int w;

		if (r > 0) {
			*got += (size_t)r;
			continue;
		}
		if (r == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return failf(why, "%s-recv:%s:got=%zu/%zu", what, ename(errno), *got, n);
		w = wait_fd(fd, POLLIN, deadline);
		if (w == 0)
			return failf(why, "timeout:%s:got=%zu/%zu", what, *got, n);
		if (w < 0)
			return failf(why, "poll:%s", ename(errno));
	}
	return 1;
}

static int tcp_connect(const struct sockaddr_storage *sa, socklen_t len, int64_t deadline,
		       char *why)
{
	int fd = socket(sa->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int err = 0, r;
	socklen_t elen = sizeof(err);

	if (fd < 0)
		return failf(why, "socket:%s", ename(errno));
	if (connect(fd, (const struct sockaddr *)sa, len) == 0)
		return fd;
	if (errno != EINPROGRESS) {
		failf(why, "connect:%s", ename(errno));
		goto fail;
	}
	r = wait_fd(fd, POLLOUT, deadline);
	if (r <= 0) {
		failf(why, "connect:%s", r == 0 ? "timeout" : ename(errno));
		goto fail;
	}
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen);
	if (err) {
		failf(why, "connect:%s", ename(err));
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

static void resolve(const char *host, const char *port, int flags, struct sockaddr_storage *sa,
		    socklen_t *len)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV | flags};
	struct addrinfo *ai;
	int r = getaddrinfo(host, port, &hints, &ai);

	if (r)
		die("%s port %s: %s", host, port, gai_strerror(r));
	memcpy(sa, ai->ai_addr, ai->ai_addrlen);
	*len = ai->ai_addrlen;
	freeaddrinfo(ai);
}

static void format_peer(const struct sockaddr_storage *sa, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN] = "?";

	if (sa->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;

		inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
		snprintf(buf, len, "[%s]:%u", host, ntohs(s6->sin6_port));
	} else {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;

		inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
		snprintf(buf, len, "%s:%u", host, ntohs(s4->sin_port));
	}
}

static uint8_t *read_whole(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	uint8_t *buf = malloc(MAX_FILE + 1);

	if (!fp)
		die("%s: %s", path, strerror(errno));
	if (!buf)
		die("out of memory");
	*len = fread(buf, 1, MAX_FILE + 1, fp);
	if (ferror(fp) || *len > MAX_FILE)
		die("%s: read error or larger than %d bytes", path, MAX_FILE);
	fclose(fp);
	return buf;
}

static void spawn(void *(*fn)(void *), void *arg, bool detach, pthread_t *tid)
{
	pthread_attr_t attr;
	pthread_t t;
	int r;

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, THREAD_STACK);
	if (detach)
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	r = pthread_create(tid ? tid : &t, &attr, fn, arg);
	pthread_attr_destroy(&attr);
	if (r)
		die("pthread_create: %s", strerror(r));
}

/* ---- option parsing ----------------------------------------------------------------------- */

static uint64_t parse_size(const char *opt, const char *s)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (s[0] == '-' || end == s || errno)
		usage_exit("%s: bad size '%s'", opt, s);
	switch (*end) {
	case 'K':
	case 'k':
		shift = 10;
		break;
	case 'M':
	case 'm':
		shift = 20;
		break;
	case 'G':
	case 'g':
		shift = 30;
		break;
	case '\0':
		break;
	default:
		usage_exit("%s: bad size '%s' (suffixes: K M G)", opt, s);
	}
	if (*end && end[1])
		usage_exit("%s: bad size '%s' (suffixes: K M G)", opt, s);
	if (v > (UINT64_MAX >> shift))
		usage_exit("%s: size '%s' too large", opt, s);
	return (uint64_t)v << shift;
}

static uint64_t parse_uint(const char *opt, const char *s, uint64_t min, uint64_t max)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (s[0] == '-' || end == s || *end || errno || v < min || v > max)
		usage_exit("%s: '%s' is not a number in %" PRIu64 "..%" PRIu64, opt, s, min, max);
	return v;
}

static int64_t parse_secs(const char *opt, const char *s)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || *end || !(v > 0 && v < 1e7))
		usage_exit("%s: '%s' is not a positive number of seconds", opt, s);
	return (int64_t)(v * 1000);
}

/* GNU getopt permutes, so options may come before or after the positional arguments. */
static int next_opt(int argc, char **argv, const struct option *lo)
{
	int c = getopt_long(argc, argv, "h", lo, NULL);

	if (c == 'h') {
		fputs(usage_text, stdout);
		exit(0);
	}
	if (c == '?' || c == ':')
		usage_exit("bad option or missing value: %s", argv[optind - 1]);
	return c;
}

/* ---- server ------------------------------------------------------------------------------- */

struct server {
	uint64_t max_conns; /* 0: run until killed */
	bool reply_after_eof, ignore_empty;
	int64_t timeout_ms, lifetime_ms;
	int64_t pause_ms;     /* --pause-read: no recv() of the stream this long after its header */
	const uint8_t *hello; /* --hello: the exact bytes expected before the header */
	size_t hello_len;
	pthread_mutex_t mu;
	uint64_t pending; /* accepted and not (yet) ignored as empty */
	uint64_t counted, failed;
	uint64_t active;
};

struct srv_conn {
	struct server *srv;
	int fd;
	struct sockaddr_storage peer;
	int64_t deadline;
	size_t bufsz;
};

enum { RES_FAIL = -1, RES_OK = 0, RES_EMPTY = 1 }; /* RES_FAIL: failf() */

/* Reads the hello and the header; fills seed/up/down. RES_OK to go on, else RES_FAIL or RES_EMPTY. */
static int srv_preamble(struct srv_conn *c, uint8_t *buf, uint32_t *seed, uint64_t *up,
			uint64_t *down, char *why)
{
	const struct server *s = c->srv;
	uint8_t hdr[HDR_LEN];
	size_t got, need, skip;
	int r;

	if (s->hello) {
		/* The gateway must forward the hello untouched: compare it byte for byte, in
		 * buffer-sized pieces (the file may be larger than the buffer). */
		for (size_t off = 0; off < s->hello_len; off += got) {
			need = s->hello_len - off < c->bufsz ? s->hello_len - off : c->bufsz;
			r = recv_exact(c->fd, buf, need, c->deadline, &got, "hello", why);
			if (r == 0 && !off && !got)
				return RES_EMPTY;
			if (r == 0)
				return failf(why, "eof-in-hello:got=%zu/%zu", off + got,
					     s->hello_len);
			if (r < 0)
				return RES_FAIL;
			for (size_t i = 0; i < got; i++)
				if (buf[i] != s->hello[off + i])
					return failf(
						why,
						"hello-mismatch:offset=%zu:want=0x%02x:got=0x%02x",
						off + i, s->hello[off + i], buf[i]);
		}
	} else {
		r = recv_exact(c->fd, buf, 5, c->deadline, &got, "hello", why);
		if (r == 0)
			return got ? failf(why, "eof-in-hello:got=%zu/5", got) : RES_EMPTY;
		if (r < 0)
			return RES_FAIL;
		if (buf[0] != 0x16)
			return failf(why, "hello-not-handshake:first-byte=0x%02x", buf[0]);
		for (need = (size_t)buf[3] << 8 | buf[4]; need; need -= skip) {
			skip = need < c->bufsz ? need : c->bufsz;
			r = recv_exact(c->fd, buf, skip, c->deadline, &got, "hello", why);
			if (r == 0)
				return failf(why, "eof-in-hello");
			if (r < 0)
				return RES_FAIL;
		}
	}
	r = recv_exact(c->fd, hdr, HDR_LEN, c->deadline, &got, "header", why);
	if (r == 0)
		return failf(why, "eof-in-header:got=%zu/%d", got, HDR_LEN);
	if (r < 0)
		return RES_FAIL;
	if (memcmp(hdr, HDR_MAGIC, 4))
		return failf(why, "bad-magic:%02x%02x%02x%02x", hdr[0], hdr[1], hdr[2], hdr[3]);
	memcpy(seed, hdr + 4, 4);
	memcpy(up, hdr + 8, 8);
	memcpy(down, hdr + 16, 8);
	*seed = be32toh(*seed);
	*up = be64toh(*up);
	*down = be64toh(*down);
	return RES_OK;
}

static void *srv_conn_main(void *arg)
{
	struct srv_conn *c = arg;
	struct server *s = c->srv;
	char why[WHY_LEN] = "", peer[INET6_ADDRSTRLEN + 16], hdrtxt[80] = "seed=- up=- down=-";
	uint8_t *bufs = malloc(2 * c->bufsz);
	uint32_t seed = 0;
	uint64_t up = 0, down = 0;
	int res = RES_FAIL;

	format_peer(&c->peer, peer, sizeof(peer));
	if (!bufs)
		failf(why, "out-of-memory");
	else
		res = srv_preamble(c, bufs, &seed, &up, &down, why);
	if (res == RES_OK) {
		struct flow f;

		snprintf(hdrtxt, sizeof(hdrtxt), "seed=%" PRIu32 " up=%" PRIu64 " down=%" PRIu64,
			 seed, up, down);
		flow_init(&f, c->fd, c->bufsz, bufs, why);
		pat_init(&f.rx.pat, seed);
		pat_init(&f.tx.pat, seed ^ DOWN_XOR);
		f.rx.total = up;
		f.rx.name = "up";
		f.tx.total = down;
		f.tx.name = "down";
		f.deadline = c->deadline;
		f.tx_after_eof = s->reply_after_eof;
		f.read_from = now_ms() + s->pause_ms;
		res = flow_run(&f) ? RES_FAIL : RES_OK;
	}
	close(c->fd);
	free(bufs);
	if (res == RES_EMPTY)
		snprintf(why, sizeof(why), "%s", s->ignore_empty ? "empty" : "FAIL:empty");
	printf("conn peer=%s %s result=%s%s\n", peer, hdrtxt, res == RES_FAIL ? "FAIL:" : "",
	       res == RES_OK ? "ok" : why);
	pthread_mutex_lock(&s->mu);
	s->active--;
	if (res == RES_EMPTY && s->ignore_empty) {
		s->pending--;
	} else {
		s->counted++;
		s->failed += res != RES_OK;
	}
	pthread_mutex_unlock(&s->mu);
	free(c);
	return NULL;
}

static int cmd_server(int argc, char **argv)
{
	static const struct option lo[] = {
		{"once", no_argument, NULL, 'o'},
		{"max-conns", required_argument, NULL, 'n'},
		{"reply-after-eof", no_argument, NULL, 'r'},
		{"hello", required_argument, NULL, 'H'},
		{"ignore-empty", no_argument, NULL, 'e'},
		{"timeout", required_argument, NULL, 't'},
		{"lifetime", required_argument, NULL, 'l'},
		{"pause-read", required_argument, NULL, 'p'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct server s = {.timeout_ms = 60000, .mu = PTHREAD_MUTEX_INITIALIZER};
	struct sockaddr_storage sa;
	socklen_t salen;
	int64_t t0 = now_ms();
	int c, lfd, one = 1;

	while ((c = next_opt(argc, argv, lo)) != -1) {
		switch (c) {
		case 'o':
			s.max_conns = 1;
			break;
		case 'n':
			s.max_conns = parse_uint("--max-conns", optarg, 1, UINT32_MAX);
			break;
		case 'r':
			s.reply_after_eof = true;
			break;
		case 'H':
			s.hello = read_whole(optarg, &s.hello_len);
			if (!s.hello_len)
				usage_exit("--hello %s: empty file", optarg);
			break;
		case 'e':
			s.ignore_empty = true;
			break;
		case 't':
			s.timeout_ms = parse_secs("--timeout", optarg);
			break;
		case 'l':
			s.lifetime_ms = parse_secs("--lifetime", optarg);
			break;
		case 'p':
			s.pause_ms = (int64_t)parse_uint("--pause-read", optarg, 0, 86400000);
			break;
		}
	}
	if (argc - optind != 2)
		usage_exit("server needs ADDR PORT");
	resolve(argv[optind], argv[optind + 1], AI_NUMERICHOST | AI_PASSIVE, &sa, &salen);
	lfd = socket(sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		die("socket: %s", strerror(errno));
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* "::" means IPv6 only, so a v4 and a v6 server can share a port. */
	if (sa.ss_family == AF_INET6)
		setsockopt(lfd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&sa, salen) < 0 || listen(lfd, SOMAXCONN) < 0)
		die("listen %s port %s: %s", argv[optind], argv[optind + 1], strerror(errno));

	for (;;) {
		struct srv_conn *conn;
		socklen_t plen = sizeof(struct sockaddr_storage);
		bool done, can_accept;
		int fd;

		pthread_mutex_lock(&s.mu);
		done = s.max_conns && s.counted >= s.max_conns;
		can_accept = !s.max_conns || s.pending < s.max_conns;
		pthread_mutex_unlock(&s.mu);
		if (done)
			break;
		if (s.lifetime_ms && now_ms() - t0 >= s.lifetime_ms)
			die("server: --lifetime %.1f s over after %" PRIu64 " finished connections",
			    s.lifetime_ms / 1000.0, s.counted);
		/* Short waits: both conditions above change without waking us. */
		if (!can_accept || wait_fd(lfd, POLLIN, now_ms() + 100) <= 0) {
			if (!can_accept)
				poll(NULL, 0, 20);
			continue;
		}
		conn = calloc(1, sizeof(*conn));
		if (!conn)
			die("out of memory");
		fd = accept4(lfd, (struct sockaddr *)&conn->peer, &plen,
			     SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			free(conn);
			if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED)
				continue;
			die("accept: %s", strerror(errno));
		}
		conn->srv = &s;
		conn->fd = fd;
		conn->deadline = now_ms() + s.timeout_ms;
		pthread_mutex_lock(&s.mu);
		s.pending++;
		conn->bufsz = ++s.active > MANY_CONNS ? BUF_SMALL : BUF_BIG;
		pthread_mutex_unlock(&s.mu);
		spawn(srv_conn_main, conn, true, NULL);
	}
	free((void *)s.hello);
	return s.failed ? 1 : 0;
}

/* ---- client ------------------------------------------------------------------------------- */

struct client {
	uint64_t up, down;
	uint64_t conns;
	uint32_t seed;
	int64_t pause_ms, timeout_ms;
	uint64_t up_rate;
	bool bytewise, eof_check, fin_after_eof;
	uint8_t *hello;
	size_t hello_len;
	struct sockaddr_storage sa;
	socklen_t salen;
	int64_t deadline;
	size_t bufsz;
};

struct cli_conn {
	const struct client *cl;
	uint64_t idx;
	uint32_t seed;
	bool ok;
	uint64_t up_done, down_done;
	char local[INET6_ADDRSTRLEN + 16]; /* our address:port, to find the gateway's access line */
	pthread_t tid;
};

static int cli_conn_run(struct cli_conn *cc, uint8_t *bufs, char *why)
{
	const struct client *cl = cc->cl;
	uint8_t hdr[HDR_LEN];
	uint32_t seed_be = htobe32(cc->seed);
	uint64_t up_be = htobe64(cl->up), down_be = htobe64(cl->down);
	struct flow f;
	int fd, r;

	fd = tcp_connect(&cl->sa, cl->salen, cl->deadline, why);
	if (fd < 0)
		return -1;
	{
		struct sockaddr_storage me;
		socklen_t melen = sizeof(me);

		if (getsockname(fd, (struct sockaddr *)&me, &melen) == 0)
			format_peer(&me, cc->local, sizeof(cc->local));
	}
	flow_init(&f, fd, cl->bufsz, bufs, why);
	f.read_from = now_ms() + cl->pause_ms;
	f.tx_rate = cl->up_rate;
	if (cl->bytewise)
		r = send_bytewise(fd, cl->hello, cl->hello_len, cl->deadline, why);
	else
		r = send_all(fd, cl->hello, cl->hello_len, cl->deadline, "hello", why);
	memcpy(hdr, HDR_MAGIC, 4);
	memcpy(hdr + 4, &seed_be, 4);
	memcpy(hdr + 8, &up_be, 8);
	memcpy(hdr + 16, &down_be, 8);
	if (!r)
		r = send_all(fd, hdr, HDR_LEN, cl->deadline, "header", why);
	if (!r) {
		pat_init(&f.tx.pat, cc->seed);
		pat_init(&f.rx.pat, cc->seed ^ DOWN_XOR);
		f.tx.total = cl->up;
		f.tx.name = "up";
		f.rx.total = cl->down;
		f.rx.name = "down";
		f.deadline = cl->deadline;
		f.rx_after_fin = cl->eof_check;
		f.fin_after_eof = cl->fin_after_eof;
		f.tx_from = now_ms();
		r = flow_run(&f);
		cc->up_done = f.tx.done;
		cc->down_done = f.rx.done;
	}
	close(fd);
	return r;
}

static void *cli_conn_main(void *arg)
{
	struct cli_conn *cc = arg;
	const struct client *cl = cc->cl;
	char why[WHY_LEN] = "out-of-memory";
	uint8_t *bufs = malloc(2 * cl->bufsz);
	int64_t t0 = now_ms();

	snprintf(cc->local, sizeof(cc->local), "-");
	cc->ok = bufs && cli_conn_run(cc, bufs, why) == 0;
	free(bufs);
	printf("conn %" PRIu64 " seed=%" PRIu32 " up=%" PRIu64 " down=%" PRIu64
	       " result=%s%s ms=%" PRId64 " local=%s\n",
	       cc->idx, cc->seed, cl->up, cl->down, cc->ok ? "ok" : "FAIL:", cc->ok ? "" : why,
	       now_ms() - t0, cc->local);
	return NULL;
}

/* The server skips exactly one record unless it runs with --hello FILE; say so early. */
static void check_hello(const char *path, const uint8_t *b, size_t len)
{
	size_t off = 0, recs = 0;

	while (off + 5 <= len && b[off] >= 0x14 && b[off] <= 0x17) {
		off += 5 + ((size_t)b[off + 3] << 8 | b[off + 4]);
		recs++;
	}
	if (off != len || recs != 1)
		fprintf(stderr,
			"sgflow: note: %s is not exactly one TLS record; "
			"run the server with --hello %s\n",
			path, path);
}

static int cmd_client(int argc, char **argv)
{
	static const struct option lo[] = {
		{"hello", required_argument, NULL, 'H'},
		{"up", required_argument, NULL, 'u'},
		{"down", required_argument, NULL, 'd'},
		{"conns", required_argument, NULL, 'c'},
		{"seed", required_argument, NULL, 's'},
		{"pause-read", required_argument, NULL, 'p'},
		{"up-rate", required_argument, NULL, 'r'},
		{"timeout", required_argument, NULL, 't'},
		{"bytewise-hello", no_argument, NULL, 'b'},
		{"reply-after-eof-check", no_argument, NULL, 'e'},
		{"fin-after-eof", no_argument, NULL, 'F'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct client cl = {.conns = 1, .seed = 1, .timeout_ms = 60000};
	const char *hello_path = NULL;
	struct cli_conn *cc;
	uint64_t ok = 0, up = 0, down = 0;
	int64_t t0;
	int c;

	while ((c = next_opt(argc, argv, lo)) != -1) {
		switch (c) {
		case 'H':
			hello_path = optarg;
			break;
		case 'u':
			cl.up = parse_size("--up", optarg);
			break;
		case 'd':
			cl.down = parse_size("--down", optarg);
			break;
		case 'c':
			cl.conns = parse_uint("--conns", optarg, 1, MAX_CLIENTS);
			break;
		case 's':
			cl.seed = (uint32_t)parse_uint("--seed", optarg, 0, UINT32_MAX);
			break;
		case 'p':
			cl.pause_ms = (int64_t)parse_uint("--pause-read", optarg, 0, 86400000);
			break;
		case 'r':
			cl.up_rate = parse_size("--up-rate", optarg);
			break;
		case 't':
			cl.timeout_ms = parse_secs("--timeout", optarg);
			break;
		case 'b':
			cl.bytewise = true;
			break;
		case 'F':
			cl.fin_after_eof = true;
			break;
		case 'e':
			cl.eof_check = true;
			break;
		}
	}
	if (argc - optind != 2)
		usage_exit("client needs HOST PORT");
	if (!hello_path)
		usage_exit("client needs --hello FILE");
	if (cl.eof_check && !cl.down)
		usage_exit("--reply-after-eof-check needs --down > 0");
	cl.hello = read_whole(hello_path, &cl.hello_len);
	check_hello(hello_path, cl.hello, cl.hello_len);
	resolve(argv[optind], argv[optind + 1], 0, &cl.sa, &cl.salen);
	cl.bufsz = cl.conns > MANY_CONNS ? BUF_SMALL : BUF_BIG;
	cc = calloc(cl.conns, sizeof(*cc));
	if (!cc)
		die("out of memory");
	t0 = now_ms();
	cl.deadline = t0 + cl.timeout_ms;
	for (uint64_t i = 0; i < cl.conns; i++) {
		cc[i].cl = &cl;
		cc[i].idx = i;
		cc[i].seed = cl.seed + (uint32_t)i;
		spawn(cli_conn_main, &cc[i], false, &cc[i].tid);
	}
	for (uint64_t i = 0; i < cl.conns; i++) {
		pthread_join(cc[i].tid, NULL);
		ok += cc[i].ok;
		up += cc[i].up_done;
		down += cc[i].down_done;
	}
	printf("client: %" PRIu64 " connections, %" PRIu64 " ok, %" PRIu64 " failed, up=%" PRIu64
	       " bytes, down=%" PRIu64 " bytes, %.3f seconds\n",
	       cl.conns, ok, cl.conns - ok, up, down, (now_ms() - t0) / 1000.0);
	free(cc);
	free(cl.hello);
	return ok == cl.conns ? 0 : 1;
}

/* ---- replay ------------------------------------------------------------------------------- */

/* Reads what is there without blocking: NULL while the connection is open, else how it ended. */
static const char *replay_drain(int fd, uint64_t *received, uint8_t *buf, size_t bufsz)
{
	for (;;) {
		ssize_t n = recv(fd, buf, bufsz, MSG_DONTWAIT);

		if (n > 0) {
			*received += (uint64_t)n;
			continue;
		}
		if (n == 0)
			return "eof";
		if (errno == EINTR)
			continue;
		return errno == EAGAIN ? NULL : "reset";
	}
}

static int cmd_replay(int argc, char **argv)
{
	static const struct option lo[] = {
		{"bytewise", no_argument, NULL, 'b'},
		{"wait", required_argument, NULL, 'w'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	uint8_t buf[BUF_SMALL];
	struct sockaddr_storage sa;
	socklen_t salen;
	int64_t wait_ms = 5000, deadline;
	bool bytewise = false;
	const char *end = NULL;
	char why[WHY_LEN];
	uint64_t sent = 0, received = 0;
	uint8_t *data;
	size_t len;
	int c, fd, one = 1;

	while ((c = next_opt(argc, argv, lo)) != -1) {
		if (c == 'b')
			bytewise = true;
		else if (c == 'w')
			wait_ms = parse_secs("--wait", optarg);
	}
	if (argc - optind != 3)
		usage_exit("replay needs HOST PORT FILE");
	data = read_whole(argv[optind + 2], &len);
	resolve(argv[optind], argv[optind + 1], 0, &sa, &salen);
	fd = tcp_connect(&sa, salen, now_ms() + CONNECT_MS, why);
	if (fd < 0) {
		free(data);
		die("replay: %s port %s: %s", argv[optind], argv[optind + 1], why);
	}
	if (bytewise)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* Sending is bounded by --wait too; bytewise, check between bytes whether the peer is
	 * already gone: sending on after its FIN would only provoke a reset from it. */
	deadline = now_ms() + wait_ms + (bytewise ? (int64_t)len : 0);
	while (sent < len && !end) {
		size_t chunk = bytewise ? 1 : len - sent;
		ssize_t n;

		if (bytewise && sent > 0) {
			poll(&(struct pollfd){.fd = fd, .events = POLLIN}, 1, 1);
			end = replay_drain(fd, &received, buf, sizeof(buf));
			if (end)
				break;
		}
		n = send(fd, data + sent, chunk, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			sent += (uint64_t)n;
		} else if (n < 0 && errno != EAGAIN && errno != EINTR) {
			end = replay_drain(fd, &received, buf, sizeof(buf));
			if (!end)
				end = "reset";
		} else if (wait_fd(fd, POLLOUT, deadline) == 0) {
			end = "open";
		}
	}
	deadline = now_ms() + wait_ms;
	while (!end) {
		if (wait_fd(fd, POLLIN, deadline) <= 0)
			end = "open";
		else
			end = replay_drain(fd, &received, buf, sizeof(buf));
	}
	printf("replay sent=%" PRIu64 " received=%" PRIu64 " end=%s\n", sent, received, end);
	close(fd);
	free(data);
	return 0;
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	/* Line-buffered even into a pipe or file: tests read the log of a server still running. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	opterr = 0;
	if (argc < 2)
		usage_exit(NULL);
	if (!strcmp(argv[1], "server"))
		return cmd_server(argc - 1, argv + 1);
	if (!strcmp(argv[1], "client"))
		return cmd_client(argc - 1, argv + 1);
	if (!strcmp(argv[1], "replay"))
		return cmd_replay(argc - 1, argv + 1);
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		fputs(usage_text, stdout);
		return 0;
	}
	usage_exit("unknown command '%s'", argv[1]);
}
