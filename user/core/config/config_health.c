// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* config_health.c: a native route's "health_check:" and "outlier_detection:"
 * mappings (docs/CONFIG.md, "Health") into the model. */
#include <stdlib.h>
#include <string.h>

#include "cfg_value.h"
#include "config_yaml.h"
#include "hostname.h"

#define CHECK_MIN_MS	   100
#define CHECK_MAX_MS	   (60 * 60 * 1000)
#define THRESHOLD_MAX	   100
#define EJECTION_MAX_MS	   (24 * 60 * 60 * 1000)
#define OUTLIER_ERR_MAX	   1000
#define DEFAULT_JITTER_DIV 10 /* jitter: a tenth of the interval unless set */

static const char *const check_types[] = {"tcp", "tls", NULL};

enum { HC_TYPE = 0, HC_INTERVAL, HC_TIMEOUT, HC_JITTER, HC_RISE, HC_FALL, HC_SNI, HC_MAX };
static const struct cfg_field hc_fields[HC_MAX] = {
	[HC_TYPE] = {.key = "type", .kind = CFG_K_ENUM, .is_required = true, .names = check_types},
	[HC_INTERVAL] = {.key = "interval",
			 .kind = CFG_K_DURATION,
			 .min = CHECK_MIN_MS,
			 .max = CHECK_MAX_MS},
	[HC_TIMEOUT] = {.key = "timeout", .kind = CFG_K_DURATION, .min = 1, .max = CHECK_MAX_MS},
	[HC_JITTER] = {.key = "jitter", .kind = CFG_K_DURATION, .min = 0, .max = CHECK_MAX_MS},
	[HC_RISE] = {.key = "rise", .kind = CFG_K_INT, .min = 1, .max = THRESHOLD_MAX},
	[HC_FALL] = {.key = "fall", .kind = CFG_K_INT, .min = 1, .max = THRESHOLD_MAX},
	[HC_SNI] = {.key = "sni", .kind = CFG_K_STR},
};

enum { OD_ERRORS = 0, OD_INTERVAL, OD_EJECTION, OD_PERCENT, OD_MAX };
static const struct cfg_field od_fields[OD_MAX] = {
	[OD_ERRORS] = {.key = "consecutive_errors",
		       .kind = CFG_K_INT,
		       .min = 1,
		       .max = OUTLIER_ERR_MAX},
	[OD_INTERVAL] = {.key = "interval",
			 .kind = CFG_K_DURATION,
			 .min = CHECK_MIN_MS,
			 .max = CHECK_MAX_MS},
	[OD_EJECTION] = {.key = "base_ejection_time",
			 .kind = CFG_K_DURATION,
			 .min = 1,
			 .max = EJECTION_MAX_MS},
	[OD_PERCENT] = {.key = "max_ejection_percent", .kind = CFG_K_INT, .min = 0, .max = 100},
};

const char *cfg_check_type_str(enum cfg_check_type t)
{
	static const char *const names[CFG_CHECK_MAX] = {"none", "tcp", "tls"};

	return t < CFG_CHECK_MAX ? names[t] : "?";
}

/* The SNI a TLS check sends by default: the route's first exact name. */
static const char *first_exact_sni(const struct cfg_route *rt)
{
	for (size_t i = 0; i < rt->n_snis; i++) {
		if (!rt->snis[i].is_wildcard)
			return rt->snis[i].pattern;
	}
	return NULL;
}

static void take_check_sni(struct cfg_loader *l, struct cfg_route *rt, const struct cfg_val *v,
			   yaml_node_t *map)
{
	struct cfg_health_check *hc = &rt->health_check;
	char out[HOSTNAME_MAX + 1];
	enum hostname_result r;
	size_t len, saved;

	if (!v->node) {
		const char *sni = first_exact_sni(rt);

		if (hc->type == CFG_CHECK_TLS && !sni)
			cfg_error(l, map,
				  "a TLS check needs a server name and the route has no exact "
				  "SNI: set \"sni\"");
		else if (hc->type == CFG_CHECK_TLS)
			hc->sni = cfg_strdup(l, sni);
		return;
	}
	saved = cfg_path_key(l, "sni");
	r = hostname_normalize(v->str, strlen(v->str), out, &len);
	if (hc->type != CFG_CHECK_TLS)
		cfg_error(l, v->node, "only a TLS check sends a server name");
	else if (r != HOSTNAME_OK)
		cfg_error(l, v->node, "bad server name %s: %s", cfg_quote(l, v->str),
			  hostname_result_str(r));
	else
		hc->sni = cfg_strdup(l, out);
	cfg_path_pop(l, saved);
}

void cfg_native_health_check(struct cfg_loader *l, struct cfg_route *rt, yaml_node_t *node)
{
	struct cfg_health_check *hc = &rt->health_check;
	size_t saved = cfg_path_key(l, "health_check");
	struct cfg_val v[HC_MAX];

	if (cfg_walk_map(l, node, hc_fields, HC_MAX, v) != 0 || !v[HC_TYPE].node)
		goto out;
	cfg_src_set(l, &hc->src, node);
	hc->type = v[HC_TYPE].num == 0 ? CFG_CHECK_TCP : CFG_CHECK_TLS;
	hc->interval_ms =
		v[HC_INTERVAL].node ? (uint32_t)v[HC_INTERVAL].num : CFG_DEFAULT_CHECK_INTERVAL_MS;
	hc->timeout_ms =
		v[HC_TIMEOUT].node ? (uint32_t)v[HC_TIMEOUT].num : CFG_DEFAULT_CHECK_TIMEOUT_MS;
	hc->jitter_ms = v[HC_JITTER].node ? (uint32_t)v[HC_JITTER].num
					  : hc->interval_ms / DEFAULT_JITTER_DIV;
	hc->rise = v[HC_RISE].node ? (uint32_t)v[HC_RISE].num : CFG_DEFAULT_CHECK_RISE;
	hc->fall = v[HC_FALL].node ? (uint32_t)v[HC_FALL].num : CFG_DEFAULT_CHECK_FALL;
	if (hc->timeout_ms > hc->interval_ms) {
		size_t saved_t = cfg_path_key(l, "timeout");

		cfg_error(l, v[HC_TIMEOUT].node ? v[HC_TIMEOUT].node : node,
			  "the timeout (%ums) must not exceed the interval (%ums)", hc->timeout_ms,
			  hc->interval_ms);
		cfg_path_pop(l, saved_t);
	}
	take_check_sni(l, rt, &v[HC_SNI], node);
out:
	cfg_path_pop(l, saved);
}

void cfg_route_lifetime_defaults(struct cfg_route *r)
{
	r->idle_timeout_ms = CFG_DEFAULT_IDLE_TIMEOUT_MS;
	r->max_connection_duration_ms = 0;
	r->keepalive_time_s = CFG_DEFAULT_KEEPALIVE_TIME_S;
	r->keepalive_interval_s = CFG_DEFAULT_KEEPALIVE_INTERVAL_S;
	r->keepalive_probes = CFG_DEFAULT_KEEPALIVE_PROBES;
	r->user_timeout_ms = CFG_DEFAULT_USER_TIMEOUT_MS;
}

uint32_t cfg_seconds_up(uint64_t ms)
{
	return (uint32_t)((ms + 999) / 1000);
}

void cfg_outlier_defaults(struct cfg_outlier *o)
{
	*o = (struct cfg_outlier){
		.consecutive_errors = CFG_DEFAULT_OUTLIER_ERRORS,
		.interval_ms = CFG_DEFAULT_OUTLIER_INTERVAL_MS,
		.base_ejection_ms = CFG_DEFAULT_OUTLIER_EJECTION_MS,
		.max_ejection_percent = CFG_DEFAULT_OUTLIER_MAX_EJECT_PERCENT,
	};
}

void cfg_native_outlier(struct cfg_loader *l, struct cfg_route *rt, yaml_node_t *node)
{
	struct cfg_outlier *o = &rt->outlier;
	size_t saved = cfg_path_key(l, "outlier_detection");
	struct cfg_val v[OD_MAX];

	if (cfg_walk_map(l, node, od_fields, OD_MAX, v) == 0) {
		cfg_outlier_defaults(o);
		if (v[OD_ERRORS].node)
			o->consecutive_errors = (uint32_t)v[OD_ERRORS].num;
		if (v[OD_INTERVAL].node)
			o->interval_ms = (uint32_t)v[OD_INTERVAL].num;
		if (v[OD_EJECTION].node)
			o->base_ejection_ms = (uint32_t)v[OD_EJECTION].num;
		if (v[OD_PERCENT].node)
			o->max_ejection_percent = (uint32_t)v[OD_PERCENT].num;
	}
	cfg_path_pop(l, saved);
}

void cfg_health_check_fini(struct cfg_health_check *hc)
{
	free(hc->sni);
	cfg_src_fini(&hc->src);
}
