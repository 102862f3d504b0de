/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* config_yaml.h: internal to the config loader (config*.c), not for other modules.
 * Holds the loader state shared by config.c and the format converters, the
 * diagnostics helpers, and the YAML walker: one typed schema table per mapping
 * checks types, ranges, required and unknown keys ("did you mean") in one place.
 * Walker results point into the libyaml documents, which live until the load ends. */
#ifndef SG_CONFIG_YAML_H
#define SG_CONFIG_YAML_H

#include <stdbool.h>
#include <stdint.h>
#include <yaml.h>

#include "cfg_value.h"
#include "config.h"
#include "hostname.h"

#define CFG_PATH_MAX 512
/* YAML nodes one load may visit. Aliases let a few bytes name a huge tree
 * ("billion laughs"); the walk stops there instead of taking forever. */
#define CFG_NODE_BUDGET 200000ul
/* SNI entries (listener × pattern) one load may produce, for the same reason. */
#define CFG_SNI_ENTRIES_MAX (1ul << 20)

enum cfg_kind {
	CFG_K_STR = 0,	/* non-null scalar */
	CFG_K_INT,	/* decimal integer in [min, max] */
	CFG_K_BOOL,	/* true / false */
	CFG_K_DURATION, /* "10s", "250ms" → milliseconds in [min, max] */
	CFG_K_ENUM,	/* one of names[] (exact); num is the index */
	CFG_K_STR_LIST, /* sequence of non-null scalars */
	CFG_K_STR_MAP,	/* mapping of scalar → scalar (labels, selectors) */
	CFG_K_MAP,	/* mapping the converter walks with its own table */
	CFG_K_SEQ,	/* sequence the converter walks */
	CFG_K_ANY,	/* accepted and not read (status, annotations) */
	CFG_K_IGNORED,	/* known, not implemented: a warning "ignored: <note>" */
	CFG_K_MAX
};

/* One key of a mapping schema. Tables are indexed by an enum of the converter, so
 * the walker's output array lines up with it: vals[RT_NAME] is the "name" key. */
struct cfg_field {
	const char *key;
	enum cfg_kind kind;
	bool is_required;
	int64_t min, max;	  /* INT, DURATION (ms) */
	const char *const *names; /* ENUM: NULL-terminated */
	const char *note;	  /* IGNORED: why it is ignored */
};

struct cfg_val {
	yaml_node_t *key;  /* NULL when the key is absent */
	yaml_node_t *node; /* the value; NULL when absent, null or invalid */
	const char *str;   /* STR, ENUM: the scalar text */
	int64_t num;	   /* INT, BOOL, DURATION, ENUM */
	bool is_bad;	   /* present but invalid, already reported */
};

struct cfg_doc {
	yaml_document_t yaml;
	unsigned file_index;
	unsigned index; /* 1-based, within its file */
};

/* A native route's listeners: list, resolved once every file is read. */
struct cfg_listener_ref {
	size_t route;
	char *name;
	struct cfg_src src;
};

struct cfg_loader {
	struct config *c;
	struct cfg_diags *diags;
	size_t n_errors_before;	   /* diags->n_errors when this load started */
	const char *const *labels; /* agent labels "k=v" */
	size_t n_labels;
	const char *gateway_class; /* Gateway API gatewayClassName served */
	struct cfg_doc **docs;	   /* every document of every file, in order */
	size_t n_docs;
	struct cfg_listener_ref *refs;
	size_t n_refs;
	/* Layers (config_load_inputs()): file index -> layer, and the route names
	 * to drop after the last layer. */
	unsigned *file_layer;
	size_t n_file_layer;
	unsigned layer; /* of the file being added */
	const struct cfg_unload *unload;
	size_t n_unload;
	/* Where the walker is: document, file and key path. */
	yaml_document_t *doc;
	const char *file;
	unsigned file_index;
	char path[CFG_PATH_MAX];
	size_t path_len;
	unsigned long budget;
	bool is_exhausted;
	int err;	    /* -ENOMEM once an allocation failed; the load then fails */
	char quote[4][160]; /* cfg_quote() ring */
	unsigned quote_next;
};

/* Drops the listeners and routes that a later layer redefines by name, and the
 * routes named in l->unload; remaps the indices that point at them. Runs once
 * every format is converted, before cfg_validate(). */
void cfg_apply_layers(struct cfg_loader *l);

/* The layer (struct cfg_input) the file_index-th file belongs to. */
unsigned cfg_layer_of(const struct cfg_loader *l, unsigned file_index);

/* --- diagnostics ---------------------------------------------------------- */

/* Reports an error / a warning at node (its start mark; NULL: the whole file) with
 * the current path. Messages quote user text only through cfg_quote(). */
void cfg_error(struct cfg_loader *l, const yaml_node_t *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void cfg_warn(struct cfg_loader *l, const yaml_node_t *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Records a note (struct cfg_diags.notes) at node with the current path. */
void cfg_note(struct cfg_loader *l, const yaml_node_t *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Reports at a location recorded earlier (post-merge checks, resolution). */
void cfg_diag_src(struct cfg_diags *d, const struct cfg_src *src, bool is_warning, int *err,
		  const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Records node's location and the current path into *src (path is copied). */
void cfg_src_set(struct cfg_loader *l, struct cfg_src *src, const yaml_node_t *at);
void cfg_src_fini(struct cfg_src *src);

/* Returns s double-quoted, non-printable bytes escaped, cut at ~120 bytes. The
 * buffer is reused after four calls. */
const char *cfg_quote(struct cfg_loader *l, const char *s);

/* Stable-sorts d->items[from..] by file, line and column. */
void cfg_diags_sort(struct cfg_diags *d, size_t from);

/* --- path ------------------------------------------------------------------ */

/* Appends ".key" (or "key" at the start or after ':') / "[i]" / a raw string to the
 * path; each returns the previous length for cfg_path_pop(). */
size_t cfg_path_key(struct cfg_loader *l, const char *key);
size_t cfg_path_index(struct cfg_loader *l, size_t i);
size_t cfg_path_raw(struct cfg_loader *l, const char *s);
void cfg_path_pop(struct cfg_loader *l, size_t saved);

/* --- walker ----------------------------------------------------------------- */

/* Checks that node is a mapping and fills vals[0..n) from it per fields[0..n).
 * Every problem is reported; returns 0, or -1 when node is not a mapping (vals are
 * then all absent) or the node budget ran out. */
int cfg_walk_map(struct cfg_loader *l, yaml_node_t *node, const struct cfg_field *fields, size_t n,
		 struct cfg_val *vals);

/* Checks one value against field f as cfg_walk_map() checks a mapping's value
 * (a key whose value may take several shapes checks the shape it has). Fills
 * out->str / out->num; returns false after reporting a problem. */
bool cfg_walk_value(struct cfg_loader *l, const struct cfg_field *f, yaml_node_t *v,
		    struct cfg_val *out);

/* Sequence access for CFG_K_SEQ / CFG_K_STR_LIST values (NULL node: empty). */
size_t cfg_seq_len(const yaml_node_t *seq);
yaml_node_t *cfg_seq_item(struct cfg_loader *l, const yaml_node_t *seq, size_t i);

/* Mapping access for CFG_K_STR_MAP values. */
size_t cfg_map_len(const yaml_node_t *map);
void cfg_map_pair(struct cfg_loader *l, const yaml_node_t *map, size_t i, yaml_node_t **key,
		  yaml_node_t **value);

/* Scalar text of node ("" for a non-scalar). */
const char *cfg_scalar(const yaml_node_t *node);
/* True for a plain "", "~" or "null" scalar. */
bool cfg_is_null(const yaml_node_t *node);
/* Takes one unit of the node budget; false (after one error) when it is spent. */
bool cfg_budget_take(struct cfg_loader *l, const yaml_node_t *at);

/* --- model building ---------------------------------------------------------- */

/* Appends a zeroed element to *arr (of *n elements of size elem); returns it, or
 * NULL with l->err = -ENOMEM. */
void *cfg_push(struct cfg_loader *l, void *arr_ptr, size_t *n, size_t elem);
/* strdup() that records -ENOMEM in l->err. */
char *cfg_strdup(struct cfg_loader *l, const char *s);

/* Free the members of one element (the arrays are freed by config_free()). */
void cfg_route_fini(struct cfg_route *r);
void cfg_listener_fini(struct cfg_listener *l);
void cfg_backend_fini(struct cfg_backend *b);

/* --- converters (run once every file is parsed) ---------------------------------- */

/* Native documents: listeners, routes and the guard. */
void cfg_native_doc(struct cfg_loader *l, yaml_node_t *root);

/* A native route's "proxy_protocol" value v (scalar or mapping) into rt
 * (config_proxy.c). */
void cfg_native_proxy(struct cfg_loader *l, const struct cfg_val *v, struct cfg_route *rt);

/* A native route's "health_check:" and "outlier_detection:" mapping nodes
 * (config_health.c). The health check's default SNI is the route's first
 * exact one, so call it after the route's SNIs are in. */
void cfg_native_health_check(struct cfg_loader *l, struct cfg_route *rt, yaml_node_t *node);
void cfg_native_outlier(struct cfg_loader *l, struct cfg_route *rt, yaml_node_t *node);
/* Istio's outlierDetection defaults, which the native form shares. */
void cfg_outlier_defaults(struct cfg_outlier *o);
/* Sets r's idle timeout, keepalive and user timeout to their defaults (no
 * maximum duration), for both formats. */
void cfg_route_lifetime_defaults(struct cfg_route *r);
/* Milliseconds as the whole seconds a socket option takes, rounded up. */
uint32_t cfg_seconds_up(uint64_t ms);
void cfg_health_check_fini(struct cfg_health_check *hc);

/* The native "guard:" mapping node, its key at key (config_guard.c). Replaces
 * a guard of an earlier layer; a second one in the same layer is an error. */
void cfg_native_guard(struct cfg_loader *l, yaml_node_t *key, yaml_node_t *node);

/* The native "kubernetes:" mapping node (config_kubernetes.c): service_cidr.
 * Replaces one of an earlier layer; a second one in the same layer is an error. */
void cfg_native_kubernetes(struct cfg_loader *l, yaml_node_t *key, yaml_node_t *node);

/* Frees what g owns and zeroes it. */
void cfg_guard_fini(struct cfg_guard *g);

enum cfg_doc_type {
	CFG_DOC_EMPTY = 0,
	CFG_DOC_NATIVE,
	CFG_DOC_GATEWAY,
	CFG_DOC_VIRTUAL_SERVICE,
	CFG_DOC_SERVICE_ENTRY,
	CFG_DOC_DESTINATION_RULE,
	CFG_DOC_WORKLOAD_ENTRY,
	CFG_DOC_GWAPI, /* gateway.networking.k8s.io kinds config_gwapi*.c reads */
	CFG_DOC_OTHER  /* skipped with a warning, or a broken header */
};

/* When list is a `kind: List` document (`apiVersion: v1`), checks it and
 * appends each item to l->docs as a document of its own (file index of list,
 * *index incremented per item), reporting items that are not Kubernetes
 * objects; returns 1, and the caller deletes list. Returns 0 for any other
 * document (config_list.c). */
int cfg_list_split(struct cfg_loader *l, struct cfg_doc *list, unsigned *index);

/* True for the gateway.networking.k8s.io kinds config_gwapi*.c reads. */
bool cfg_gwapi_is_read(const char *api_version, const char *kind);

/* Classifies a document by apiVersion/kind without reporting anything. */
enum cfg_doc_type cfg_doc_type(struct cfg_loader *l, yaml_node_t *root);

/* Runs the checks that span documents and files (config_check.c). */
void cfg_validate(struct cfg_loader *l);

/* Converts every Istio document (all files) into listeners and routes. */
void cfg_istio_build(struct cfg_loader *l);

/* Istio document header (apiVersion, kind, metadata, spec) as the converters see it. */
struct cfg_istio_meta {
	const char *kind;
	const char *name;
	const char *ns; /* "default" when absent */
	yaml_node_t *spec;
	yaml_node_t *selector; /* Gateway spec.selector (unused elsewhere) */
};

/* Walks the header of an Istio document, sets the path prefix "<Kind>/<name>:" and
 * fills *m. Returns 0, or -1 when the document is unusable (reported). */
int cfg_istio_header(struct cfg_loader *l, struct cfg_doc *d, struct cfg_istio_meta *m);

/* Sets l->doc, l->file and l->file_index for walking d. */
void cfg_loader_enter(struct cfg_loader *l, struct cfg_doc *d);

/* ServiceEntries (config_istio_se.c) and DestinationRules (config_istio_dr.c),
 * collected before any VirtualService is converted. */
struct cfg_istio_se;
struct cfg_istio_dr;

/* A Gateway server host: "ns/host" limits which VirtualServices may bind it. */
struct cfg_gw_host {
	char *ns; /* NULL: any namespace ("*" or no "ns/" part) */
	char pattern[HOSTNAME_MAX + 1];
};

/* A PASSTHROUGH server of a loaded Gateway, and the listener serving its port. */
struct cfg_gw_server {
	size_t listener;
	uint16_t port;
	struct cfg_gw_host *hosts;
	size_t n_hosts;
};

struct cfg_gateway {
	const char *ns, *name; /* point into the YAML document */
	struct cfg_gw_server *servers;
	size_t n_servers;
};

/* Istio objects a VirtualService is converted against. */
struct cfg_istio {
	struct cfg_gateway *gws; /* Gateways whose selector matched */
	size_t n_gws;
	struct cfg_istio_se *se;
	struct cfg_istio_dr *dr;
};

/* The listener of all Istio and Gateway API gateways on port: found, or made
 * ("<gw_name>:<port>" on 0.0.0.0, and [::] by the agent). SIZE_MAX on ENOMEM. */
size_t cfg_istio_listener(struct cfg_loader *l, uint16_t port, const char *gw_name,
			  yaml_node_t *node);

/* Gateway API (gateway.networking.k8s.io) Gateways, TLSRoutes and
 * ReferenceGrants into listeners and routes (config_gwapi*.c); is gives the
 * DestinationRules, which Istio applies to Gateway API routes too. */
void cfg_gwapi_build(struct cfg_loader *l, const struct cfg_istio *is);

/* Converts one VirtualService document into routes (config_istio_vs.c). */
void cfg_istio_vs_doc(struct cfg_loader *l, struct cfg_istio *is, struct cfg_doc *d);

/* True when every name pattern b matches is matched by pattern a too
 * ("*" covers all; "*.b.com" covers "x.b.com" and "*.x.b.com", not "b.com"). */
bool cfg_pattern_covers(const char *a, const char *b);

/* The value of key in mapping node map (any node), or NULL. Reports nothing. */
yaml_node_t *cfg_map_get(struct cfg_loader *l, yaml_node_t *map, const char *key);

/* A label map (config_labels.c); the strings point into a YAML document. */
struct cfg_label {
	const char *key, *value;
};
struct cfg_labels {
	struct cfg_label *items;
	size_t n;
};

/* Reads map (a CFG_K_STR_MAP value of the current document; NULL: none) into
 * *out; free(out->items) when done. */
void cfg_labels_read(struct cfg_loader *l, yaml_node_t *map, struct cfg_labels *out);
/* True when every key=value of selector (empty: selects all) is in labels. */
bool cfg_labels_match(const struct cfg_labels *selector, const struct cfg_labels *labels);
/* "k1=v1,k2=v2" in buf (cut at size); returns buf. */
const char *cfg_labels_str(const struct cfg_labels *ls, char *buf, size_t size);

/* An endpoint port by name (ServiceEntry endpoint or WorkloadEntry "ports"). */
struct cfg_named_port {
	const char *name; /* points into the YAML document */
	uint16_t number;
};

/* Reads a "ports" map (name: number; NULL: none) of the current document into
 * ports and n; a number outside 1..65535 is an error at that key. */
void cfg_named_ports_read(struct cfg_loader *l, yaml_node_t *map, struct cfg_named_port **ports,
			  size_t *n);

/* A WorkloadEntry (config_istio_we.c): what a workloadSelector picks from. */
struct cfg_workload {
	const char *ns, *name;	  /* point into the YAML document */
	struct cfg_hostport addr; /* port unused */
	struct cfg_labels labels;
	struct cfg_named_port *ports;
	size_t n_ports;
};

struct cfg_istio_we {
	struct cfg_workload *items;
	size_t n;
};

/* Walks every WorkloadEntry document of the load. NULL on -ENOMEM. */
struct cfg_istio_we *cfg_istio_we_collect(struct cfg_loader *l);
/* NULL-tolerant. */
void cfg_istio_we_free(struct cfg_istio_we *s);

/* Walk every ServiceEntry / DestinationRule document of the load; a
 * ServiceEntry's workloadSelector picks from we. NULL on -ENOMEM. */
struct cfg_istio_se *cfg_istio_se_collect(struct cfg_loader *l, const struct cfg_istio_we *we);
struct cfg_istio_dr *cfg_istio_dr_collect(struct cfg_loader *l);
/* NULL-tolerant. */
void cfg_istio_se_free(struct cfg_istio_se *s);
void cfg_istio_dr_free(struct cfg_istio_dr *s);

/* A ServiceEntry (config_istio_se.c). */
struct cfg_service_entry;

/* Gives b (host and port set) its endpoints: those of the ServiceEntry
 * listing its host, else one naming the host for config_resolve(); node is
 * where to report. False when an error was reported. *from is set to the
 * ServiceEntry when b->endpoints are its endpoints one for one, in order
 * (what a subset selects from), else NULL. */
bool cfg_istio_se_backend(struct cfg_loader *l, const struct cfg_istio_se *s, struct cfg_backend *b,
			  bool port_given, yaml_node_t *node,
			  const struct cfg_service_entry **from);

/* Keeps the endpoints of b (filled by cfg_istio_se_backend() from from) whose
 * labels include all of those of the subset sv names in the DestinationRule
 * for host (normalised), and sets b->subset. Reports at sv (the path must be
 * at the subset field) and returns false when there is no such subset, the
 * endpoints come from DNS (from is NULL), or it selects none. */
bool cfg_istio_se_subset(struct cfg_loader *l, const struct cfg_istio *is, const char *host,
			 const struct cfg_service_entry *from, struct cfg_backend *b,
			 const struct cfg_val *sv);

/* Turns the route[] list of a VirtualService tls route into tmpl->backends: one per
 * destination, weights in percent (checked to add up to 100, or split evenly),
 * endpoints from the ServiceEntry listing the host (port mapped by its ports and the
 * endpoints' port names), else one endpoint naming the host for config_resolve().
 * Returns false when an error was reported (tmpl then only needs freeing). */
bool cfg_istio_destinations(struct cfg_loader *l, const struct cfg_istio *is, yaml_node_t *list,
			    struct cfg_route *tmpl);

/* Appends deep copies of src's backends to dst. */
void cfg_istio_copy_backends(struct cfg_loader *l, struct cfg_route *dst,
			     const struct cfg_route *src);

enum cfg_subset_result {
	CFG_SUBSET_OK = 0,
	CFG_SUBSET_NO_RULE, /* no DestinationRule applies to the host */
	CFG_SUBSET_UNKNOWN, /* the rule has no subset of that name */
};

/* The subset called name of the DestinationRule for host (normalised): its
 * labels in *labels, the rule's namespace and name in *rule_ns, *rule_name
 * (NULL without a rule). */
enum cfg_subset_result cfg_istio_dr_subset(const struct cfg_istio_dr *s, const char *host,
					   const char *name, const struct cfg_labels **labels,
					   const char **rule_ns, const char **rule_name);

/* Applies the DestinationRule of r's destination hosts to r (a destination's
 * subset with a trafficPolicy of its own: that policy); reports at node. */
void cfg_istio_dr_apply(struct cfg_loader *l, const struct cfg_istio_dr *s, struct cfg_route *r,
			yaml_node_t *node);

#endif
