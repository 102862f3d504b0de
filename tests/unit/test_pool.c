// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* test_pool.c: smooth weighted round robin and retry-elsewhere. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <string.h>

#include "pool.h"

static struct cfg_endpoint eps[4][3];
static struct cfg_backend backends[4];
static struct cfg_route route;

/* n backends with the given weights, each with n_eps resolved endpoints. */
static void make_route(size_t n, const uint32_t *weights, size_t n_eps)
{
	memset(eps, 0, sizeof(eps));
	memset(backends, 0, sizeof(backends));
	memset(&route, 0, sizeof(route));
	for (size_t b = 0; b < n; b++) {
		for (size_t e = 0; e < n_eps; e++) {
			struct sockaddr_in *sin = (struct sockaddr_in *)&eps[b][e].addr;

			sin->sin_family = AF_INET;
			sin->sin_addr.s_addr = htonl(0x0a000000u + (uint32_t)(b * 16 + e));
			sin->sin_port = htons(443);
			eps[b][e].is_resolved = true;
			eps[b][e].port = 443;
		}
		backends[b].weight = weights[b];
		backends[b].endpoints = eps[b];
		backends[b].n_endpoints = n_eps;
	}
	route.backends = backends;
	route.n_backends = n;
}

Test(pool, weighted_shares_are_exact_over_whole_cycles_and_spread_evenly)
{
	const uint32_t w[] = {5, 1, 1};
	size_t counts[3] = {0}, run = 0, longest_run = 0;
	struct pool *p;
	uint32_t last = 99;

	make_route(3, w, 1);
	p = pool_new(&route, 1);
	cr_assert_not_null(p);
	for (int i = 0; i < 7000; i++) {
		struct pool_choice c;

		cr_assert(pool_pick(p, NULL, NULL, 0, &c));
		counts[c.backend]++;
		run = c.backend == last ? run + 1 : 1;
		longest_run = run > longest_run ? run : longest_run;
		last = c.backend;
	}
	cr_assert_eq(counts[0], 5000);
	cr_assert_eq(counts[1], 1000);
	cr_assert_eq(counts[2], 1000);
	/* Smooth WRR interleaves 5:1:1 as {a,a,b,a,c,a,a}: at most 4 a's in a row,
	 * across a cycle boundary. Plain WRR sends {a,a,a,a,a,b,c}: 5 in a row. */
	cr_assert_leq(longest_run, 4, "longest run of one backend: %zu", longest_run);
	pool_free(p);
}

Test(pool, endpoints_of_one_backend_rotate)
{
	const uint32_t w[] = {1};
	size_t counts[3] = {0};
	struct pool *p;

	make_route(1, w, 3);
	p = pool_new(&route, 1);
	for (int i = 0; i < 300; i++) {
		struct pool_choice c;

		cr_assert(pool_pick(p, NULL, NULL, 0, &c));
		counts[c.endpoint]++;
	}
	cr_assert_eq(counts[0], 100);
	cr_assert_eq(counts[1], 100);
	cr_assert_eq(counts[2], 100);
	pool_free(p);
}

Test(pool, retry_never_repeats_a_tried_endpoint_and_ends_when_all_are_tried)
{
	const uint32_t w[] = {1, 1};
	struct pool_choice tried[4];
	struct pool *p;
	size_t n = 0;

	make_route(2, w, 2);
	p = pool_new(&route, 1);
	while (n < 4) {
		struct pool_choice c;

		cr_assert(pool_pick(p, NULL, tried, n, &c), "pick %zu failed", n);
		for (size_t i = 0; i < n; i++)
			cr_assert(
				!(tried[i].backend == c.backend && tried[i].endpoint == c.endpoint),
				"endpoint %u/%u picked twice", c.backend, c.endpoint);
		tried[n++] = c;
	}
	/* The second pick already moves to the other backend. */
	cr_assert_neq(tried[0].backend, tried[1].backend);
	{
		struct pool_choice c;

		cr_assert(!pool_pick(p, NULL, tried, n, &c));
	}
	pool_free(p);
}

Test(pool, zero_weight_and_unresolved_endpoints_are_never_picked)
{
	const uint32_t w[] = {0, 1, 1};
	struct pool *p;

	make_route(3, w, 1);
	eps[2][0].is_resolved = false;
	p = pool_new(&route, 1);
	for (int i = 0; i < 50; i++) {
		struct pool_choice c;

		cr_assert(pool_pick(p, NULL, NULL, 0, &c));
		cr_assert_eq(c.backend, 1);
	}
	eps[1][0].is_resolved = false;
	{
		struct pool_choice c;

		cr_assert(!pool_pick(p, NULL, NULL, 0, &c), "nothing is usable");
	}
	pool_free(p);
}

/* least_conn and random2 read connections through this. */
static uint32_t fake_active[4][3];

static uint32_t active_of(void *arg, uint32_t b, uint32_t e)
{
	(void)arg;
	return fake_active[b][e];
}

Test(pool, least_conn_picks_the_lowest_load_per_weight)
{
	const uint32_t w[] = {1, 2, 1};
	struct pool_hint hint = {.active = active_of};
	struct pool_choice c;
	struct pool *p;

	make_route(3, w, 1);
	route.balance = CFG_BALANCE_LEAST_CONN;
	p = pool_new(&route, 1);
	cr_assert_not_null(p);
	memset(fake_active, 0, sizeof(fake_active));
	fake_active[0][0] = 3;
	fake_active[1][0] = 4; /* 4 / weight 2 = 2 per unit: the lightest */
	fake_active[2][0] = 3;
	cr_assert(pool_pick(p, &hint, NULL, 0, &c));
	cr_assert_eq(c.backend, 1);
	/* Tried endpoints are skipped even when lightest. */
	cr_assert(pool_pick(p, &hint, &c, 1, &c));
	cr_assert_neq(c.backend, 1);
	pool_free(p);
}

Test(pool, least_conn_takes_turns_among_equal_loads)
{
	const uint32_t w[] = {1, 1, 1};
	struct pool_hint hint = {.active = active_of};
	size_t counts[3] = {0};
	struct pool *p;

	make_route(3, w, 1);
	route.balance = CFG_BALANCE_LEAST_CONN;
	p = pool_new(&route, 1);
	memset(fake_active, 0, sizeof(fake_active));
	for (int i = 0; i < 300; i++) {
		struct pool_choice c;

		cr_assert(pool_pick(p, &hint, NULL, 0, &c));
		counts[c.backend]++;
	}
	for (size_t b = 0; b < 3; b++)
		cr_assert_eq(counts[b], 100, "backend %zu got %zu of 300", b, counts[b]);
	pool_free(p);
}

Test(pool, random2_follows_weights_within_3_percent_when_idle)
{
	const uint32_t w[] = {3, 1};
	struct pool_hint hint = {.active = active_of};
	size_t counts[2] = {0};
	struct pool *p;

	make_route(2, w, 2);
	route.balance = CFG_BALANCE_RANDOM2;
	p = pool_new(&route, 12345);
	memset(fake_active, 0, sizeof(fake_active));
	for (int i = 0; i < 100000; i++) {
		struct pool_choice c;

		cr_assert(pool_pick(p, &hint, NULL, 0, &c));
		counts[c.backend]++;
	}
	/* Idle endpoints tie, so the first draw stands: shares follow weights. */
	cr_assert(counts[0] > 75000 - 3000 && counts[0] < 75000 + 3000, "heavy got %zu", counts[0]);
	pool_free(p);
}

Test(pool, random2_prefers_the_lighter_of_its_two_draws)
{
	const uint32_t w[] = {1, 1};
	struct pool_hint hint = {.active = active_of};
	size_t to_busy = 0;
	struct pool *p;

	make_route(2, w, 1);
	route.balance = CFG_BALANCE_RANDOM2;
	p = pool_new(&route, 99);
	memset(fake_active, 0, sizeof(fake_active));
	fake_active[0][0] = 50;
	for (int i = 0; i < 10000; i++) {
		struct pool_choice c;

		cr_assert(pool_pick(p, &hint, NULL, 0, &c));
		to_busy += c.backend == 0;
	}
	/* Only a draw of the busy endpoint twice picks it: 1/4 of picks. */
	cr_assert(to_busy > 2500 - 300 && to_busy < 2500 + 300, "busy got %zu", to_busy);
	pool_free(p);
}

Test(pool, maglev_keeps_a_key_on_one_endpoint_and_retries_elsewhere)
{
	const uint32_t w[] = {1, 1, 1};
	struct pool_choice first, again, retry;
	struct pool_hint hint = {.key = 0xfeedface};
	struct pool *p, *q;

	make_route(3, w, 2);
	route.balance = CFG_BALANCE_MAGLEV;
	p = pool_new(&route, 1);
	q = pool_new(&route, 2); /* another pool of the same route: a reload */
	cr_assert_not_null(p);
	cr_assert(pool_pick(p, &hint, NULL, 0, &first));
	for (int i = 0; i < 100; i++) {
		cr_assert(pool_pick(p, &hint, NULL, 0, &again));
		cr_assert(again.backend == first.backend && again.endpoint == first.endpoint);
	}
	cr_assert(pool_pick(q, &hint, NULL, 0, &again));
	cr_assert(again.backend == first.backend && again.endpoint == first.endpoint,
		  "a rebuilt pool maps the key elsewhere");
	cr_assert(pool_pick(p, &hint, &first, 1, &retry));
	cr_assert(retry.backend != first.backend || retry.endpoint != first.endpoint);
	pool_free(p);
	pool_free(q);
}

/* usable(): endpoint 0 of every backend is out (down, drained or full). */
static bool only_second_endpoints(void *arg, uint32_t b, uint32_t e)
{
	(void)b;
	(*(unsigned *)arg)++;
	return e != 0;
}

static bool none_usable(void *arg, uint32_t b, uint32_t e)
{
	(void)arg;
	(void)b;
	(void)e;
	return false;
}

Test(pool, every_algorithm_skips_what_the_hint_calls_unusable)
{
	const uint32_t w[] = {3, 1};

	for (int alg = 0; alg < CFG_BALANCE_MAX; alg++) {
		unsigned calls = 0;
		struct pool_hint hint = {.usable = only_second_endpoints, .arg = &calls};
		struct pool_hint dead = {.usable = none_usable};
		unsigned per_backend[2] = {0};
		struct pool_choice c;
		struct pool *p;

		make_route(2, w, 2);
		route.balance = (enum cfg_balance)alg;
		p = pool_new(&route, 7);
		cr_assert_not_null(p);
		for (uint64_t i = 0; i < 400; i++) {
			hint.key = i * 0x9e3779b97f4a7c15ull;
			cr_assert(pool_pick(p, &hint, NULL, 0, &c), "%s", cfg_balance_str(alg));
			cr_assert_eq(c.endpoint, 1, "%s picked an unusable endpoint",
				     cfg_balance_str(alg));
			per_backend[c.backend]++;
		}
		cr_assert_gt(calls, 0);
		/* least_conn weighs loads, and nothing is open here: turns. */
		if (alg != CFG_BALANCE_LEAST_CONN)
			cr_assert_gt(per_backend[0], per_backend[1],
				     "%s: the weights still apply among the usable endpoints",
				     cfg_balance_str(alg));
		cr_assert_not(pool_pick(p, &dead, NULL, 0, &c), "%s: nothing usable",
			      cfg_balance_str(alg));
		pool_free(p);
	}
}
