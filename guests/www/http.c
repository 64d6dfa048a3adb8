/*
 * http.c: just enough HTTP/1.1 (RFC 9112) to serve one page well.
 *
 * A connection's request head collects in its own buffer until the blank
 * line; then it is answered and dropped from the buffer, and the next
 * pipelined request, if any, follows.  Answers are only produced while
 * the connection's send buffer has room for a whole one, so a client
 * that pipelines without reading is simply not read further (its data
 * waits in our buffer, then in its own socket) rather than answered into
 * the void.  Nothing a client sends can make us write past a buffer: the
 * head is bounded by REQ_MAX, and every answer is formatted with
 * snprintf into a fixed buffer.
 */
#include <stdbool.h>
#include <stdint.h>

#include <runtime.h>

#include "http.h"

#define RESP_MAX 2048 /* one whole answer, head and body */

static char
lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Whether the n bytes at p equal word, ignoring ASCII case. */
static bool
ieq(const char *p, size_t n, const char *word)
{
	size_t i;

	for (i = 0; i < n && word[i] != '\0'; i++)
		if (lower(p[i]) != word[i])
			return false;
	return i == n && word[i] == '\0';
}

/* Whether the comma-separated header value [v, v+n) lists token. */
static bool
lists_token(const char *v, size_t n, const char *token)
{
	size_t i = 0, s, e;

	while (i < n) {
		while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		s = i;
		while (i < n && v[i] != ',')
			i++;
		e = i;
		while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
			e--;
		if (e > s && ieq(v + s, e - s, token))
			return true;
	}
	return false;
}

/* Where the head ends (the byte after the blank line), 0 if not yet. */
static size_t
head_end(const char *b, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++) {
		if (b[i] != '\n')
			continue;
		if (b[i + 1] == '\n')
			return i + 2;
		if (b[i + 1] == '\r' && i + 2 < len && b[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

struct request {
	int status;      /* 0 while it looks good */
	bool head;       /* HEAD: no body in the answer */
	bool keep_alive; /* after the answer */
	char path[128];
};

/* Read one request head [b, b+n): method, target, version, and the
 * headers that change what we do. */
static void
parse(const char *b, size_t n, struct request *rq)
{
	size_t i = 0, sp1, sp2, eol, plen;
	bool http11;

	memset(rq, 0, sizeof(*rq));
	while (i < n && b[i] != '\n')
		i++;
	eol = i;
	if (eol > 0 && b[eol - 1] == '\r')
		eol--;
	for (sp1 = 0; sp1 < eol && b[sp1] != ' '; sp1++)
		;
	for (sp2 = sp1 + 1; sp2 < eol && b[sp2] != ' '; sp2++)
		;
	if (sp1 == 0 || sp1 >= eol || sp2 >= eol || sp2 == sp1 + 1 ||
	    eol - sp2 - 1 != 8 || memcmp(b + sp2 + 1, "HTTP/1.", 7) != 0 ||
	    (b[eol - 1] != '0' && b[eol - 1] != '1')) {
		rq->status = 400;
		return;
	}
	http11 = b[eol - 1] == '1';
	rq->keep_alive = http11;
	plen = sp2 - sp1 - 1;
	if (plen >= sizeof(rq->path))
		plen = sizeof(rq->path) - 1;
	memcpy(rq->path, b + sp1 + 1, plen);
	rq->path[plen] = '\0';
	if (sp1 == 4 && memcmp(b, "HEAD", 4) == 0)
		rq->head = true;
	else if (sp1 != 3 || memcmp(b, "GET", 3) != 0)
		rq->status = 405;

	/* Header lines: "Name: value". */
	for (i++; i < n;) {
		size_t s = i, colon, ve;
		const char *v;

		while (i < n && b[i] != '\n')
			i++;
		ve = i;
		i++;
		if (ve > s && b[ve - 1] == '\r')
			ve--;
		if (ve == s)
			break; /* the blank line */
		for (colon = s; colon < ve && b[colon] != ':'; colon++)
			;
		if (colon == ve || colon == s) {
			rq->status = 400;
			continue;
		}
		v = b + colon + 1;
		while (v < b + ve && (*v == ' ' || *v == '\t'))
			v++;
		if (ieq(b + s, colon - s, "connection")) {
			if (lists_token(v, (size_t)(b + ve - v), "close"))
				rq->keep_alive = false;
			else if (lists_token(
			             v, (size_t)(b + ve - v), "keep-alive"))
				rq->keep_alive = true;
		} else if (ieq(b + s, colon - s, "content-length")) {
			if (!(b + ve - v == 1 && *v == '0') && rq->status == 0)
				rq->status = 413; /* no bodies here */
		} else if (ieq(b + s, colon - s, "transfer-encoding")) {
			if (rq->status == 0)
				rq->status = 501;
		}
	}
	/* After an error the rest of the stream cannot be trusted. */
	if (rq->status != 0)
		rq->keep_alive = false;
}

static const char *
reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 405:
		return "Method Not Allowed";
	case 413:
		return "Content Too Large";
	case 431:
		return "Request Header Fields Too Large";
	case 501:
		return "Not Implemented";
	default:
		return "Error";
	}
}

/* Format the answer to rq into out[RESP_MAX]; returns its length. */
static size_t
answer(struct http_server *h, const struct request *rq, char *out)
{
	char body[1024];
	uint64_t up = rt_monotonic_ns() / 1000000;
	int status = rq->status != 0 ? rq->status : 200;
	int blen, n;

	if (status == 200)
		blen = snprintf(body, sizeof(body),
		    "<!doctype html>\n"
		    "<html><head><title>%s</title></head><body>\n"
		    "<h1>%s</h1>\n"
		    "<p>Summoned on demand: instance %s at %s, up "
		    "%llu.%03llu s, request %llu.</p>\n"
		    "</body></html>\n",
		    h->name, h->name, h->name, h->ip,
		    (unsigned long long)(up / 1000),
		    (unsigned long long)(up % 1000),
		    (unsigned long long)h->requests + 1);
	else
		blen = snprintf(
		    body, sizeof(body), "%d %s\n", status, reason(status));
	if (blen < 0 || (size_t)blen >= sizeof(body))
		blen = 0;
	n = snprintf(out, RESP_MAX,
	    "HTTP/1.1 %d %s\r\n"
	    "Server: summoner-www\r\n"
	    "Content-Type: %s\r\n"
	    "Content-Length: %d\r\n"
	    "Cache-Control: no-store\r\n"
	    "%s"
	    "Connection: %s\r\n"
	    "\r\n",
	    status, reason(status),
	    status == 200 ? "text/html; charset=utf-8" : "text/plain", blen,
	    status == 405 ? "Allow: GET, HEAD\r\n" : "",
	    rq->keep_alive ? "keep-alive" : "close");
	if (n < 0 || (size_t)n >= RESP_MAX)
		return 0;
	if (!rq->head && (size_t)n + (size_t)blen <= RESP_MAX) {
		memcpy(out + n, body, (size_t)blen);
		n += blen;
	}
	return (size_t)n;
}

/* Answer every complete request in the buffer that we have room for. */
static void
serve(struct http_server *h, struct gn_tcp *c, struct http_conn *hc)
{
	char out[RESP_MAX];
	struct request rq;
	size_t end, n;

	while (!hc->closing && gn_tcp_sendable(c) >= RESP_MAX) {
		end = head_end(hc->buf, hc->len);
		if (end == 0) {
			if (hc->len < sizeof(hc->buf))
				return;
			memset(&rq, 0, sizeof(rq));
			rq.status = 431;
		} else {
			parse(hc->buf, end, &rq);
		}
		n = answer(h, &rq, out);
		if (n > 0 && gn_tcp_send(c, out, n) == (long)n) {
			if (rq.status == 0)
				h->requests++;
			else
				h->errors++;
		}
		if (rq.status != 0 || !rq.keep_alive) {
			hc->closing = true;
			hc->len = 0;
			gn_tcp_close(c);
			return;
		}
		memmove(hc->buf, hc->buf + end, hc->len - end);
		hc->len -= end;
	}
}

static void
on_accepted(void *arg, struct gn_tcp *c)
{
	struct http_server *h = arg;

	for (size_t i = 0; i < GN_TCP_MAX; i++) {
		if (!h->conns[i].used) {
			h->conns[i].used = true;
			h->conns[i].closing = false;
			h->conns[i].len = 0;
			gn_tcp_set_user(c, &h->conns[i]);
			return;
		}
	}
	gn_tcp_abort(c); /* cannot happen: as many slots as connections */
}

static void
on_recv(void *arg, struct gn_tcp *c, const uint8_t *data, size_t len)
{
	struct http_conn *hc = gn_tcp_user(c);
	size_t room;

	if (hc == NULL || hc->closing)
		return; /* after an answer with "close": discard */
	room = sizeof(hc->buf) - hc->len;
	if (len > room)
		len = room; /* the head is too long: 431 once it is full */
	memcpy(hc->buf + hc->len, data, len);
	hc->len += len;
	serve(arg, c, hc);
}

static void
on_sent(void *arg, struct gn_tcp *c)
{
	struct http_conn *hc = gn_tcp_user(c);

	if (hc != NULL)
		serve(arg, c, hc);
}

static void
on_peer_closed(void *arg, struct gn_tcp *c)
{
	struct http_conn *hc = gn_tcp_user(c);

	(void)arg;
	/* Whatever is still unanswered was cut short: close our side. */
	if (hc != NULL && !hc->closing) {
		hc->closing = true;
		gn_tcp_close(c);
	}
}

static void
on_closed(void *arg, struct gn_tcp *c, bool reset)
{
	struct http_conn *hc = gn_tcp_user(c);

	(void)arg;
	(void)reset;
	if (hc != NULL)
		hc->used = false;
}

const struct gn_tcp_handler http_handler = {
    .accepted = on_accepted,
    .recv = on_recv,
    .sent = on_sent,
    .peer_closed = on_peer_closed,
    .closed = on_closed,
};

void
http_init(struct http_server *h, const char *name, uint32_t ip)
{
	size_t n = strnlen(name, sizeof(h->name) - 1);

	/* h is static, hence zero: clearing its connection buffers here
	 * would only fault in 256 KB of pages before READY. */
	memcpy(h->name, name, n);
	h->name[n] = '\0';
	gn_format_ip(ip, h->ip);
}
