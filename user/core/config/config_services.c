// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* config_services.c: see config_services_warn() in config.h. A Kubernetes
 * Service name answers with every ready pod when the Service is headless and
 * with one virtual address (the ClusterIP) otherwise; behind a ClusterIP,
 * kube-proxy picks the pod, so sockgate's balancing, health checks and
 * outlier ejection all see a single backend. Nothing in an answer tells the
 * two apart, so a lone address under a Service name is only a warning. */
#include <stdbool.h>
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

/* Endpoints of b resolved from host. */
static size_t count_addrs(const struct cfg_backend *b, const char *host)
{
	size_t n = 0;

	for (size_t i = 0; i < b->n_endpoints; i++) {
		const struct cfg_endpoint *ep = &b->endpoints[i];

		n += ep->host && ep->is_resolved && !strcmp(ep->host, host);
	}
	return n;
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

size_t config_services_warn(const struct config *c, struct cfg_diags *d)
{
	size_t n = 0;
	int err = 0;

	for (size_t r = 0; r < c->n_routes; r++) {
		for (size_t k = 0; k < c->routes[r].n_backends; k++) {
			const struct cfg_backend *b = &c->routes[r].backends[k];

			for (size_t i = 0; i < b->n_endpoints; i++) {
				const char *host = b->endpoints[i].host;

				if (!host || !is_service_name(host) || is_repeat(b, i) ||
				    count_addrs(b, host) != 1)
					continue;
				cfg_diag_src(
					d, &b->src, true, &err,
					"\"%s\" resolves to a single address: if it is a "
					"ClusterIP Service, balancing and health checks see one "
					"backend; use a headless Service (clusterIP: None)",
					host);
				n++;
			}
		}
	}
	return n;
}
