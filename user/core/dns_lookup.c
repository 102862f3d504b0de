// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* dns_lookup.c: see dns_lookup.h. The one place sockgate calls getaddrinfo()
 * for backends, and config_resolve(), which resolves a model with it. */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dns_lookup.h"

/* RFC 6761 §6.4: resolvers should answer names under .invalid negatively at once,
 * which glibc does not do; asking DNS would only add a timeout. */
static bool is_invalid_tld(const char *host)
{
	size_t len = strlen(host);

	return !strcasecmp(host, "invalid") || (len > 8 && !strcasecmp(host + len - 8, ".invalid"));
}

int dns_lookup(const char *host, struct dns_addr **out, size_t *n, char why[DNS_WHY_MAX])
{
	struct addrinfo hints = {
		.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_protocol = IPPROTO_TCP};
	struct addrinfo *res = NULL;
	struct dns_addr *v;
	size_t k = 0, total = 0;
	int gai_err;

	*out = NULL;
	*n = 0;
	if (is_invalid_tld(host)) {
		snprintf(why, DNS_WHY_MAX, "reserved name (RFC 6761)");
		return -ENOENT;
	}
	gai_err = getaddrinfo(host, NULL, &hints, &res);
	if (gai_err == EAI_MEMORY)
		return -ENOMEM;
	if (gai_err) {
		snprintf(why, DNS_WHY_MAX, "%s",
			 gai_err == EAI_SYSTEM ? strerror(errno) : gai_strerror(gai_err));
		return -ENOENT;
	}
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next)
		total++;
	v = calloc(total, sizeof(*v));
	if (!v) {
		freeaddrinfo(res);
		return -ENOMEM;
	}
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next)
		k += dns_addr_from_sockaddr(ai->ai_addr, ai->ai_addrlen, &v[k]);
	freeaddrinfo(res);
	k = dns_addrs_normalize(v, k);
	if (!k) {
		free(v);
		snprintf(why, DNS_WHY_MAX, "no IPv4 or IPv6 address");
		return -ENOENT;
	}
	*out = v;
	*n = k;
	return 0;
}

/* Each name is asked once per config_resolve(), however many backends use it. */
struct system_lookup {
	struct dns_cache *seen;
	struct cfg_lookup from_seen;
};

static enum cfg_lookup_result system_lookup(void *arg, const char *host,
					    const struct dns_addr **addrs, size_t *n,
					    const char **why)
{
	struct system_lookup *s = arg;

	if (!dns_cache_find(s->seen, host)) {
		struct dns_addr *v = NULL;
		size_t k = 0;
		char reason[DNS_WHY_MAX];
		enum dns_update u;
		int err = dns_lookup(host, &v, &k, reason);

		if (err != -ENOMEM)
			err = dns_cache_update(s->seen, host, v, k, err ? reason : NULL, &u);
		free(v);
		if (err)
			return CFG_LOOKUP_NOMEM;
	}
	return s->from_seen.lookup(s->from_seen.arg, host, addrs, n, why);
}

int config_resolve(struct config *c, struct cfg_diags *diags)
{
	struct system_lookup s = {.seen = dns_cache_new()};
	struct cfg_lookup lk = {.lookup = system_lookup, .arg = &s};
	int err;

	if (!s.seen)
		return -ENOMEM;
	dns_cache_lookup(s.seen, &s.from_seen);
	err = config_resolve_with(c, &lk, diags);
	dns_cache_free(s.seen);
	return err;
}
