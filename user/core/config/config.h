/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* config.h: the one configuration model (listeners → routes → backends → endpoints)
 * that both input formats (native YAML and the Istio subset, docs/CONFIG.md) load into.
 * A struct config owns every byte it points to, is built and validated in one call,
 * and is immutable afterwards (config_resolve() is the only later step, done before
 * the model is published). Loading never touches the network; resolving does. */
#ifndef SG_CONFIG_H
#define SG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

/* Defaults of docs/CONFIG.md. A ClientHello may declare a 64 KiB body: with its
 * 4-byte handshake header it needs 5 records of at most 16 KiB, each with a 5-byte
 * record header (docs/ARCHITECTURE.md, section "Life of a connection": peers that
 * cap at 16 KiB broke real users). */
#define CFG_DEFAULT_HELLO_TIMEOUT_MS   10000u
#define CFG_DEFAULT_MAX_HELLO_BYTES    (65536u + 4u + 5u * 5u)
#define CFG_DEFAULT_CONNECT_TIMEOUT_MS 5000u
#define CFG_DEFAULT_CONNECT_RETRIES    2u
#define CFG_DEFAULT_LABEL	       "istio=ingressgateway"
/* Istio's own GatewayClass, served by the same ingress gateway the default
 * label selects. */
#define CFG_DEFAULT_GATEWAY_CLASS "istio"
/* How often endpoint host names are looked up again (Envoy's DNS refresh
 * default is 5 s; names here change rarely, and each change rebuilds the
 * configuration). */
#define CFG_DEFAULT_RESOLVE_INTERVAL_MS 30000u
/* Envoy's tcp_proxy idle_timeout default, which Istio keeps: a pair that moves
 * no byte either way for an hour holds two descriptors for nothing. */
#define CFG_DEFAULT_IDLE_TIMEOUT_MS 3600000u
/* Keepalive finds a peer that vanished without a FIN (power loss, NAT
 * expiry) in time + interval * probes: 6.5 minutes, against the kernel's
 * two hours and more. */
#define CFG_DEFAULT_KEEPALIVE_TIME_S	 300u
#define CFG_DEFAULT_KEEPALIVE_INTERVAL_S 30u
#define CFG_DEFAULT_KEEPALIVE_PROBES	 3u
/* Data unacknowledged this long ends the connection; also bounds how long a
 * peer may keep a zero window (Linux applies it to window probes). */
#define CFG_DEFAULT_USER_TIMEOUT_MS 300000u
/* Every address of a name becomes an endpoint and a health-check target: a
 * name that answers thousands must not become thousands of them. */
#define CFG_DEFAULT_MAX_ADDRESSES_PER_NAME 64u
/* Connections of one listener still waiting for their ClientHello: the bound
 * on what idle or slow clients can hold of the agent there. */
#define CFG_DEFAULT_MAX_PENDING_HELLOS 1024u
#define CFG_DEFAULT_DEFER_ACCEPT_MS    1000u

enum cfg_balance {
	CFG_BALANCE_ROUND_ROBIN = 0, /* smooth weighted round robin */
	CFG_BALANCE_LEAST_CONN,
	CFG_BALANCE_RANDOM2, /* power of two random choices */
	CFG_BALANCE_MAGLEV,  /* consistent hash on the client address */
	CFG_BALANCE_MAX
};

enum cfg_proxy_protocol { CFG_PROXY_OFF = 0, CFG_PROXY_V1, CFG_PROXY_V2, CFG_PROXY_MAX };

enum cfg_policy {
	CFG_POLICY_REJECT = 0, /* close the connection */
	CFG_POLICY_ROUTE,      /* hand it to cfg_sni_policy.route */
	CFG_POLICY_MAX
};

/* Where a model element was written, for messages long after loading. */
struct cfg_src {
	const char *file; /* points into config.files */
	unsigned file_index;
	unsigned line, column; /* 1-based; 0 when unknown */
	char *path;	       /* "routes[2].backends[0]" or "VirtualService/vs:spec.tls[0]" */
};

struct cfg_sni_policy {
	enum cfg_policy action;
	char *route_name; /* CFG_POLICY_ROUTE: as written */
	size_t route;	  /* CFG_POLICY_ROUTE: index into config.routes */
	struct cfg_src src;
};

struct cfg_listener {
	char *name;
	struct sockaddr_storage addr; /* bind address, port included */
	socklen_t addr_len;
	uint16_t port;
	uint32_t hello_timeout_ms;
	uint32_t max_hello_bytes;
	uint32_t max_pending_hellos;	   /* connections in the hello phase at once */
	uint32_t defer_accept_ms;	   /* TCP_DEFER_ACCEPT, whole seconds; 0: off */
	struct cfg_sni_policy no_sni;	   /* ClientHello without server_name */
	struct cfg_sni_policy unknown_sni; /* server_name that no route matches */
	bool is_istio;			   /* made from a Gateway server */
	struct cfg_src src;
};

/* An Istio Gateway names a port, not an address: its 0.0.0.0 listener is
 * served on [::] of the same port too, where the host has IPv6. Fills twin
 * (and *len when not NULL) and returns true for such a listener. */
bool cfg_listener_v6_twin(const struct cfg_listener *l, struct sockaddr_storage *twin,
			  socklen_t *len);

struct cfg_sni {
	char *pattern; /* hostname_pattern_normalize()d: "a.b.com", "*.b.com" or "*" */
	bool is_wildcard;
	struct cfg_src src;
};

/* An IPv4 or IPv6 prefix (Istio destinationSubnets). */
struct cfg_cidr {
	sa_family_t family; /* AF_INET or AF_INET6 */
	uint8_t prefix_len;
	uint8_t addr[16]; /* network byte order; bits past prefix_len are zero */
};

/* Active health check of a route's endpoints (docs/CONFIG.md, "Health"). */
enum cfg_check_type {
	CFG_CHECK_NONE = 0,
	CFG_CHECK_TCP, /* the connect succeeds */
	CFG_CHECK_TLS, /* a ClientHello with the check's SNI is answered by a ServerHello */
	CFG_CHECK_MAX
};

struct cfg_health_check {
	enum cfg_check_type type;
	uint32_t interval_ms, timeout_ms;
	uint32_t jitter_ms;  /* each interval is interval_ms + a random 0..jitter_ms */
	uint32_t rise, fall; /* consecutive results that bring an endpoint up / down */
	char *sni;	     /* TLS: the server name sent; NULL: none */
	struct cfg_src src;
};

/* Passive outlier detection (Istio outlierDetection): consecutive connect
 * failures eject an endpoint for base_ejection_ms times its ejection count. */
struct cfg_outlier {
	uint32_t consecutive_errors; /* 0: off */
	uint32_t interval_ms;	     /* how often ejections end and counts decay */
	uint32_t base_ejection_ms;
	uint32_t max_ejection_percent; /* of the route's endpoints; at least one */
};

#define CFG_DEFAULT_CHECK_INTERVAL_MS 5000u
#define CFG_DEFAULT_CHECK_TIMEOUT_MS  2000u
#define CFG_DEFAULT_CHECK_RISE	      2u
#define CFG_DEFAULT_CHECK_FALL	      3u
/* Istio's defaults. */
#define CFG_DEFAULT_OUTLIER_ERRORS	      5u
#define CFG_DEFAULT_OUTLIER_INTERVAL_MS	      10000u
#define CFG_DEFAULT_OUTLIER_EJECTION_MS	      30000u
#define CFG_DEFAULT_OUTLIER_MAX_EJECT_PERCENT 10u

struct cfg_endpoint {
	char *host;    /* DNS name this endpoint comes from (re-resolve it); NULL for a literal */
	uint16_t port; /* port to connect to */
	bool is_resolved;
	struct sockaddr_storage addr; /* is_resolved: the address, port included */
	socklen_t addr_len;
};

struct cfg_backend {
	char *host;    /* as written: IP literal or DNS name */
	uint16_t port; /* as written (the Istio destination port) */
	/* Relative weight. Native: 1..1000000. Istio: percent 0..100 summing to 100 per
	 * route; 0 means the backend never gets new connections (a 100/0 canary). */
	uint32_t weight;
	uint32_t max_connections; /* per endpoint, agent-wide; 0: unlimited */
	/* Istio destination subset: endpoints holds only the ones its labels
	 * select; NULL: every endpoint of host. */
	char *subset;
	struct cfg_endpoint *endpoints; /* may be empty: nothing to connect to yet */
	size_t n_endpoints;
	struct cfg_src src;
};

struct cfg_route {
	char *name;
	bool is_istio;
	/* Listeners whose ClientHellos this route's SNI patterns match: indices into
	 * config.listeners, ascending, no duplicates. */
	size_t *listeners;
	size_t n_listeners;
	struct cfg_sni *snis; /* may be empty: then only a listener policy reaches it */
	size_t n_snis;
	char **alpn; /* the ClientHello must offer one of these; empty: no constraint */
	size_t n_alpn;
	/* The local address the client connected to must be in one of these (Istio
	 * destinationSubnets); empty: no constraint. */
	struct cfg_cidr *dst_subnets;
	size_t n_dst_subnets;
	enum cfg_balance balance;
	uint32_t connect_timeout_ms;
	uint32_t connect_retries; /* further endpoints tried after the first fails */
	uint32_t max_connections; /* 0: unlimited */
	enum cfg_proxy_protocol proxy_protocol;
	bool has_proxy_crc32c; /* CFG_PROXY_V2: append the PP2_TYPE_CRC32C TLV */
	struct cfg_health_check health_check;
	struct cfg_outlier outlier;
	/* Envoy's panic threshold (Istio minHealthPercent): below this percentage
	 * of healthy endpoints, health no longer excludes any; 0: never. */
	uint32_t min_health_percent;
	/* A pair that moves no byte either way this long is ended; 0: never. */
	uint32_t idle_timeout_ms;
	/* A pair is ended this long after its accept, busy or not; 0: never. */
	uint32_t max_connection_duration_ms;
	/* SO_KEEPALIVE on both legs: idle seconds before the first probe (0: no
	 * keepalive), seconds between probes, unanswered probes that end it. */
	uint32_t keepalive_time_s, keepalive_interval_s, keepalive_probes;
	uint32_t user_timeout_ms;     /* TCP_USER_TIMEOUT on both legs; 0: the kernel's */
	struct cfg_backend *backends; /* at least one */
	size_t n_backends;
	struct cfg_src src;
};

/* A deny or allow entry of the guard, and where it was written. */
struct cfg_guard_rule {
	struct cfg_cidr cidr;
	struct cfg_src src;
};

/* The XDP guard (docs/CONFIG.md, "guard"): which interfaces it is attached
 * to and the policies it starts with. is_set is false without a guard: key. */
struct cfg_guard {
	bool is_set;
	char **interfaces; /* network interface names, distinct */
	size_t n_interfaces;
	struct cfg_guard_rule *deny, *allow; /* distinct within a list */
	size_t n_deny, n_allow;
	uint32_t syn_per_second; /* new connections per source; 0: no limit */
	uint32_t syn_burst;	 /* SYNs an idle source may send at once */
	struct cfg_src src;
};

/* Every heap member of these structs is deep-copied by config_clone()
 * (config_clone.c); a new one must be added there too (test_config_clone.c
 * clones and frees every good configuration under ASan). */
struct config {
	struct cfg_guard guard;
	uint32_t resolve_interval_ms;	     /* re-resolve endpoint host names this often */
	struct cfg_src resolve_interval_src; /* where it was set; file NULL: the default */
	uint32_t max_addresses_per_name;     /* endpoints one host name may become */
	struct cfg_src max_addresses_src;    /* where it was set; file NULL: the default */
	/* kubernetes.service_cidr: the cluster's ClusterIP range, for the
	 * --check warning (config_services.c); set when its src.file is. */
	struct cfg_cidr service_cidr;
	struct cfg_src service_cidr_src;
	struct cfg_listener *listeners;
	size_t n_listeners;
	struct cfg_route *routes;
	size_t n_routes;
	char **files; /* every file read, in order; cfg_src.file points here */
	size_t n_files;
};

struct cfg_options {
	/* Agent labels "key=value" a Gateway selector is matched against; when
	 * n_labels == 0 the labels are { CFG_DEFAULT_LABEL }. */
	const char *const *labels;
	size_t n_labels;
	/* The gatewayClassName of the Gateway API Gateways to serve; NULL:
	 * CFG_DEFAULT_GATEWAY_CLASS. */
	const char *gateway_class;
};

struct cfg_diag {
	char *file;
	unsigned line, column; /* 1-based; 0 when the message is about the whole file */
	char *path;	       /* may be "" (YAML syntax errors, whole-file messages) */
	char *message;
	bool is_warning;
	unsigned file_index; /* position of file among those loaded; orders the list */
};

struct cfg_diags {
	struct cfg_diag *items;
	size_t n;
	size_t n_errors;
	size_t n_dropped; /* beyond CFG_DIAGS_MAX; still counted in n_errors */
	/* Facts, not problems: "file:line:column: path: message" lines such as
	 * where a Gateway API route attached (sockgated --check prints them).
	 * Not printed by cfg_diags_print(); freed by cfg_diags_free(). */
	char **notes;
	size_t n_notes;
};

#define CFG_DIAGS_MAX 1000

/* Frees the messages in d and zeroes it so it can be reused. NULL-tolerant. */
void cfg_diags_free(struct cfg_diags *d);

/* Writes one line per diagnostic: "file:line:column: path: message", warnings as
 * "file:line:column: path: warning: message"; an empty path and its ": " are left
 * out, as is ":line:column" when line is 0. Returns 0 or -EIO. */
int cfg_diags_print(const struct cfg_diags *d, FILE *f);

/* Parses the YAML in buf[0..len) (any number of documents, native and Istio mixed)
 * into a new validated model. name is the file name used in diagnostics. o may be
 * NULL (default labels). Diagnostics are appended to diags (zero-initialise it; may
 * be NULL), sorted by file, line and column. Returns 0 and sets *out, or a negative
 * errno with *out = NULL: -EINVAL when any error was reported (the whole input is
 * rejected), -ENOMEM. No I/O. */
int config_load_buf(const char *buf, size_t len, const char *name, const struct cfg_options *o,
		    struct config **out, struct cfg_diags *diags);

/* Like config_load_buf() for a file, or for a directory whose *.yaml and *.yml
 * entries (not starting with '.') are read in strcmp() order. A file that cannot be
 * read is reported in diags and its -errno returned (-ENOENT for a directory without
 * such a file, -EFBIG for a file over 16 MiB). */
int config_load_path(const char *path, const struct cfg_options *o, struct config **out,
		     struct cfg_diags *diags);

/* Loads several files or directories into one model, as if they were one input:
 * names and cross-references (policies, listeners, Istio gateways, ServiceEntry
 * hosts) are resolved across all of them. Same return contract. */
int config_load_paths(const char *const *paths, size_t n, const struct cfg_options *o,
		      struct config **out, struct cfg_diags *diags);

/* One input of config_load_inputs(): a file or directory, or a buffer. */
struct cfg_input {
	const char *path; /* file or directory; NULL: the buffer below */
	const char *buf;
	size_t len;
	const char *name; /* the buffer's file name in diagnostics */
	/* Starts a new layer (not for the first input): a listener or route this
	 * layer defines replaces an earlier layer's one of the same name, where
	 * within one layer the same name twice is an error. sockgate load. */
	bool is_layer;
};

/* Drops the route called name that a layer before before_layer defined: an
 * unload done after those layers were loaded, so later ones may bring it back. */
struct cfg_unload {
	const char *name;
	unsigned before_layer;
};

/* Loads inputs as one, as config_load_paths() does, applying the layers of
 * struct cfg_input (numbered from 0, each is_layer input starting the next),
 * then unload[0..n_unload) (names no route has are ignored: the caller checks
 * them first). What still refers to a dropped route (a listener policy) is an
 * error as usual. Same return contract as config_load_buf(). */
int config_load_inputs(const struct cfg_input *in, size_t n, const struct cfg_unload *unload,
		       size_t n_unload, const struct cfg_options *o, struct config **out,
		       struct cfg_diags *diags);

/* What config_resolve_with() learned about one host name. */
enum cfg_lookup_result {
	CFG_LOOKUP_OK = 0,  /* addresses */
	CFG_LOOKUP_FAILED,  /* no address, for a reason: a warning */
	CFG_LOOKUP_PENDING, /* not looked up yet: no warning, the caller looks it up later */
	CFG_LOOKUP_NOMEM,
	CFG_LOOKUP_MAX
};

struct dns_addr; /* dns_cache.h */

/* How config_resolve_with() finds the addresses of a host name. */
struct cfg_lookup {
	/* CFG_LOOKUP_OK: *addrs[0..*n), n >= 1, valid until the next call;
	 * CFG_LOOKUP_FAILED: *why, valid as long. */
	enum cfg_lookup_result (*lookup)(void *arg, const char *host, const struct dns_addr **addrs,
					 size_t *n, const char **why);
	void *arg;
};

/* Gives every endpoint that comes from a host name the addresses lk has for
 * it now. Per backend, literal endpoints stay; each (host, port) takes one
 * endpoint per address, the first c->max_addresses_per_name of them in
 * dns_addrs_normalize() order (a longer answer is a warning), each keeping host, in place of the endpoints it had
 * (so a resolved model can be resolved again). A name lk fails is a warning in
 * diags and becomes one unresolved endpoint, to be retried later; a pending
 * one too, without a warning. Call before the model is published. Returns 0
 * or -ENOMEM (c stays valid, some backends with their new addresses). */
int config_resolve_with(struct config *c, const struct cfg_lookup *lk, struct cfg_diags *diags);

/* config_resolve_with() with the system resolver (/etc/hosts, DNS; blocking:
 * dns_lookup.h). Names under ".invalid" (RFC 6761) fail at once. */
int config_resolve(struct config *c, struct cfg_diags *diags);

/* Warns (into diags) about every endpoint name under a Kubernetes Service
 * (".svc", ".svc.cluster.local") that resolved to exactly one address: most
 * likely a ClusterIP Service, which hides its pods behind one address
 * (config_services.c). Call on a resolved model; returns how many warnings. */
size_t config_services_warn(const struct config *c, struct cfg_diags *diags);

/* The distinct endpoint host names of c, in strcmp() order: *names is
 * malloc()ed (free() it) and points into c. 0 or -ENOMEM. */
int config_hostnames(const struct config *c, const char ***names, size_t *n);

/* A deep copy of c, sharing nothing with it. NULL on ENOMEM. */
struct config *config_clone(const struct config *c);

/* Frees c and everything it owns. NULL-tolerant. */
void config_free(struct config *c);

/* Writes a human-readable listing of listeners, routes, backends and endpoints. */
void config_dump(const struct config *c, FILE *f);

/* Writes the guard: its interfaces, SYN limit and rules, one per line. */
void cfg_guard_dump(const struct cfg_guard *g, FILE *f);

/* Names for the enums above ("round_robin", "v2", ...), as written in native YAML. */
const char *cfg_balance_str(enum cfg_balance b);
const char *cfg_proxy_protocol_str(enum cfg_proxy_protocol p);
const char *cfg_check_type_str(enum cfg_check_type t);

/* Endpoints of route r that have an address (the ones a pool may pick). */
size_t cfg_route_n_resolved(const struct cfg_route *r);

#endif
