// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* config_istio_dr.c: Istio DestinationRules into route policy: balancing, connect
 * timeout, connection limit, idle timeout, maximum duration, keepalive, outlier
 * detection and PROXY protocol, and the subsets destinations select endpoints
 * by. The model has one policy per route, so a route takes the rule of its
 * first destination that has one (exact host before the longest covering
 * wildcard; a subset's own trafficPolicy over its rule's) and says so when
 * others differ. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config_yaml.h"
#include "hostname.h"

#define IGN_NO_HTTP "no HTTP in TLS passthrough"

struct dest_rule {
	const char *ns, *name;
	const char *subset; /* a subset's own policy: its name; NULL: the rule's */
	char host[HOSTNAME_MAX + 1];
	bool is_wildcard, has_balance, has_timeout, has_proxy, has_outlier, has_min_health;
	bool has_idle, has_ka_time, has_ka_interval, has_ka_probes;
	uint32_t idle_timeout_ms, max_duration_ms;
	uint32_t ka_time_s, ka_interval_s, ka_probes;
	struct cfg_outlier outlier;
	enum cfg_balance balance;
	uint32_t connect_timeout_ms, max_connections, min_health_percent;
	enum cfg_proxy_protocol proxy;
};

/* A named subset: its labels, and its policy when it has a trafficPolicy of
 * its own (the rule's policy with the subset's fields over it). */
struct dr_subset {
	const char *name;
	struct cfg_labels labels; /* none: every endpoint */
	struct dest_rule *policy;
};

struct rule_subsets {
	struct dr_subset *items;
	size_t n;
};

struct cfg_istio_dr {
	struct dest_rule *drs;
	struct rule_subsets *subsets; /* parallel to drs */
	size_t n_drs, n_subsets;
};

enum { DR_HOST = 0, DR_POLICY, DR_SUBSETS, DR_WLS, DR_EXPORT_TO, DR_MAX };
static const struct cfg_field dr_fields[DR_MAX] = {
	[DR_HOST] = {.key = "host", .kind = CFG_K_STR, .is_required = true},
	[DR_POLICY] = {.key = "trafficPolicy", .kind = CFG_K_MAP},
	[DR_SUBSETS] = {.key = "subsets", .kind = CFG_K_SEQ},
	[DR_WLS] = {.key = "workloadSelector",
		    .kind = CFG_K_IGNORED,
		    .note = "it selects sidecar workloads"},
	[DR_EXPORT_TO] = {.key = "exportTo", .kind = CFG_K_ANY},
};

enum { TP_LB = 0, TP_POOL, TP_PROXY, TP_OUTLIER, TP_MAX = 7 };
static const struct cfg_field tp_fields[TP_MAX] = {
	[TP_LB] = {.key = "loadBalancer", .kind = CFG_K_MAP},
	[TP_POOL] = {.key = "connectionPool", .kind = CFG_K_MAP},
	[TP_PROXY] = {.key = "proxyProtocol", .kind = CFG_K_MAP},
	[TP_OUTLIER] = {.key = "outlierDetection", .kind = CFG_K_MAP},
	{.key = "tls", .kind = CFG_K_IGNORED, .note = "the client's TLS passes through unchanged"},
	{.key = "portLevelSettings",
	 .kind = CFG_K_IGNORED,
	 .note = "per-port settings are not supported"},
	{.key = "tunnel", .kind = CFG_K_IGNORED, .note = "tunnelling is not supported"},
};

static const char *const lb_simple[] = {"UNSPECIFIED",	 "ROUND_ROBIN", "LEAST_CONN", "RANDOM",
					"LEAST_REQUEST", "PASSTHROUGH", NULL};
static const enum cfg_balance lb_map[] = {CFG_BALANCE_ROUND_ROBIN, CFG_BALANCE_ROUND_ROBIN,
					  CFG_BALANCE_LEAST_CONN,  CFG_BALANCE_RANDOM2,
					  CFG_BALANCE_LEAST_CONN,  CFG_BALANCE_ROUND_ROBIN};
enum { LB_PASSTHROUGH = 5 };

enum { LB_SIMPLE = 0, LB_HASH, LB_MAX = 5 };
static const struct cfg_field lb_fields[LB_MAX] = {
	[LB_SIMPLE] = {.key = "simple", .kind = CFG_K_ENUM, .names = lb_simple},
	[LB_HASH] = {.key = "consistentHash", .kind = CFG_K_MAP},
	{.key = "localityLbSetting",
	 .kind = CFG_K_IGNORED,
	 .note = "locality is not known to sockgate"},
	{.key = "warmupDurationSecs", .kind = CFG_K_IGNORED, .note = "slow start is not supported"},
	{.key = "warmup", .kind = CFG_K_IGNORED, .note = "slow start is not supported"},
};

#define IGN_HASH_KEY IGN_NO_HTTP ": Maglev hashes the client address"
enum { CH_SOURCE_IP = 0, CH_MAX = 7 };
static const struct cfg_field ch_fields[CH_MAX] = {
	[CH_SOURCE_IP] = {.key = "useSourceIp", .kind = CFG_K_BOOL},
	{.key = "maglev", .kind = CFG_K_ANY},
	{.key = "ringHash", .kind = CFG_K_ANY},
	{.key = "minimumRingSize", .kind = CFG_K_ANY},
	{.key = "httpHeaderName", .kind = CFG_K_IGNORED, .note = IGN_HASH_KEY},
	{.key = "httpCookie", .kind = CFG_K_IGNORED, .note = IGN_HASH_KEY},
	{.key = "httpQueryParameterName", .kind = CFG_K_IGNORED, .note = IGN_HASH_KEY},
};

enum { CP_TCP = 0, CP_HTTP, CP_MAX };
static const struct cfg_field cp_fields[CP_MAX] = {
	[CP_TCP] = {.key = "tcp", .kind = CFG_K_MAP},
	[CP_HTTP] = {.key = "http", .kind = CFG_K_IGNORED, .note = IGN_NO_HTTP},
};

/* The native keys' ranges (config_native.c): a week for lifetimes, the
 * kernel's limits for keepalive. */
#define LIFETIME_MAX_MS	     (7 * 24 * 3600 * 1000)
#define KEEPALIVE_MAX_MS     (32767 * 1000)
#define KEEPALIVE_PROBES_MAX 127

enum { TCP_MAX_CONN = 0, TCP_TIMEOUT, TCP_KEEPALIVE, TCP_MAX_DURATION, TCP_IDLE, TCP_MAX };
static const struct cfg_field tcp_fields[TCP_MAX] = {
	[TCP_MAX_CONN] = {.key = "maxConnections", .kind = CFG_K_INT, .min = 1, .max = 2147483647},
	[TCP_TIMEOUT] = {.key = "connectTimeout",
			 .kind = CFG_K_DURATION,
			 .min = 1,
			 .max = 10 * 60 * 1000},
	[TCP_KEEPALIVE] = {.key = "tcpKeepalive", .kind = CFG_K_MAP},
	[TCP_MAX_DURATION] = {.key = "maxConnectionDuration",
			      .kind = CFG_K_DURATION,
			      .max = LIFETIME_MAX_MS},
	[TCP_IDLE] = {.key = "idleTimeout", .kind = CFG_K_DURATION, .max = LIFETIME_MAX_MS},
};

enum { KA_PROBES = 0, KA_TIME, KA_INTERVAL, KA_MAX };
static const struct cfg_field ka_fields[KA_MAX] = {
	[KA_PROBES] = {.key = "probes", .kind = CFG_K_INT, .min = 1, .max = KEEPALIVE_PROBES_MAX},
	[KA_TIME] = {.key = "time", .kind = CFG_K_DURATION, .min = 1000, .max = KEEPALIVE_MAX_MS},
	[KA_INTERVAL] = {.key = "interval",
			 .kind = CFG_K_DURATION,
			 .min = 1000,
			 .max = KEEPALIVE_MAX_MS},
};

static const char *const pp_versions[] = {"V1", "V2", NULL};
enum { PP_VERSION = 0, PP_MAX };
static const struct cfg_field pp_fields[PP_MAX] = {
	[PP_VERSION] = {.key = "version",
			.kind = CFG_K_ENUM,
			.is_required = true,
			.names = pp_versions},
};

/* A gateway sees connect failures only: Envoy counts those as gateway errors
 * (and as 5xx) unless local-origin errors are split out. */
enum {
	OD_GATEWAY = 0,
	OD_5XX,
	OD_ERRORS,
	OD_SPLIT,
	OD_LOCAL,
	OD_INTERVAL,
	OD_EJECTION,
	OD_PERCENT,
	OD_MIN_HEALTH,
	OD_MAX
};
static const struct cfg_field od_fields[OD_MAX] = {
	[OD_GATEWAY] = {.key = "consecutiveGatewayErrors", .kind = CFG_K_INT, .max = 1000000},
	[OD_5XX] = {.key = "consecutive5xxErrors", .kind = CFG_K_INT, .max = 1000000},
	[OD_ERRORS] = {.key = "consecutiveErrors", .kind = CFG_K_INT, .max = 1000000},
	[OD_SPLIT] = {.key = "splitExternalLocalOriginErrors", .kind = CFG_K_BOOL},
	[OD_LOCAL] = {.key = "consecutiveLocalOriginFailures", .kind = CFG_K_INT, .max = 1000000},
	[OD_INTERVAL] = {.key = "interval", .kind = CFG_K_DURATION, .min = 1, .max = 3600000},
	[OD_EJECTION] = {.key = "baseEjectionTime",
			 .kind = CFG_K_DURATION,
			 .min = 1,
			 .max = 86400000},
	[OD_PERCENT] = {.key = "maxEjectionPercent", .kind = CFG_K_INT, .max = 100},
	[OD_MIN_HEALTH] = {.key = "minHealthPercent", .kind = CFG_K_INT, .max = 100},
};

/* Walks v (a CFG_K_MAP value, at path key below the current one) with its table. */
static bool sub(struct cfg_loader *l, const struct cfg_val *v, const char *key,
		const struct cfg_field *f, size_t n, struct cfg_val *out)
{
	size_t saved;
	int r;

	memset(out, 0, n * sizeof(*out));
	if (!v->node)
		return false;
	saved = cfg_path_key(l, key);
	r = cfg_walk_map(l, v->node, f, n, out);
	cfg_path_pop(l, saved);
	return r == 0;
}

static void dr_outlier(struct cfg_loader *l, struct dest_rule *dr, const struct cfg_val *v)
{
	struct cfg_val od[OD_MAX];
	struct cfg_outlier *o = &dr->outlier;

	if (!sub(l, v, "trafficPolicy.outlierDetection", od_fields, OD_MAX, od))
		return;
	dr->has_outlier = true;
	cfg_outlier_defaults(o);
	if (od[OD_SPLIT].node && od[OD_SPLIT].num)
		o->consecutive_errors =
			od[OD_LOCAL].node ? (uint32_t)od[OD_LOCAL].num : CFG_DEFAULT_OUTLIER_ERRORS;
	else if (od[OD_GATEWAY].node)
		o->consecutive_errors = (uint32_t)od[OD_GATEWAY].num;
	else if (od[OD_5XX].node)
		o->consecutive_errors = (uint32_t)od[OD_5XX].num;
	else if (od[OD_ERRORS].node)
		o->consecutive_errors = (uint32_t)od[OD_ERRORS].num;
	if (od[OD_INTERVAL].node)
		o->interval_ms = (uint32_t)od[OD_INTERVAL].num;
	if (od[OD_EJECTION].node)
		o->base_ejection_ms = (uint32_t)od[OD_EJECTION].num;
	if (od[OD_PERCENT].node)
		o->max_ejection_percent = (uint32_t)od[OD_PERCENT].num;
	dr->has_min_health = od[OD_MIN_HEALTH].node != NULL;
	dr->min_health_percent = (uint32_t)od[OD_MIN_HEALTH].num;
}

static void dr_load_balancer(struct cfg_loader *l, struct dest_rule *dr, const struct cfg_val *v)
{
	struct cfg_val lb[LB_MAX], ch[CH_MAX];
	size_t saved = l->path_len;

	if (!sub(l, v, "trafficPolicy.loadBalancer", lb_fields, LB_MAX, lb))
		return;
	if (lb[LB_SIMPLE].node && lb[LB_HASH].node) {
		cfg_path_key(l, "trafficPolicy.loadBalancer");
		cfg_error(l, v->node, "\"simple\" and \"consistentHash\" exclude each other");
	} else if (lb[LB_SIMPLE].node) {
		dr->has_balance = true;
		dr->balance = lb_map[lb[LB_SIMPLE].num];
		cfg_path_key(l, "trafficPolicy.loadBalancer.simple");
		if (lb[LB_SIMPLE].num == LB_PASSTHROUGH)
			cfg_warn(l, lb[LB_SIMPLE].node,
				 "PASSTHROUGH (original destination) is not supported: "
				 "using ROUND_ROBIN");
	} else if (sub(l, &lb[LB_HASH], "trafficPolicy.loadBalancer.consistentHash", ch_fields,
		       CH_MAX, ch)) {
		/* Every key sockgate can hash on is the client address: Maglev. */
		dr->has_balance = true;
		dr->balance = CFG_BALANCE_MAGLEV;
	}
	cfg_path_pop(l, saved);
}

static void dr_policy(struct cfg_loader *l, struct dest_rule *dr, const struct cfg_val *v)
{
	struct cfg_val tp[TP_MAX], cp[CP_MAX], tcp[TCP_MAX], ka[KA_MAX], pp[PP_MAX];

	if (!sub(l, v, "trafficPolicy", tp_fields, TP_MAX, tp))
		return;
	dr_load_balancer(l, dr, &tp[TP_LB]);
	if (sub(l, &tp[TP_POOL], "trafficPolicy.connectionPool", cp_fields, CP_MAX, cp) &&
	    sub(l, &cp[CP_TCP], "trafficPolicy.connectionPool.tcp", tcp_fields, TCP_MAX, tcp)) {
		dr->max_connections = (uint32_t)tcp[TCP_MAX_CONN].num;
		dr->has_timeout = tcp[TCP_TIMEOUT].node != NULL;
		dr->connect_timeout_ms = (uint32_t)tcp[TCP_TIMEOUT].num;
		/* Istio's idleTimeout "0s" disables it, as the native 0 does. */
		dr->has_idle = tcp[TCP_IDLE].node != NULL;
		dr->idle_timeout_ms = (uint32_t)tcp[TCP_IDLE].num;
		dr->max_duration_ms = (uint32_t)tcp[TCP_MAX_DURATION].num;
		if (sub(l, &tcp[TCP_KEEPALIVE], "trafficPolicy.connectionPool.tcp.tcpKeepalive",
			ka_fields, KA_MAX, ka)) {
			dr->has_ka_time = ka[KA_TIME].node != NULL;
			dr->ka_time_s = cfg_seconds_up((uint64_t)ka[KA_TIME].num);
			dr->has_ka_interval = ka[KA_INTERVAL].node != NULL;
			dr->ka_interval_s = cfg_seconds_up((uint64_t)ka[KA_INTERVAL].num);
			dr->has_ka_probes = ka[KA_PROBES].node != NULL;
			dr->ka_probes = (uint32_t)ka[KA_PROBES].num;
		}
	}
	dr_outlier(l, dr, &tp[TP_OUTLIER]);
	if (sub(l, &tp[TP_PROXY], "trafficPolicy.proxyProtocol", pp_fields, PP_MAX, pp) &&
	    pp[PP_VERSION].node) {
		dr->has_proxy = true;
		dr->proxy = pp[PP_VERSION].num == 0 ? CFG_PROXY_V1 : CFG_PROXY_V2;
	}
}

enum { SS_NAME = 0, SS_LABELS, SS_POLICY, SS_MAX };
static const struct cfg_field subset_fields[SS_MAX] = {
	[SS_NAME] = {.key = "name", .kind = CFG_K_STR, .is_required = true},
	[SS_LABELS] = {.key = "labels", .kind = CFG_K_STR_MAP},
	[SS_POLICY] = {.key = "trafficPolicy", .kind = CFG_K_MAP},
};

static void dr_subset(struct cfg_loader *l, const struct dest_rule *dr, struct rule_subsets *rs,
		      yaml_node_t *node)
{
	struct cfg_val v[SS_MAX];
	struct dr_subset *ss;

	if (cfg_walk_map(l, node, subset_fields, SS_MAX, v) != 0 || !v[SS_NAME].node)
		return;
	for (size_t i = 0; i < rs->n; i++) {
		if (!strcmp(rs->items[i].name, v[SS_NAME].str)) {
			size_t saved = cfg_path_key(l, "name");

			/* As Istio's validation: which one a route gets must not be a guess. */
			cfg_error(l, v[SS_NAME].node, "subset %s is defined twice in this rule",
				  cfg_quote(l, v[SS_NAME].str));
			cfg_path_pop(l, saved);
			return;
		}
	}
	ss = cfg_push(l, &rs->items, &rs->n, sizeof(*ss));
	if (!ss)
		return;
	ss->name = v[SS_NAME].str;
	cfg_labels_read(l, v[SS_LABELS].node, &ss->labels);
	if (!v[SS_POLICY].node)
		return;
	ss->policy = malloc(sizeof(*ss->policy));
	if (!ss->policy) {
		l->err = -ENOMEM;
		return;
	}
	*ss->policy = *dr;
	ss->policy->subset = ss->name;
	dr_policy(l, ss->policy, &v[SS_POLICY]);
}

static void dr_subsets(struct cfg_loader *l, struct cfg_istio_dr *s, yaml_node_t *list)
{
	struct rule_subsets *rs;
	size_t saved = cfg_path_key(l, "subsets");

	while (s->n_subsets < s->n_drs && cfg_push(l, &s->subsets, &s->n_subsets, sizeof(*rs)))
		;
	if (s->n_subsets < s->n_drs)
		goto out;
	rs = &s->subsets[s->n_drs - 1];
	for (size_t i = 0; i < cfg_seq_len(list); i++) {
		size_t saved_i = cfg_path_index(l, i);

		dr_subset(l, &s->drs[s->n_drs - 1], rs, cfg_seq_item(l, list, i));
		cfg_path_pop(l, saved_i);
	}
out:
	cfg_path_pop(l, saved);
}

static void dr_doc(struct cfg_loader *l, struct cfg_istio_dr *s, struct cfg_doc *d)
{
	struct cfg_istio_meta m;
	struct cfg_val v[DR_MAX];
	struct dest_rule *dr;
	enum hostname_result r;
	size_t len, saved;

	if (cfg_istio_header(l, d, &m) != 0)
		return;
	cfg_path_key(l, "spec");
	if (cfg_walk_map(l, m.spec, dr_fields, DR_MAX, v) != 0 || !v[DR_HOST].node ||
	    !(dr = cfg_push(l, &s->drs, &s->n_drs, sizeof(*dr))))
		return;
	dr->ns = m.ns;
	dr->name = m.name;
	saved = cfg_path_key(l, "host");
	r = hostname_pattern_normalize(v[DR_HOST].str, strlen(v[DR_HOST].str), dr->host, &len,
				       &dr->is_wildcard);
	if (r != HOSTNAME_OK) {
		cfg_error(l, v[DR_HOST].node, "bad host %s: %s", cfg_quote(l, v[DR_HOST].str),
			  hostname_result_str(r));
		s->n_drs--;
		return;
	}
	for (size_t i = 0; i + 1 < s->n_drs; i++) {
		if (!strcmp(s->drs[i].host, dr->host)) {
			cfg_warn(l, v[DR_HOST].node,
				 "ignored: DestinationRule %s/%s already applies to this host",
				 s->drs[i].ns, s->drs[i].name);
			s->n_drs--;
			return;
		}
	}
	cfg_path_pop(l, saved);
	dr_policy(l, dr, &v[DR_POLICY]);
	/* After the rule's policy: a subset's policy starts from it. */
	dr_subsets(l, s, v[DR_SUBSETS].node);
}

/* The rule for host: an exact host first, else the longest wildcard covering it. */
static const struct dest_rule *find_dr(const struct cfg_istio_dr *s, const char *host)
{
	const struct dest_rule *best = NULL;

	for (size_t i = 0; i < s->n_drs; i++) {
		const struct dest_rule *dr = &s->drs[i];

		if (!dr->is_wildcard && !strcmp(dr->host, host))
			return dr;
		if (dr->is_wildcard && cfg_pattern_covers(dr->host, host) &&
		    (!best || strlen(dr->host) > strlen(best->host)))
			best = dr;
	}
	return best;
}

static const struct dr_subset *find_subset(const struct cfg_istio_dr *s, const struct dest_rule *dr,
					   const char *name)
{
	size_t i = (size_t)(dr - s->drs);

	for (size_t k = 0; i < s->n_subsets && k < s->subsets[i].n; k++) {
		if (!strcmp(s->subsets[i].items[k].name, name))
			return &s->subsets[i].items[k];
	}
	return NULL;
}

enum cfg_subset_result cfg_istio_dr_subset(const struct cfg_istio_dr *s, const char *host,
					   const char *name, const struct cfg_labels **labels,
					   const char **rule_ns, const char **rule_name)
{
	const struct dest_rule *dr = find_dr(s, host);
	const struct dr_subset *ss;

	*labels = NULL;
	*rule_ns = *rule_name = NULL;
	if (!dr)
		return CFG_SUBSET_NO_RULE;
	*rule_ns = dr->ns;
	*rule_name = dr->name;
	if (!(ss = find_subset(s, dr, name)))
		return CFG_SUBSET_UNKNOWN;
	*labels = &ss->labels;
	return CFG_SUBSET_OK;
}

void cfg_istio_dr_apply(struct cfg_loader *l, const struct cfg_istio_dr *s, struct cfg_route *r,
			yaml_node_t *node)
{
	const struct dest_rule *dr = NULL;
	char host[HOSTNAME_MAX + 1];
	size_t len;

	for (size_t i = 0; i < r->n_backends; i++) {
		const struct dest_rule *d;

		const struct dr_subset *ss;

		if (hostname_normalize(r->backends[i].host, strlen(r->backends[i].host), host,
				       &len) != HOSTNAME_OK ||
		    !(d = find_dr(s, host)))
			continue;
		if (r->backends[i].subset && (ss = find_subset(s, d, r->backends[i].subset)) &&
		    ss->policy)
			d = ss->policy;
		if (!dr) {
			dr = d;
		} else if (d != dr) {
			/* The model has one policy per route; say which one won. */
			cfg_warn(l, node,
				 "destinations have different DestinationRules; %s/%s%s%s applies "
				 "to the whole route",
				 dr->ns, dr->name, dr->subset ? " subset " : "",
				 dr->subset ? dr->subset : "");
			break;
		}
	}
	if (!dr)
		return;
	if (dr->has_balance)
		r->balance = dr->balance;
	if (dr->has_timeout)
		r->connect_timeout_ms = dr->connect_timeout_ms;
	if (dr->has_proxy)
		r->proxy_protocol = dr->proxy;
	r->max_connections = dr->max_connections;
	if (dr->has_idle)
		r->idle_timeout_ms = dr->idle_timeout_ms;
	r->max_connection_duration_ms = dr->max_duration_ms;
	if (dr->has_ka_time)
		r->keepalive_time_s = dr->ka_time_s;
	if (dr->has_ka_interval)
		r->keepalive_interval_s = dr->ka_interval_s;
	if (dr->has_ka_probes)
		r->keepalive_probes = dr->ka_probes;
	if (dr->has_outlier)
		r->outlier = dr->outlier;
	if (dr->has_min_health)
		r->min_health_percent = dr->min_health_percent;
}

struct cfg_istio_dr *cfg_istio_dr_collect(struct cfg_loader *l)
{
	struct cfg_istio_dr *s = calloc(1, sizeof(*s));

	if (!s) {
		l->err = -ENOMEM;
		return NULL;
	}
	for (size_t i = 0; i < l->n_docs; i++) {
		cfg_loader_enter(l, l->docs[i]);
		if (cfg_doc_type(l, yaml_document_get_root_node(l->doc)) ==
		    CFG_DOC_DESTINATION_RULE)
			dr_doc(l, s, l->docs[i]);
	}
	return s;
}

void cfg_istio_dr_free(struct cfg_istio_dr *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_subsets; i++) {
		for (size_t k = 0; k < s->subsets[i].n; k++) {
			free(s->subsets[i].items[k].policy);
			free(s->subsets[i].items[k].labels.items);
		}
		free(s->subsets[i].items);
	}
	free(s->subsets);
	free(s->drs);
	free(s);
}
