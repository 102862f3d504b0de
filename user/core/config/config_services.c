// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* config_services.c: see config_services_warn() in config.h. A Kubernetes
 * Service name answers with every ready pod when the Service is headless and
 * with one virtual address (the ClusterIP) otherwise; behind a ClusterIP,
 * kube-proxy picks the pod, so sockgate's balancing, health checks and
 * outlier ejection all see a single backend. Nothing in an answer tells the
 * two apart, so a lone address under a Service name is a warning; with the
 * cluster's service CIDR (kubernetes.service_cidr) only one inside it is. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "config_yaml.h"

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && !strcasecmp(s + n - k, suffix);
}

/* A Service's name in cluster DNS: NAME.NS.svc[.cluster.local][.]. */
static bool is_service_name(const char *host)
{
	return ends_with(host, ".svc") || ends_with(host, ".svc.cluster.local") ||
	       ends_with(host, ".svc.cluster.local.");
}

/* Endpoints of b resolved from host; *last is one of them. */
static size_t count_addrs(const struct cfg_backend *b, const char *host,
			  const struct cfg_endpoint **last)
{
	size_t n = 0;

	for (size_t i = 0; i < b->n_endpoints; i++) {
		const struct cfg_endpoint *ep = &b->endpoints[i];

		if (ep->host && ep->is_resolved && !strcmp(ep->host, host)) {
			*last = ep;
			n++;
		}
	}
	return n;
}

/* The address bytes of ep (network order) and its family; NULL if neither. */
static const uint8_t *addr_bytes(const struct cfg_endpoint *ep, sa_family_t *family)
{
	*family = ep->addr.ss_family;
	if (*family == AF_INET)
		return (const uint8_t *)&((const struct sockaddr_in *)&ep->addr)->sin_addr;
	if (*family == AF_INET6)
		return (const uint8_t *)&((const struct sockaddr_in6 *)&ep->addr)->sin6_addr;
	return NULL;
}

static bool in_cidr(const struct cfg_endpoint *ep, const struct cfg_cidr *c)
{
	sa_family_t family;
	const uint8_t *a = addr_bytes(ep, &family);
	unsigned full = c->prefix_len / 8, rest = c->prefix_len % 8;

	if (!a || family != c->family || memcmp(a, c->addr, full))
		return false;
	return !rest || ((a[full] ^ c->addr[full]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

static void endpoint_ip(const struct cfg_endpoint *ep, char *buf, size_t len)
{
	sa_family_t family;
	const uint8_t *a = addr_bytes(ep, &family);

	if (!a || !inet_ntop(family, a, buf, (socklen_t)len))
		snprintf(buf, len, "?");
}

/* Whether endpoint i's host came earlier in b (one warning a name). */
static bool is_repeat(const struct cfg_backend *b, size_t i)
{
	for (size_t j = 0; j < i; j++) {
		if (b->endpoints[j].host && !strcmp(b->endpoints[j].host, b->endpoints[i].host))
			return true;
	}
	return false;
}

/* Warns about host, whose one address is one, when it is likely a ClusterIP. */
static bool warn_host(const struct config *c, const struct cfg_backend *b, const char *host,
		      const struct cfg_endpoint *one, struct cfg_diags *d)
{
	char ip[INET6_ADDRSTRLEN];
	int err = 0;

	if (!c->service_cidr_src.file) {
		cfg_diag_src(d, &b->src, true, &err,
			     "\"%s\" resolves to a single address: if it is a ClusterIP Service, "
			     "balancing and health checks see one backend; use a headless Service "
			     "(clusterIP: None)",
			     host);
		return true;
	}
	if (!in_cidr(one, &c->service_cidr))
		return false; /* a pod: a headless Service with one ready pod */
	endpoint_ip(one, ip, sizeof(ip));
	cfg_diag_src(d, &b->src, true, &err,
		     "\"%s\" resolves to %s, a ClusterIP (kubernetes.service_cidr): balancing "
		     "and health checks see one backend; use a headless Service (clusterIP: None)",
		     host, ip);
	return true;
}

size_t config_services_warn(const struct config *c, struct cfg_diags *d)
{
	size_t n = 0;

	for (size_t r = 0; r < c->n_routes; r++) {
		for (size_t k = 0; k < c->routes[r].n_backends; k++) {
			const struct cfg_backend *b = &c->routes[r].backends[k];

			for (size_t i = 0; i < b->n_endpoints; i++) {
				const char *host = b->endpoints[i].host;
				const struct cfg_endpoint *one = NULL;

				if (host && is_service_name(host) && !is_repeat(b, i) &&
				    count_addrs(b, host, &one) == 1)
					n += warn_host(c, b, host, one, d);
			}
		}
	}
	return n;
}
