// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* config_native.c: the native format (docs/CONFIG.md, "listeners:", "routes:", "guard:")
 * into the model. Only what one document can check is checked here; names that may
 * live in another file (route listeners, policies) are resolved by config.c. */
#include <string.h>

#include "cfg_value.h"
#include "config_yaml.h"
#include "hostname.h"

#define NAME_MAX_LEN	128
#define TIMEOUT_MIN_MS	1
#define TIMEOUT_MAX_MS	(10 * 60 * 1000)
#define WEIGHT_MAX	1000000
#define RETRIES_MAX	16
#define INT32_MAX_VALUE 2147483647

static const char *const balance_names[] = {"round_robin", "least_conn", "random2", "maglev", NULL};

#define RESOLVE_INTERVAL_MIN_MS 1000
#define RESOLVE_INTERVAL_MAX_MS (24 * 3600 * 1000)
#define ADDRESSES_PER_NAME_MAX	4096
/* A week: longer is "never", which 0 says. */
#define LIFETIME_MAX_MS (7 * 24 * 3600 * 1000)
/* The kernel's limits: TCP_KEEPIDLE and TCP_KEEPINTVL in seconds up to
 * MAX_TCP_KEEPIDLE, TCP_KEEPCNT up to MAX_TCP_KEEPCNT. */
#define KEEPALIVE_MAX_MS     (32767 * 1000)
#define KEEPALIVE_PROBES_MAX 127

enum {
	ROOT_LISTENERS = 0,
	ROOT_ROUTES,
	ROOT_GUARD,
	ROOT_RESOLVE_INTERVAL,
	ROOT_MAX_ADDRESSES,
	ROOT_KUBERNETES,
	ROOT_MAX
};
static const struct cfg_field root_fields[ROOT_MAX] = {
	[ROOT_LISTENERS] = {.key = "listeners", .kind = CFG_K_SEQ},
	[ROOT_ROUTES] = {.key = "routes", .kind = CFG_K_SEQ},
	[ROOT_GUARD] = {.key = "guard", .kind = CFG_K_MAP}, /* config_guard.c */
	[ROOT_RESOLVE_INTERVAL] = {.key = "resolve_interval",
				   .kind = CFG_K_DURATION,
				   .min = RESOLVE_INTERVAL_MIN_MS,
				   .max = RESOLVE_INTERVAL_MAX_MS},
	[ROOT_MAX_ADDRESSES] = {.key = "max_addresses_per_name",
				.kind = CFG_K_INT,
				.min = 1,
				.max = ADDRESSES_PER_NAME_MAX},
	[ROOT_KUBERNETES] = {.key = "kubernetes", .kind = CFG_K_MAP}, /* config_kubernetes.c */
};

enum {
	LS_NAME = 0,
	LS_ADDRESS,
	LS_NO_SNI,
	LS_UNKNOWN_SNI,
	LS_HELLO_TIMEOUT,
	LS_MAX_HELLO,
	LS_MAX_PENDING,
	LS_DEFER_ACCEPT,
	LS_MAX
};
static const struct cfg_field listener_fields[LS_MAX] = {
	[LS_NAME] = {.key = "name", .kind = CFG_K_STR, .is_required = true},
	[LS_ADDRESS] = {.key = "address", .kind = CFG_K_STR, .is_required = true},
	[LS_NO_SNI] = {.key = "no_sni", .kind = CFG_K_STR},
	[LS_UNKNOWN_SNI] = {.key = "unknown_sni", .kind = CFG_K_STR},
	[LS_HELLO_TIMEOUT] = {.key = "hello_timeout",
			      .kind = CFG_K_DURATION,
			      .min = TIMEOUT_MIN_MS,
			      .max = TIMEOUT_MAX_MS},
	[LS_MAX_HELLO] = {.key = "max_hello_bytes", .kind = CFG_K_INT, .min = 512, .max = 1 << 20},
	[LS_MAX_PENDING] = {.key = "max_pending_hellos",
			    .kind = CFG_K_INT,
			    .min = 1,
			    .max = INT32_MAX_VALUE},
	[LS_DEFER_ACCEPT] = {.key = "defer_accept", .kind = CFG_K_DURATION, .min = 0, .max = 60000},
};

enum {
	RT_NAME = 0,
	RT_LISTENERS,
	RT_SNI,
	RT_ALPN,
	RT_BALANCE,
	RT_CONNECT_TIMEOUT,
	RT_CONNECT_RETRIES,
	RT_PROXY_PROTOCOL,
	RT_MAX_CONNECTIONS,
	RT_BACKENDS,
	RT_HEALTH_CHECK,
	RT_OUTLIER,
	RT_MIN_HEALTH,
	RT_IDLE_TIMEOUT,
	RT_MAX_DURATION,
	RT_KEEPALIVE_TIME,
	RT_KEEPALIVE_INTERVAL,
	RT_KEEPALIVE_PROBES,
	RT_USER_TIMEOUT,
	RT_MAX
};
static const struct cfg_field route_fields[RT_MAX] = {
	[RT_NAME] = {.key = "name", .kind = CFG_K_STR, .is_required = true},
	[RT_LISTENERS] = {.key = "listeners", .kind = CFG_K_STR_LIST},
	[RT_SNI] = {.key = "sni", .kind = CFG_K_STR_LIST},
	[RT_ALPN] = {.key = "alpn", .kind = CFG_K_STR_LIST},
	[RT_BALANCE] = {.key = "balance", .kind = CFG_K_ENUM, .names = balance_names},
	[RT_CONNECT_TIMEOUT] = {.key = "connect_timeout",
				.kind = CFG_K_DURATION,
				.min = TIMEOUT_MIN_MS,
				.max = TIMEOUT_MAX_MS},
	[RT_CONNECT_RETRIES] = {.key = "connect_retries", .kind = CFG_K_INT, .max = RETRIES_MAX},
	[RT_PROXY_PROTOCOL] = {.key = "proxy_protocol", .kind = CFG_K_ANY}, /* config_proxy.c */
	[RT_MAX_CONNECTIONS] = {.key = "max_connections",
				.kind = CFG_K_INT,
				.max = INT32_MAX_VALUE},
	[RT_BACKENDS] = {.key = "backends", .kind = CFG_K_SEQ, .is_required = true},
	[RT_HEALTH_CHECK] = {.key = "health_check", .kind = CFG_K_MAP}, /* config_health.c */
	[RT_OUTLIER] = {.key = "outlier_detection", .kind = CFG_K_MAP},
	[RT_MIN_HEALTH] = {.key = "min_health_percent", .kind = CFG_K_INT, .max = 100},
	[RT_IDLE_TIMEOUT] = {.key = "idle_timeout", .kind = CFG_K_DURATION, .max = LIFETIME_MAX_MS},
	[RT_MAX_DURATION] = {.key = "max_connection_duration",
			     .kind = CFG_K_DURATION,
			     .max = LIFETIME_MAX_MS},
	[RT_KEEPALIVE_TIME] = {.key = "keepalive_time",
			       .kind = CFG_K_DURATION,
			       .max = KEEPALIVE_MAX_MS},
	[RT_KEEPALIVE_INTERVAL] = {.key = "keepalive_interval",
				   .kind = CFG_K_DURATION,
				   .min = 1000,
				   .max = KEEPALIVE_MAX_MS},
	[RT_KEEPALIVE_PROBES] = {.key = "keepalive_probes",
				 .kind = CFG_K_INT,
				 .min = 1,
				 .max = KEEPALIVE_PROBES_MAX},
	[RT_USER_TIMEOUT] = {.key = "tcp_user_timeout",
			     .kind = CFG_K_DURATION,
			     .max = LIFETIME_MAX_MS},
};

enum { BE_ADDRESS = 0, BE_WEIGHT, BE_MAX_CONNECTIONS, BE_MAX };
static const struct cfg_field backend_fields[BE_MAX] = {
	[BE_ADDRESS] = {.key = "address", .kind = CFG_K_STR, .is_required = true},
	[BE_WEIGHT] = {.key = "weight", .kind = CFG_K_INT, .min = 1, .max = WEIGHT_MAX},
	[BE_MAX_CONNECTIONS] = {.key = "max_connections",
				.kind = CFG_K_INT,
				.min = 1,
				.max = INT32_MAX_VALUE},
};

/* Copies a listener or route name after checking it is a usable one. */
static char *take_name(struct cfg_loader *l, const struct cfg_val *v)
{
	size_t saved = cfg_path_key(l, "name");
	char *name = NULL;

	if (!cfg_is_name(v->str, NAME_MAX_LEN))
		cfg_error(l, v->node,
			  "expected a name of 1..%d printable characters without spaces, got %s",
			  NAME_MAX_LEN, cfg_quote(l, v->str));
	else if (!strcmp(v->str, "reject"))
		cfg_error(l, v->node, "\"reject\" is reserved for the no_sni/unknown_sni policy");
	else
		name = cfg_strdup(l, v->str);
	cfg_path_pop(l, saved);
	return name;
}

static void take_policy(struct cfg_loader *l, const struct cfg_val *v, const char *key,
			struct cfg_sni_policy *p)
{
	size_t saved;

	if (!v->node || !strcmp(v->str, "reject"))
		return;
	saved = cfg_path_key(l, key);
	p->action = CFG_POLICY_ROUTE;
	p->route_name = cfg_strdup(l, v->str);
	cfg_src_set(l, &p->src, v->node);
	cfg_path_pop(l, saved);
}

static void native_listener(struct cfg_loader *l, yaml_node_t *node)
{
	struct cfg_val v[LS_MAX];
	struct cfg_hostport hp;
	struct cfg_listener *ls;
	enum cfg_addr_result r;
	size_t saved;

	/* Kept even when broken (the load fails anyway) so later checks see it. */
	if (cfg_walk_map(l, node, listener_fields, LS_MAX, v) != 0)
		return;
	ls = cfg_push(l, &l->c->listeners, &l->c->n_listeners, sizeof(*ls));
	if (!ls)
		return;
	cfg_src_set(l, &ls->src, node);
	if (v[LS_NAME].node)
		ls->name = take_name(l, &v[LS_NAME]);
	ls->hello_timeout_ms = v[LS_HELLO_TIMEOUT].node ? (uint32_t)v[LS_HELLO_TIMEOUT].num
							: CFG_DEFAULT_HELLO_TIMEOUT_MS;
	ls->max_hello_bytes =
		v[LS_MAX_HELLO].node ? (uint32_t)v[LS_MAX_HELLO].num : CFG_DEFAULT_MAX_HELLO_BYTES;
	ls->max_pending_hellos = v[LS_MAX_PENDING].node ? (uint32_t)v[LS_MAX_PENDING].num
							: CFG_DEFAULT_MAX_PENDING_HELLOS;
	ls->defer_accept_ms = v[LS_DEFER_ACCEPT].node ? (uint32_t)v[LS_DEFER_ACCEPT].num
						      : CFG_DEFAULT_DEFER_ACCEPT_MS;
	take_policy(l, &v[LS_NO_SNI], "no_sni", &ls->no_sni);
	take_policy(l, &v[LS_UNKNOWN_SNI], "unknown_sni", &ls->unknown_sni);

	if (!v[LS_ADDRESS].node)
		return;
	saved = cfg_path_key(l, "address");
	r = cfg_parse_hostport(v[LS_ADDRESS].str, &hp);
	if (r == CFG_ADDR_OK && !hp.is_ip)
		cfg_error(l, v[LS_ADDRESS].node,
			  "bad address %s: a listener binds an IP address, as \"0.0.0.0:443\" or "
			  "\"[::]:443\"",
			  cfg_quote(l, v[LS_ADDRESS].str));
	else if (r != CFG_ADDR_OK)
		cfg_error(l, v[LS_ADDRESS].node, "bad address %s: %s",
			  cfg_quote(l, v[LS_ADDRESS].str), cfg_addr_result_str(r));
	else {
		ls->addr = hp.addr;
		ls->addr_len = hp.addr_len;
		ls->port = hp.port;
	}
	cfg_path_pop(l, saved);
}

static void native_backend(struct cfg_loader *l, struct cfg_route *rt, yaml_node_t *node)
{
	struct cfg_val v[BE_MAX];
	struct cfg_hostport hp;
	struct cfg_backend *b;
	struct cfg_endpoint *ep;
	enum cfg_addr_result r;
	size_t saved;

	if (cfg_walk_map(l, node, backend_fields, BE_MAX, v) != 0 || !v[BE_ADDRESS].node)
		return;
	saved = cfg_path_key(l, "address");
	r = cfg_parse_hostport(v[BE_ADDRESS].str, &hp);
	if (r != CFG_ADDR_OK) {
		cfg_error(l, v[BE_ADDRESS].node, "bad address %s: %s",
			  cfg_quote(l, v[BE_ADDRESS].str), cfg_addr_result_str(r));
		goto out;
	}
	b = cfg_push(l, &rt->backends, &rt->n_backends, sizeof(*b));
	if (!b)
		goto out;
	cfg_src_set(l, &b->src, v[BE_ADDRESS].node);
	b->host = cfg_strdup(l, hp.host);
	b->port = hp.port;
	b->weight = v[BE_WEIGHT].node ? (uint32_t)v[BE_WEIGHT].num : 1;
	b->max_connections = (uint32_t)v[BE_MAX_CONNECTIONS].num;
	ep = cfg_push(l, &b->endpoints, &b->n_endpoints, sizeof(*ep));
	if (!ep)
		goto out;
	ep->port = hp.port;
	if (hp.is_ip) {
		ep->is_resolved = true;
		ep->addr = hp.addr;
		ep->addr_len = hp.addr_len;
	} else {
		ep->host = cfg_strdup(l, hp.host);
	}
out:
	cfg_path_pop(l, saved);
}

static void native_snis(struct cfg_loader *l, struct cfg_route *rt, const struct cfg_val *v)
{
	size_t saved = cfg_path_key(l, "sni");

	for (size_t i = 0; i < cfg_seq_len(v->node); i++) {
		yaml_node_t *item = cfg_seq_item(l, v->node, i);
		const char *s = cfg_scalar(item);
		char out[HOSTNAME_MAX + 1];
		enum hostname_result r;
		struct cfg_sni *sni;
		bool is_wildcard;
		size_t len, saved_i = cfg_path_index(l, i);

		r = hostname_pattern_normalize(s, strlen(s), out, &len, &is_wildcard);
		if (r != HOSTNAME_OK) {
			cfg_error(l, item, "bad SNI pattern %s: %s", cfg_quote(l, s),
				  hostname_result_str(r));
		} else if ((sni = cfg_push(l, &rt->snis, &rt->n_snis, sizeof(*sni)))) {
			sni->pattern = cfg_strdup(l, out);
			sni->is_wildcard = is_wildcard;
			cfg_src_set(l, &sni->src, item);
		}
		cfg_path_pop(l, saved_i);
	}
	cfg_path_pop(l, saved);
}

static void native_alpn(struct cfg_loader *l, struct cfg_route *rt, const struct cfg_val *v)
{
	size_t saved = cfg_path_key(l, "alpn");

	if (!cfg_seq_len(v->node))
		cfg_error(l, v->node, "empty list: leave \"alpn\" out to accept any ALPN");
	for (size_t i = 0; i < cfg_seq_len(v->node); i++) {
		yaml_node_t *item = cfg_seq_item(l, v->node, i);
		const char *s = cfg_scalar(item);
		char **slot;

		/* RFC 7301: a protocol name is 1..255 bytes. */
		if (!*s || strlen(s) > 255) {
			size_t saved_i = cfg_path_index(l, i);

			cfg_error(l, item, "expected an ALPN protocol name of 1..255 bytes, got %s",
				  cfg_quote(l, s));
			cfg_path_pop(l, saved_i);
		} else if ((slot = cfg_push(l, &rt->alpn, &rt->n_alpn, sizeof(*slot)))) {
			*slot = cfg_strdup(l, s);
		}
	}
	cfg_path_pop(l, saved);
}

static void native_listener_refs(struct cfg_loader *l, size_t route, const struct cfg_val *v,
				 yaml_node_t *route_node)
{
	size_t saved = cfg_path_key(l, "listeners");
	struct cfg_listener_ref *ref;

	if (!v->node) {
		/* No list: every listener of the final model (resolved in config.c). */
		if ((ref = cfg_push(l, &l->refs, &l->n_refs, sizeof(*ref)))) {
			ref->route = route;
			cfg_src_set(l, &ref->src, route_node);
		}
	} else if (!cfg_seq_len(v->node)) {
		cfg_error(l, v->node, "empty list: leave \"listeners\" out to use all listeners");
	}
	for (size_t i = 0; i < cfg_seq_len(v->node); i++) {
		yaml_node_t *item = cfg_seq_item(l, v->node, i);
		size_t saved_i = cfg_path_index(l, i);

		if ((ref = cfg_push(l, &l->refs, &l->n_refs, sizeof(*ref)))) {
			ref->route = route;
			ref->name = cfg_strdup(l, cfg_scalar(item));
			cfg_src_set(l, &ref->src, item);
		}
		cfg_path_pop(l, saved_i);
	}
	cfg_path_pop(l, saved);
}

static void native_route(struct cfg_loader *l, yaml_node_t *node)
{
	struct cfg_val v[RT_MAX];
	struct cfg_route *rt;
	size_t saved, n_items;

	if (cfg_walk_map(l, node, route_fields, RT_MAX, v) != 0)
		return;
	rt = cfg_push(l, &l->c->routes, &l->c->n_routes, sizeof(*rt));
	if (!rt)
		return;
	cfg_src_set(l, &rt->src, node);
	if (v[RT_NAME].node)
		rt->name = take_name(l, &v[RT_NAME]);
	rt->balance =
		v[RT_BALANCE].node ? (enum cfg_balance)v[RT_BALANCE].num : CFG_BALANCE_ROUND_ROBIN;
	rt->connect_timeout_ms = v[RT_CONNECT_TIMEOUT].node ? (uint32_t)v[RT_CONNECT_TIMEOUT].num
							    : CFG_DEFAULT_CONNECT_TIMEOUT_MS;
	rt->connect_retries = v[RT_CONNECT_RETRIES].node ? (uint32_t)v[RT_CONNECT_RETRIES].num
							 : CFG_DEFAULT_CONNECT_RETRIES;
	cfg_native_proxy(l, &v[RT_PROXY_PROTOCOL], rt);
	rt->max_connections = (uint32_t)v[RT_MAX_CONNECTIONS].num;
	rt->min_health_percent = (uint32_t)v[RT_MIN_HEALTH].num;
	cfg_route_lifetime_defaults(rt);
	if (v[RT_IDLE_TIMEOUT].node)
		rt->idle_timeout_ms = (uint32_t)v[RT_IDLE_TIMEOUT].num;
	rt->max_connection_duration_ms = (uint32_t)v[RT_MAX_DURATION].num;
	if (v[RT_KEEPALIVE_TIME].node)
		rt->keepalive_time_s = cfg_seconds_up((uint64_t)v[RT_KEEPALIVE_TIME].num);
	if (v[RT_KEEPALIVE_INTERVAL].node)
		rt->keepalive_interval_s = cfg_seconds_up((uint64_t)v[RT_KEEPALIVE_INTERVAL].num);
	if (v[RT_KEEPALIVE_PROBES].node)
		rt->keepalive_probes = (uint32_t)v[RT_KEEPALIVE_PROBES].num;
	if (v[RT_USER_TIMEOUT].node)
		rt->user_timeout_ms = (uint32_t)v[RT_USER_TIMEOUT].num;
	native_listener_refs(l, l->c->n_routes - 1, &v[RT_LISTENERS], node);
	if (v[RT_SNI].node)
		native_snis(l, rt, &v[RT_SNI]);
	if (v[RT_ALPN].node)
		native_alpn(l, rt, &v[RT_ALPN]);
	if (v[RT_HEALTH_CHECK].node)
		cfg_native_health_check(l, rt, v[RT_HEALTH_CHECK].node);
	if (v[RT_OUTLIER].node)
		cfg_native_outlier(l, rt, v[RT_OUTLIER].node);
	if (!v[RT_BACKENDS].node)
		return;
	saved = cfg_path_key(l, "backends");
	n_items = cfg_seq_len(v[RT_BACKENDS].node);
	if (n_items == 0)
		cfg_error(l, v[RT_BACKENDS].node, "expected at least one backend");
	for (size_t i = 0; i < n_items; i++) {
		size_t saved_i = cfg_path_index(l, i);

		native_backend(l, rt, cfg_seq_item(l, v[RT_BACKENDS].node, i));
		cfg_path_pop(l, saved_i);
	}
	cfg_path_pop(l, saved);
}

/* One value for the whole configuration, as for the guard: a later layer
 * (sockgate load) replaces it, the same layer setting it twice is an error. */
static void native_singleton(struct cfg_loader *l, const struct cfg_val *v, const char *key,
			     uint32_t *value, struct cfg_src *src)
{
	size_t saved = cfg_path_key(l, key);

	if (src->file && cfg_layer_of(l, src->file_index) == cfg_layer_of(l, l->file_index)) {
		cfg_error(l, v->key, "already set at %s:%u:%u; one %s per configuration", src->file,
			  src->line, src->column, key);
	} else {
		cfg_src_fini(src);
		*value = (uint32_t)v->num;
		cfg_src_set(l, src, v->node);
	}
	cfg_path_pop(l, saved);
}

void cfg_native_doc(struct cfg_loader *l, yaml_node_t *root)
{
	struct cfg_val v[ROOT_MAX];

	if (cfg_walk_map(l, root, root_fields, ROOT_MAX, v) != 0)
		return;
	for (int k = ROOT_LISTENERS; k <= ROOT_ROUTES; k++) {
		size_t saved = cfg_path_key(l, root_fields[k].key);

		for (size_t i = 0; i < cfg_seq_len(v[k].node); i++) {
			size_t saved_i = cfg_path_index(l, i);
			yaml_node_t *item = cfg_seq_item(l, v[k].node, i);

			if (k == ROOT_LISTENERS)
				native_listener(l, item);
			else
				native_route(l, item);
			cfg_path_pop(l, saved_i);
		}
		cfg_path_pop(l, saved);
	}
	if (v[ROOT_GUARD].node)
		cfg_native_guard(l, v[ROOT_GUARD].key, v[ROOT_GUARD].node);
	if (v[ROOT_RESOLVE_INTERVAL].node)
		native_singleton(l, &v[ROOT_RESOLVE_INTERVAL], "resolve_interval",
				 &l->c->resolve_interval_ms, &l->c->resolve_interval_src);
	if (v[ROOT_MAX_ADDRESSES].node)
		native_singleton(l, &v[ROOT_MAX_ADDRESSES], "max_addresses_per_name",
				 &l->c->max_addresses_per_name, &l->c->max_addresses_src);
	if (v[ROOT_KUBERNETES].node)
		cfg_native_kubernetes(l, v[ROOT_KUBERNETES].key, v[ROOT_KUBERNETES].node);
}
