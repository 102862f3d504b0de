// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* config_resolve.c: the one config step that does I/O: endpoint host names to
 * addresses with the system resolver (getaddrinfo: /etc/hosts, DNS). Kept apart from
 * loading so that loading stays pure (unit tests, the fuzzer) and so that a name that
 * does not resolve yet is a warning: the endpoint stays unresolved and is retried. */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config_yaml.h"

/* RFC 6761 §6.4: resolvers should answer names under .invalid negatively at once,
 * which glibc does not do; asking DNS would only add a timeout. */
static bool is_invalid_tld(const char *host)
{
	size_t len = strlen(host);

	return !strcasecmp(host, "invalid") || (len > 8 && !strcasecmp(host + len - 8, ".invalid"));
}

static bool same_endpoint(const struct cfg_endpoint *e, const struct sockaddr *sa, socklen_t len)
{
	return e->is_resolved && e->addr_len == len && !memcmp(&e->addr, sa, len);
}

/* Appends one endpoint per distinct address of ep->host to *out. Returns the number
 * added, or -ENOMEM; *gai_err gets the resolver's code when it fails. */
static int resolve_one(const struct cfg_endpoint *ep, struct cfg_endpoint **out, size_t *n,
		       int *gai_err)
{
	struct addrinfo hints = {
		.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_protocol = IPPROTO_TCP};
	struct addrinfo *res = NULL;
	size_t first = *n;
	int added = 0;

	*gai_err =
		is_invalid_tld(ep->host) ? EAI_NONAME : getaddrinfo(ep->host, NULL, &hints, &res);
	if (*gai_err)
		return 0;
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		struct sockaddr_storage ss = {0};
		struct cfg_endpoint *grown, *e;
		bool is_dup = false;

		if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) ||
		    ai->ai_addrlen > sizeof(ss))
			continue;
		memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
		if (ss.ss_family == AF_INET)
			((struct sockaddr_in *)&ss)->sin_port = htons(ep->port);
		else
			((struct sockaddr_in6 *)&ss)->sin6_port = htons(ep->port);
		for (size_t i = first; i < *n && !is_dup; i++)
			is_dup = same_endpoint(&(*out)[i], (struct sockaddr *)&ss, ai->ai_addrlen);
		if (is_dup)
			continue;
		grown = realloc(*out, (*n + 1) * sizeof(**out));
		if (!grown)
			goto err_nomem;
		*out = grown;
		e = &grown[*n];
		memset(e, 0, sizeof(*e));
		e->host = strdup(ep->host);
		if (!e->host)
			goto err_nomem;
		e->port = ep->port;
		e->is_resolved = true;
		e->addr = ss;
		e->addr_len = ai->ai_addrlen;
		(*n)++;
		added++;
	}
	freeaddrinfo(res);
	return added;
err_nomem:
	freeaddrinfo(res);
	return -ENOMEM;
}

static void free_endpoints(struct cfg_endpoint *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].host);
	free(v);
}

static int copy_endpoint(const struct cfg_endpoint *src, struct cfg_endpoint **out, size_t *n)
{
	struct cfg_endpoint *grown = realloc(*out, (*n + 1) * sizeof(**out));

	if (!grown)
		return -ENOMEM;
	*out = grown;
	grown[*n] = *src;
	if (src->host && !(grown[*n].host = strdup(src->host)))
		return -ENOMEM;
	(*n)++;
	return 0;
}

static int resolve_backend(struct cfg_backend *b, struct cfg_diags *d)
{
	struct cfg_endpoint *out = NULL;
	size_t n = 0;
	int err = 0;

	for (size_t i = 0; i < b->n_endpoints && !err; i++) {
		const struct cfg_endpoint *ep = &b->endpoints[i];
		int gai_err = 0, added = 0;

		if (ep->is_resolved || !ep->host) {
			err = copy_endpoint(ep, &out, &n);
			continue;
		}
		added = resolve_one(ep, &out, &n, &gai_err);
		if (added < 0) {
			err = added;
		} else if (added == 0) {
			cfg_diag_src(d, &b->src, true, &err,
				     "cannot resolve \"%s\": %s; endpoint left unresolved, retried "
				     "later",
				     ep->host,
				     is_invalid_tld(ep->host) ? "reserved name (RFC 6761)"
				     : gai_err == EAI_SYSTEM  ? strerror(errno)
							      : gai_strerror(gai_err));
			err = err ? err : copy_endpoint(ep, &out, &n);
		}
	}
	if (err) {
		free_endpoints(out, n);
		return err;
	}
	free_endpoints(b->endpoints, b->n_endpoints);
	b->endpoints = out;
	b->n_endpoints = n;
	return 0;
}

int config_resolve(struct config *c, struct cfg_diags *diags)
{
	struct cfg_diags local = {0}, *d = diags ? diags : &local;
	size_t first = d->n;
	int err = 0;

	for (size_t r = 0; r < c->n_routes && !err; r++) {
		for (size_t b = 0; b < c->routes[r].n_backends && !err; b++)
			err = resolve_backend(&c->routes[r].backends[b], d);
	}
	cfg_diags_sort(d, first);
	cfg_diags_free(&local);
	return err;
}
