// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* router.c: config -> per-listener route tables. The only Istio-specific rule
 * here: a "*" sniHost on an Istio listener also takes hellos without SNI, as
 * Envoy's catch-all filter chain does (docs/ROUTING.md). */
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "router.h"

static bool route_serves(const struct cfg_route *rt, size_t li)
{
	for (size_t i = 0; i < rt->n_listeners; i++) {
		if (rt->listeners[i] == li)
			return true;
	}
	return false;
}

static void policy_for(const struct config *cfg, size_t li, struct route_policy *p)
{
	const struct cfg_listener *l = &cfg->listeners[li];

	memset(p, 0, sizeof(*p));
	if (l->no_sni.action == CFG_POLICY_ROUTE) {
		p->no_sni = ROUTE_POLICY_ROUTE;
		p->no_sni_route_id = (uint32_t)l->no_sni.route;
	}
	if (l->unknown_sni.action == CFG_POLICY_ROUTE) {
		p->unknown_sni = ROUTE_POLICY_ROUTE;
		p->unknown_sni_route_id = (uint32_t)l->unknown_sni.route;
	}
	if (!l->is_istio || p->no_sni == ROUTE_POLICY_ROUTE)
		return;
	for (size_t ri = 0; ri < cfg->n_routes; ri++) {
		const struct cfg_route *rt = &cfg->routes[ri];

		if (!route_serves(rt, li))
			continue;
		for (size_t s = 0; s < rt->n_snis; s++) {
			if (strcmp(rt->snis[s].pattern, "*") == 0) {
				p->no_sni = ROUTE_POLICY_ROUTE;
				p->no_sni_route_id = (uint32_t)ri;
				return;
			}
		}
	}
}

static struct route_table *build_one(const struct config *cfg, size_t li, char *err, size_t err_len)
{
	struct route_rule *rules = NULL;
	struct route_policy policy;
	struct route_table *t;
	size_t n = 0, cap = 0;

	for (size_t ri = 0; ri < cfg->n_routes; ri++) {
		const struct cfg_route *rt = &cfg->routes[ri];

		if (!route_serves(rt, li))
			continue;
		for (size_t s = 0; s < rt->n_snis; s++) {
			if (n == cap) {
				size_t ncap = cap ? cap * 2 : 16;
				struct route_rule *nr = realloc(rules, ncap * sizeof(*nr));

				if (!nr) {
					free(rules);
					snprintf(err, err_len, "out of memory");
					errno = ENOMEM;
					return NULL;
				}
				rules = nr;
				cap = ncap;
			}
			rules[n++] = (struct route_rule){
				.sni_pattern = rt->snis[s].pattern,
				.alpn = (const char *const *)rt->alpn,
				.n_alpn = rt->n_alpn,
				.route_id = (uint32_t)ri,
			};
		}
	}
	policy_for(cfg, li, &policy);
	t = route_table_build(rules, n, &policy, err, err_len);
	free(rules);
	return t;
}

struct router *router_new(const struct config *cfg, char *err, size_t err_len)
{
	struct router *r = calloc(1, sizeof(*r));
	char why[256];

	if (!r)
		return NULL;
	r->cfg = cfg;
	r->tables = calloc(cfg->n_listeners ? cfg->n_listeners : 1, sizeof(*r->tables));
	if (!r->tables) {
		free(r);
		errno = ENOMEM;
		return NULL;
	}
	for (size_t li = 0; li < cfg->n_listeners; li++) {
		r->tables[li] = build_one(cfg, li, why, sizeof(why));
		if (!r->tables[li]) {
			int e = errno;

			snprintf(err, err_len, "listener %s: %s", cfg->listeners[li].name, why);
			r->n_tables = li;
			router_free(r);
			errno = e;
			return NULL;
		}
	}
	r->n_tables = cfg->n_listeners;
	return r;
}

void router_free(struct router *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_tables; i++)
		route_table_free(r->tables[i]);
	free(r->tables);
	free(r);
}

enum route_match router_lookup(const struct router *r, size_t li, const char *sni,
			       const uint8_t *alpn_wire, size_t alpn_len, size_t *route)
{
	uint32_t id = 0;
	enum route_match m = route_table_lookup(li < r->n_tables ? r->tables[li] : NULL, sni,
						alpn_wire, alpn_len, &id);

	*route = id;
	return m;
}

static bool in_cidr(const struct cfg_cidr *c, const uint8_t *addr, sa_family_t family)
{
	unsigned full = c->prefix_len / 8, rest = c->prefix_len % 8;

	if (c->family != family)
		return false;
	if (memcmp(c->addr, addr, full) != 0)
		return false;
	return rest == 0 || ((c->addr[full] ^ addr[full]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

bool router_accepts_local(const struct router *r, size_t ri, const struct sockaddr_storage *local)
{
	const struct cfg_route *rt = &r->cfg->routes[ri];
	const uint8_t *addr;
	sa_family_t family = local->ss_family;

	if (rt->n_dst_subnets == 0)
		return true;
	if (family == AF_INET) {
		addr = (const uint8_t *)&((const struct sockaddr_in *)local)->sin_addr;
	} else if (family == AF_INET6) {
		const struct in6_addr *a6 = &((const struct sockaddr_in6 *)local)->sin6_addr;

		addr = a6->s6_addr;
		if (IN6_IS_ADDR_V4MAPPED(a6)) {
			addr += 12;
			family = AF_INET;
		}
	} else {
		return false;
	}
	for (size_t i = 0; i < rt->n_dst_subnets; i++) {
		if (in_cidr(&rt->dst_subnets[i], addr, family))
			return true;
	}
	return false;
}

static void print_addr(const struct sockaddr_storage *ss, FILE *f)
{
	char buf[ADDR_STR_MAX];

	addr_format(ss, buf, sizeof(buf));
	fputs(buf, f);
}

static void print_policy(const struct config *cfg, const char *what, enum route_policy_action a,
			 uint32_t id, FILE *f)
{
	if (a == ROUTE_POLICY_ROUTE)
		fprintf(f, "    %-28s -> %s\n", what, cfg->routes[id].name);
	else
		fprintf(f, "    %-28s -> reject\n", what);
}

static void dump_route(const struct cfg_route *rt, FILE *f)
{
	fprintf(f, "  route %s (%s, connect timeout %ums, %u retries", rt->name,
		cfg_balance_str(rt->balance), rt->connect_timeout_ms, rt->connect_retries);
	if (rt->proxy_protocol != CFG_PROXY_OFF)
		fprintf(f, ", PROXY protocol %s%s", cfg_proxy_protocol_str(rt->proxy_protocol),
			rt->has_proxy_crc32c ? " with CRC32C" : "");
	fprintf(f, ")\n");
	for (size_t b = 0; b < rt->n_backends; b++) {
		const struct cfg_backend *be = &rt->backends[b];

		fprintf(f, "    backend %s:%u%s%s weight %u:", be->host, be->port,
			be->subset ? " subset " : "", be->subset ? be->subset : "", be->weight);
		if (be->n_endpoints == 0)
			fprintf(f, " (no endpoints yet)");
		for (size_t e = 0; e < be->n_endpoints; e++) {
			fputc(' ', f);
			if (be->endpoints[e].is_resolved)
				print_addr(&be->endpoints[e].addr, f);
			else
				fprintf(f, "%s:%u (unresolved)", be->endpoints[e].host,
					be->endpoints[e].port);
		}
		fputc('\n', f);
	}
}

void router_dump(const struct router *r, FILE *f)
{
	const struct config *cfg = r->cfg;

	for (size_t li = 0; li < r->n_tables; li++) {
		const struct route_table *t = r->tables[li];
		const struct route_policy *p = route_table_policy(t);

		fprintf(f, "listener %s on ", cfg->listeners[li].name);
		print_addr(&cfg->listeners[li].addr, f);
		fprintf(f, " (hello timeout %ums, max hello %u bytes)\n",
			cfg->listeners[li].hello_timeout_ms, cfg->listeners[li].max_hello_bytes);
		for (size_t i = 0; i < route_table_size(t); i++) {
			struct route_rule rule;
			enum route_kind kind;
			char alpn[256] = "";
			size_t off = 0;

			route_table_entry(t, i, &rule, &kind);
			for (size_t a = 0; a < rule.n_alpn && off < sizeof(alpn); a++)
				off += (size_t)snprintf(alpn + off, sizeof(alpn) - off, "%s%s",
							a ? "," : " alpn=", rule.alpn[a]);
			fprintf(f, "    %-28s -> %s%s   [%s]\n", rule.sni_pattern,
				cfg->routes[rule.route_id].name, alpn, route_kind_str(kind));
		}
		print_policy(cfg, "(no SNI)", p->no_sni, p->no_sni_route_id, f);
		print_policy(cfg, "(unknown SNI)", p->unknown_sni, p->unknown_sni_route_id, f);
	}
	for (size_t ri = 0; ri < cfg->n_routes; ri++)
		dump_route(&cfg->routes[ri], f);
}
