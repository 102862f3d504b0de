/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* config_gwapi.h: internal to config_gwapi*.c, the Gateway API reader. What
 * config_gwapi.c collects from Gateways and ReferenceGrants, and what
 * config_gwapi_route.c attaches TLSRoutes to. docs/CONFIG.md, "Gateway API",
 * states the rules. */
#ifndef SG_CONFIG_GWAPI_H
#define SG_CONFIG_GWAPI_H

#include "config_yaml.h"

#define GWAPI_GROUP "gateway.networking.k8s.io"

enum gwapi_from { GWAPI_FROM_SAME = 0, GWAPI_FROM_ALL, GWAPI_FROM_SELECTOR };

/* One spec.listeners[] entry of a served Gateway. */
struct gwapi_listener {
	const char *name; /* sectionName; points into the YAML document */
	uint16_t port;
	bool has_hostname;
	char hostname[HOSTNAME_MAX + 1];
	/* NULL: a TLS Passthrough listener, served on `listener`; else why not. */
	const char *not_served;
	size_t listener;
	enum gwapi_from from;
	bool allows_tls_route; /* allowedRoutes.kinds (default: TLSRoute) */
	size_t n_attached;     /* parentRefs of TLSRoutes attached to it */
	struct cfg_src src;
};

struct gwapi_gateway {
	const char *ns, *name, *class_name; /* point into the YAML document */
	bool is_served;			    /* its class is the one served */
	struct gwapi_listener *listeners;
	size_t n_listeners;
};

/* A ReferenceGrant's from[] and to[] entries (group "" is the core group). */
struct gwapi_grant_from {
	const char *group, *kind, *ns;
};
struct gwapi_grant_to {
	const char *group, *kind, *name; /* name NULL: every object of the kind */
};
struct gwapi_grant {
	const char *ns;
	struct gwapi_grant_from *from;
	size_t n_from;
	struct gwapi_grant_to *to;
	size_t n_to;
};

struct gwapi {
	struct gwapi_gateway *gws; /* every Gateway read, served or not */
	size_t n_gws;
	struct gwapi_grant *grants;
	size_t n_grants;
	const struct cfg_istio *istio;
};

/* Is a reference from a (group, kind) object in namespace from_ns to the
 * (group, kind, name) object in namespace to_ns allowed? Same namespace
 * always; across namespaces only with a ReferenceGrant in to_ns. */
bool gwapi_ref_allowed(const struct gwapi *g, const char *from_group, const char *from_kind,
		       const char *from_ns, const char *to_group, const char *to_kind,
		       const char *to_ns, const char *to_name);

/* Converts one TLSRoute document into routes (config_gwapi_route.c). */
void gwapi_tls_route_doc(struct cfg_loader *l, const struct gwapi *g, struct cfg_doc *d);

/* The kind of a Gateway API document (its "kind" scalar). */
const char *gwapi_kind(struct cfg_loader *l, struct cfg_doc *d);

#endif
