// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* config.c: config lifecycle and loading. A load reads every file into libyaml
 * documents first, then converts them (native, then Istio, which needs all of its
 * kinds at once), then checks what spans documents and files: names, references,
 * bind addresses and SNI overlaps. Any error rejects the whole load. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addr.h"
#include "cfg_value.h"
#include "config_digest.h"
#include "config_yaml.h"

/* Larger inputs are mistakes (a log file, a binary), not configurations. */
#define FILE_MAX_BYTES (16u << 20)

static const char *const default_labels[] = {CFG_DEFAULT_LABEL};

const char *cfg_balance_str(enum cfg_balance b)
{
	static const char *const names[CFG_BALANCE_MAX] = {"round_robin", "least_conn", "random2",
							   "maglev"};

	return b < CFG_BALANCE_MAX ? names[b] : "?";
}

const char *cfg_proxy_protocol_str(enum cfg_proxy_protocol p)
{
	static const char *const names[CFG_PROXY_MAX] = {"off", "v1", "v2"};

	return p < CFG_PROXY_MAX ? names[p] : "?";
}

size_t cfg_route_n_resolved(const struct cfg_route *r)
{
	size_t n = 0;

	for (size_t b = 0; b < r->n_backends; b++) {
		for (size_t e = 0; e < r->backends[b].n_endpoints; e++)
			n += r->backends[b].endpoints[e].is_resolved;
	}
	return n;
}

/* --- lifecycle ------------------------------------------------------------------ */

void cfg_backend_fini(struct cfg_backend *b)
{
	for (size_t i = 0; i < b->n_endpoints; i++)
		free(b->endpoints[i].host);
	free(b->endpoints);
	free(b->host);
	free(b->subset);
	cfg_src_fini(&b->src);
}

void cfg_route_fini(struct cfg_route *r)
{
	for (size_t i = 0; i < r->n_snis; i++) {
		free(r->snis[i].pattern);
		cfg_src_fini(&r->snis[i].src);
	}
	for (size_t i = 0; i < r->n_alpn; i++)
		free(r->alpn[i]);
	for (size_t i = 0; i < r->n_backends; i++)
		cfg_backend_fini(&r->backends[i]);
	free(r->snis);
	free(r->alpn);
	free(r->backends);
	free(r->listeners);
	free(r->dst_subnets);
	cfg_health_check_fini(&r->health_check);
	free(r->name);
	cfg_src_fini(&r->src);
}

static void policy_fini(struct cfg_sni_policy *p)
{
	free(p->route_name);
	cfg_src_fini(&p->src);
}

void cfg_listener_fini(struct cfg_listener *l)
{
	free(l->name);
	policy_fini(&l->no_sni);
	policy_fini(&l->unknown_sni);
	cfg_src_fini(&l->src);
}

void config_free(struct config *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n_listeners; i++)
		cfg_listener_fini(&c->listeners[i]);
	for (size_t i = 0; i < c->n_routes; i++)
		cfg_route_fini(&c->routes[i]);
	cfg_guard_fini(&c->guard);
	cfg_src_fini(&c->resolve_interval_src);
	cfg_src_fini(&c->max_addresses_src);
	cfg_src_fini(&c->service_cidr_src);
	for (size_t i = 0; i < c->n_files; i++)
		free(c->files[i]);
	free(c->listeners);
	free(c->routes);
	free(c->files);
	free(c);
}

/* --- dump --------------------------------------------------------------------------- */

static void dump_policy(FILE *f, const char *what, const struct cfg_sni_policy *p)
{
	fprintf(f, " %s=%s", what, p->action == CFG_POLICY_ROUTE ? p->route_name : "reject");
}

static void dump_health(const struct cfg_route *r, FILE *f)
{
	const struct cfg_health_check *hc = &r->health_check;
	const struct cfg_outlier *o = &r->outlier;

	if (hc->type != CFG_CHECK_NONE) {
		fprintf(f,
			"  health_check %s interval=%ums timeout=%ums jitter=%ums rise=%u fall=%u",
			cfg_check_type_str(hc->type), hc->interval_ms, hc->timeout_ms,
			hc->jitter_ms, hc->rise, hc->fall);
		if (hc->sni)
			fprintf(f, " sni=%s", hc->sni);
		fprintf(f, "\n");
	}
	if (o->consecutive_errors)
		fprintf(f,
			"  outlier_detection consecutive_errors=%u interval=%ums "
			"base_ejection_time=%ums max_ejection_percent=%u\n",
			o->consecutive_errors, o->interval_ms, o->base_ejection_ms,
			o->max_ejection_percent);
}

static void dump_route(const struct config *c, const struct cfg_route *r, FILE *f)
{
	char buf[64];

	fprintf(f,
		"route %s%s balance=%s connect_timeout=%ums connect_retries=%u "
		"proxy_protocol=%s%s max_connections=%u\n",
		r->name, r->is_istio ? " (istio)" : "", cfg_balance_str(r->balance),
		r->connect_timeout_ms, r->connect_retries,
		cfg_proxy_protocol_str(r->proxy_protocol), r->has_proxy_crc32c ? "+crc32c" : "",
		r->max_connections);
	fprintf(f, "  listeners");
	for (size_t i = 0; i < r->n_listeners; i++)
		fprintf(f, " %s", c->listeners[r->listeners[i]].name);
	fprintf(f, "\n");
	for (size_t i = 0; i < r->n_snis; i++)
		fprintf(f, "  sni %s\n", r->snis[i].pattern);
	for (size_t i = 0; i < r->n_alpn; i++)
		fprintf(f, "  alpn %s\n", r->alpn[i]);
	for (size_t i = 0; i < r->n_dst_subnets; i++) {
		const struct cfg_cidr *n = &r->dst_subnets[i];
		char ip[64];

		inet_ntop(n->family, n->addr, ip, sizeof(ip));
		fprintf(f, "  destination_subnet %s/%u\n", ip, n->prefix_len);
	}
	dump_health(r, f);
	for (size_t i = 0; i < r->n_backends; i++) {
		const struct cfg_backend *b = &r->backends[i];
		bool is_v6 = strchr(b->host, ':') != NULL;

		fprintf(f, "  backend %s%s%s:%u weight=%u", is_v6 ? "[" : "", b->host,
			is_v6 ? "]" : "", b->port, b->weight);
		if (b->subset)
			fprintf(f, " subset=%s", b->subset);
		if (b->max_connections)
			fprintf(f, " max_connections=%u", b->max_connections);
		fprintf(f, "\n");
		for (size_t k = 0; k < b->n_endpoints; k++) {
			const struct cfg_endpoint *e = &b->endpoints[k];

			if (e->is_resolved)
				fprintf(f, "    endpoint %s%s%s\n",
					addr_format(&e->addr, buf, sizeof(buf)),
					e->host ? " from " : "", e->host ? e->host : "");
			else
				fprintf(f, "    endpoint %s:%u unresolved\n", e->host, e->port);
		}
	}
}

void config_dump(const struct config *c, FILE *f)
{
	char buf[64];

	for (size_t i = 0; i < c->n_listeners; i++) {
		const struct cfg_listener *ls = &c->listeners[i];

		fprintf(f, "listener %s %s hello_timeout=%ums max_hello_bytes=%u", ls->name,
			addr_format(&ls->addr, buf, sizeof(buf)), ls->hello_timeout_ms,
			ls->max_hello_bytes);
		dump_policy(f, "no_sni", &ls->no_sni);
		dump_policy(f, "unknown_sni", &ls->unknown_sni);
		fprintf(f, "\n");
	}
	for (size_t i = 0; i < c->n_routes; i++)
		dump_route(c, &c->routes[i], f);
	if (c->guard.is_set)
		cfg_guard_dump(&c->guard, f);
	if (c->resolve_interval_src.file)
		fprintf(f, "resolve_interval %ums\n", c->resolve_interval_ms);
	if (c->max_addresses_src.file)
		fprintf(f, "max_addresses_per_name %u\n", c->max_addresses_per_name);
}

/* --- reading ------------------------------------------------------------------------ */

/* Line and column of byte offset in buf: libyaml reader errors carry only the offset. */
static void offset_mark(const char *buf, size_t len, size_t offset, yaml_mark_t *mark)
{
	mark->line = 0;
	mark->column = 0;
	for (size_t i = 0; i < offset && i < len; i++) {
		if (buf[i] == '\n') {
			mark->line++;
			mark->column = 0;
		} else {
			mark->column++;
		}
	}
}

static void syntax_error(struct cfg_loader *l, const yaml_parser_t *p, const char *buf, size_t len)
{
	yaml_node_t at = {.start_mark = p->problem_mark};

	if (p->error == YAML_MEMORY_ERROR) {
		l->err = -ENOMEM;
		return;
	}
	if (p->error == YAML_READER_ERROR) {
		offset_mark(buf, len, p->problem_offset, &at.start_mark);
		cfg_error(l, &at, "invalid YAML input: %s", p->problem ? p->problem : "?");
	} else if (p->context) {
		cfg_error(l, &at, "YAML syntax: %s %s (line %zu, column %zu)",
			  p->problem ? p->problem : "error", p->context, p->context_mark.line + 1,
			  p->context_mark.column + 1);
	} else {
		cfg_error(l, &at, "YAML syntax: %s", p->problem ? p->problem : "error");
	}
}

/* Appends every document of buf to l->docs; stops at the first syntax error. */
static void parse_file(struct cfg_loader *l, const char *buf, size_t len)
{
	yaml_parser_t parser;
	unsigned index = 0;

	if (!yaml_parser_initialize(&parser)) {
		l->err = -ENOMEM;
		return;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	while (l->err == 0) {
		struct cfg_doc *d = calloc(1, sizeof(*d)), **slot;

		if (!d) {
			l->err = -ENOMEM;
			break;
		}
		if (!yaml_parser_load(&parser, &d->yaml)) {
			syntax_error(l, &parser, buf, len);
			free(d);
			break;
		}
		if (!yaml_document_get_root_node(&d->yaml) || !cfg_budget_take(l, NULL)) {
			yaml_document_delete(&d->yaml);
			free(d);
			break;
		}
		d->file_index = l->file_index;
		if (cfg_list_split(l, d, &index)) {
			yaml_document_delete(&d->yaml);
			free(d);
			continue;
		}
		d->index = ++index;
		slot = cfg_push(l, &l->docs, &l->n_docs, sizeof(*slot));
		if (!slot) {
			yaml_document_delete(&d->yaml);
			free(d);
			break;
		}
		*slot = d;
	}
	yaml_parser_delete(&parser);
}

/* Registers name in c->files and makes it the current file. */
static int add_file(struct cfg_loader *l, const char *name)
{
	char **slot = cfg_push(l, &l->c->files, &l->c->n_files, sizeof(*slot));

	unsigned *layer;

	if (!slot || !(*slot = cfg_strdup(l, name)))
		return -ENOMEM;
	layer = cfg_push(l, &l->file_layer, &l->n_file_layer, sizeof(*layer));
	if (!layer)
		return -ENOMEM;
	*layer = l->layer;
	l->file = *slot;
	l->file_index = (unsigned)(l->c->n_files - 1);
	l->doc = NULL;
	cfg_path_pop(l, 0);
	return 0;
}

static int file_error(struct cfg_loader *l, int err, const char *what)
{
	cfg_error(l, NULL, "%s: %s", what, strerror(-err));
	return err;
}

static int read_file(struct cfg_loader *l, const char *path)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	int fd, err = 0;

	if (add_file(l, path))
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return file_error(l, -errno, "cannot open");
	if (fstat(fd, &st) == -1) {
		err = file_error(l, -errno, "cannot stat");
		goto out;
	}
	if (st.st_size > FILE_MAX_BYTES) {
		cfg_error(l, NULL, "larger than %u bytes", FILE_MAX_BYTES);
		err = -EFBIG;
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		err = -ENOMEM;
		goto out;
	}
	while (len < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + len, (size_t)st.st_size - len);

		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			err = file_error(l, -errno, "cannot read");
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	parse_file(l, buf, len);
out:
	free(buf);
	close(fd);
	return err;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reads the YAML files of a directory, in strcmp() order, not recursing. */
static int read_dir(struct cfg_loader *l, const char *dir)
{
	char **names = NULL;
	size_t n = 0;
	struct dirent *e;
	int err = 0;
	DIR *d = opendir(dir);

	if (!d) {
		err = -errno;
		if (add_file(l, dir))
			return -ENOMEM;
		return file_error(l, err, "cannot open directory");
	}
	while ((e = readdir(d))) {
		struct stat st;
		char **slot, *p;

		if (!config_is_yaml_name(e->d_name))
			continue;
		if (asprintf(&p, "%s/%s", dir, e->d_name) < 0) {
			err = -ENOMEM;
			break;
		}
		/* Follow symlinks (Kubernetes ConfigMap mounts are made of them). */
		if (stat(p, &st) == -1 || !S_ISREG(st.st_mode) ||
		    !(slot = cfg_push(l, &names, &n, sizeof(*slot)))) {
			free(p);
			continue;
		}
		*slot = p;
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), str_cmp);
	if (!err && n == 0 && add_file(l, dir) == 0) {
		cfg_error(l, NULL, "no *.yaml or *.yml file in this directory");
		err = -ENOENT;
	}
	for (size_t i = 0; i < n; i++) {
		if (!err)
			err = read_file(l, names[i]);
		free(names[i]);
	}
	free(names);
	return err;
}

static int read_path(struct cfg_loader *l, const char *path)
{
	struct stat st;

	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return read_dir(l, path);
	return read_file(l, path);
}

/* --- loading ------------------------------------------------------------------------ */

static int check_labels(struct cfg_loader *l, const struct cfg_options *o)
{
	l->labels = default_labels;
	l->n_labels = 1;
	l->gateway_class = o && o->gateway_class ? o->gateway_class : CFG_DEFAULT_GATEWAY_CLASS;
	if (!o || !o->n_labels)
		return 0;
	l->labels = o->labels;
	l->n_labels = o->n_labels;
	for (size_t i = 0; i < o->n_labels; i++) {
		const char *eq = strchr(o->labels[i], '=');

		if (!eq || eq == o->labels[i]) {
			cfg_error(l, NULL, "agent label %s is not \"key=value\"",
				  cfg_quote(l, o->labels[i]));
			return -EINVAL;
		}
	}
	return 0;
}

static void convert(struct cfg_loader *l)
{
	for (size_t i = 0; i < l->n_docs && l->err == 0; i++) {
		yaml_node_t *root;

		cfg_loader_enter(l, l->docs[i]);
		root = yaml_document_get_root_node(l->doc);
		if (cfg_doc_type(l, root) == CFG_DOC_NATIVE)
			cfg_native_doc(l, root);
	}
	if (l->err == 0)
		cfg_istio_build(l);
	if (l->err == 0)
		cfg_apply_layers(l);
	l->file = l->c->n_files ? l->c->files[0] : "";
	cfg_path_pop(l, 0);
	if (l->err == 0)
		cfg_validate(l);
}

void cfg_loader_enter(struct cfg_loader *l, struct cfg_doc *d)
{
	l->doc = &d->yaml;
	l->file_index = d->file_index;
	l->file = l->c->files[d->file_index];
	cfg_path_pop(l, 0);
}

static void loader_fini(struct cfg_loader *l)
{
	for (size_t i = 0; i < l->n_docs; i++) {
		yaml_document_delete(&l->docs[i]->yaml);
		free(l->docs[i]);
	}
	free(l->docs);
	for (size_t i = 0; i < l->n_refs; i++) {
		free(l->refs[i].name);
		cfg_src_fini(&l->refs[i].src);
	}
	free(l->refs);
	free(l->file_layer);
}

static int read_input(struct cfg_loader *l, const struct cfg_input *in)
{
	int err;

	if (in->path)
		return read_path(l, in->path);
	err = add_file(l, in->name ? in->name : "<buffer>");
	if (!err)
		parse_file(l, in->buf, in->len);
	return err;
}

int config_load_inputs(const struct cfg_input *in, size_t n, const struct cfg_unload *unload,
		       size_t n_unload, const struct cfg_options *o, struct config **out,
		       struct cfg_diags *diags)
{
	struct cfg_diags local = {0};
	struct cfg_loader l = {.diags = diags ? diags : &local,
			       .budget = CFG_NODE_BUDGET,
			       .unload = unload,
			       .n_unload = n_unload};
	size_t first = l.diags->n, errors = l.diags->n_errors;
	int err = 0;

	*out = NULL;
	l.n_errors_before = errors;
	l.c = calloc(1, sizeof(*l.c));
	if (!l.c)
		return -ENOMEM;
	l.c->resolve_interval_ms = CFG_DEFAULT_RESOLVE_INTERVAL_MS;
	l.c->max_addresses_per_name = CFG_DEFAULT_MAX_ADDRESSES_PER_NAME;
	l.file = "<options>";
	err = check_labels(&l, o);
	for (size_t i = 0; !err && i < n; i++) {
		l.layer += i > 0 && in[i].is_layer;
		err = read_input(&l, &in[i]);
	}
	if (!err && !l.err)
		convert(&l);
	if (!err)
		err = l.err;
	if (!err && l.diags->n_errors > errors)
		err = -EINVAL;
	loader_fini(&l);
	cfg_diags_sort(l.diags, first);
	cfg_diags_free(&local);
	if (err) {
		config_free(l.c);
		return err;
	}
	*out = l.c;
	return 0;
}

int config_load_buf(const char *buf, size_t len, const char *name, const struct cfg_options *o,
		    struct config **out, struct cfg_diags *diags)
{
	struct cfg_input in = {.buf = buf, .len = len, .name = name};

	return config_load_inputs(&in, 1, NULL, 0, o, out, diags);
}

int config_load_path(const char *path, const struct cfg_options *o, struct config **out,
		     struct cfg_diags *diags)
{
	return config_load_paths(&path, 1, o, out, diags);
}

int config_load_paths(const char *const *paths, size_t n, const struct cfg_options *o,
		      struct config **out, struct cfg_diags *diags)
{
	struct cfg_input in[n ? n : 1];

	for (size_t i = 0; i < n; i++)
		in[i] = (struct cfg_input){.path = paths[i]};
	return config_load_inputs(in, n, NULL, 0, o, out, diags);
}

bool cfg_listener_v6_twin(const struct cfg_listener *l, struct sockaddr_storage *twin,
			  socklen_t *len)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&l->addr;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)twin;

	if (!l->is_istio || l->addr.ss_family != AF_INET || sin->sin_addr.s_addr != INADDR_ANY)
		return false;
	memset(twin, 0, sizeof(*twin));
	sin6->sin6_family = AF_INET6;
	sin6->sin6_addr = in6addr_any;
	sin6->sin6_port = sin->sin_port;
	if (len)
		*len = sizeof(*sin6);
	return true;
}
