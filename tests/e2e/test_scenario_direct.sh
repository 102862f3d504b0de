#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Baseline of the reference scenario (tests/data/scenario; docs/ARCHITECTURE.md, section
# "The reference scenario") with no proxy: the gateway namespace only forwards IP.
# The user's NGINX with the user's certificates runs
# in the backend namespace; the user's curl check and an openssl s_client check pass from
# the client namespace over IPv4 and IPv6 while forwarding is on, and fail while it is off.
# This proves the harness, and that the gateway is the only path, so the proxy tests (which
# replace forwarding with sockgated on the gateway) mean something.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT

e2e_require_root
e2e_require_cmd curl openssl nginx sed diff

WELCOME='Welcome to aliyun.com without TLS Termination!'
NAME=sample.aliyun.com

e2e_topology_up
e2e_certs
be_dir=$(e2e_tmpdir nginx-be)
e2e_nginx_backend "$SG_NS_BE" "$BE_IP,$BE_IP6" 443 "$be_dir"
access_log=$be_dir/logs/access.log

# The user's server certificate has no subjectAltName: this run shows whether curl still
# matches the name against the CN (curl 7.88 + OpenSSL 3 does).
cert_text=$(openssl x509 -in "$SG_E2E_CERTS/sample.aliyun.com.crt" -noout -text)
e2e_assert_contains "$cert_text" "Subject: CN = $NAME" "server certificate CN is $NAME"
e2e_assert_not_contains "$cert_text" "Subject Alternative Name" \
	"server certificate has no SAN (CN-only, as the user makes it)"

# curl_from NS IP [CURL OPTIONS...]: the user's check, against IP, from NS.
# Prints curl's stdout; curl's stderr goes to $SG_E2E_TMP/curl.err.
curl_from() {
	local ns=$1 ip=$2
	shift 2
	e2e_exec "$ns" curl -sS --max-time 10 --connect-timeout 3 --cacert "$SG_CA" \
		--resolve "$NAME:443:$ip" "$@" \
		"https://$NAME" 2>"$SG_E2E_TMP/curl.err"
}

# expect_unreachable IP LABEL: the user's check from the client fails to connect.
expect_unreachable() {
	local out rc=0 err
	out=$(curl_from "$SG_NS_CLI" "$1") || rc=$?
	err=$(cat "$SG_E2E_TMP/curl.err")
	e2e_assert_eq "" "$out" "$2: no response while the gateway does not forward"
	# 7: connection refused/unreachable; 28: connect timed out (IPv6 drops silently).
	case $rc in
	7 | 28) printf 'ok - %s: curl cannot connect (exit %s: %s)\n' "$2" "$rc" "$err" ;;
	*) e2e_fail "$2: expected curl exit 7 or 28 (no path), got $rc: $err" ;;
	esac
}

# log_count_is IP N: the access log holds N lines of a "GET /" answered 200 with the
# 46-byte welcome, from IP. wait_log_count IP N: nginx writes the line after answering, so
# poll (bounded).
log_count_is() { [ "$(grep -c -E "^$1 - - \[.*\]  200 \"GET / HTTP/1.1\" 46 " \
	"$access_log")" -eq "$2" ]; }
wait_log_count() {
	e2e_poll 10 log_count_is "$1" "$2" ||
		e2e_fail "access log: expected $2 'GET / 200 46' lines from $1, log is: $(cat "$access_log")"
	printf 'ok - backend logged %s request(s) from %s\n' "$2" "$1"
}

# --- 1. forwarding off (the default): the gateway is a dead end --------------------------
expect_unreachable "$BE_IP" "IPv4, forwarding off"
expect_unreachable "[$BE_IP6]" "IPv6, forwarding off"

# ... though the backend is up and reachable from the gateway itself (where a proxy runs).
out=$(curl_from "$SG_NS_GW" "$BE_IP")
e2e_assert_eq "$WELCOME" "$out" "from the gateway, IPv4: the backend answers"
out=$(curl_from "$SG_NS_GW" "[$BE_IP6]")
e2e_assert_eq "$WELCOME" "$out" "from the gateway, IPv6: the backend answers"
wait_log_count "$GW_IP_BE" 1
wait_log_count "$GW_IP6_BE" 1
if ! log_count_is "$CLI_IP" 0 || ! log_count_is "$CLI_IP6" 0; then
	e2e_fail "backend logged a request from the client while forwarding was off"
fi

# --- 2. forwarding on: the user's checks pass, end to end --------------------------------
e2e_gw_forwarding on

out=$(curl_from "$SG_NS_CLI" "$BE_IP")
e2e_assert_eq "$WELCOME" "$out" "IPv4: curl --cacert aliyun.root.crt --resolve $NAME:443:$BE_IP"
out=$(curl_from "$SG_NS_CLI" "[$BE_IP6]")
e2e_assert_eq "$WELCOME" "$out" "IPv6: curl --cacert aliyun.root.crt --resolve $NAME:443:[$BE_IP6]"
# The backend sees the client's own addresses: plain routing, no NAT, no proxy.
wait_log_count "$CLI_IP" 1
wait_log_count "$CLI_IP6" 1

# Name resolution through the namespace's hosts file instead of --resolve.
e2e_hosts_file "$SG_NS_CLI" "$NAME" "$BE_IP"
out=$(e2e_exec "$SG_NS_CLI" curl -sS --max-time 10 --cacert "$SG_CA" "https://$NAME")
e2e_assert_eq "$WELCOME" "$out" "IPv4: $NAME from /etc/netns/$SG_NS_CLI/hosts"
wait_log_count "$CLI_IP" 2

# Verification is real: NGINX's server_name is not in the certificate, and the public CA
# store does not know the user's root.
rc=0
e2e_exec "$SG_NS_CLI" curl -sS --max-time 10 --cacert "$SG_CA" \
	--resolve "www.aliyun.com:443:$BE_IP" https://www.aliyun.com \
	>/dev/null 2>"$SG_E2E_TMP/curl.err" || rc=$?
e2e_assert_eq 60 "$rc" "curl for www.aliyun.com (NGINX server_name) fails verification"
e2e_assert_contains "$(cat "$SG_E2E_TMP/curl.err")" \
	"certificate subject name '$NAME' does not match target host name 'www.aliyun.com'" \
	"curl matches the name against the certificate's CN"
rc=0
e2e_exec "$SG_NS_CLI" curl -sS --max-time 10 --resolve "$NAME:443:$BE_IP" "https://$NAME" \
	>/dev/null 2>"$SG_E2E_TMP/curl.err" || rc=$?
e2e_assert_eq 60 "$rc" "curl without --cacert aliyun.root.crt fails verification"

# openssl s_client, IPv4 and IPv6.
for ip in "$BE_IP" "$BE_IP6"; do
	out=$(e2e_exec "$SG_NS_CLI" openssl s_client -connect "$(e2e_hostport "$ip" 443)" \
		-servername "$NAME" -CAfile "$SG_CA" -verify_return_error </dev/null 2>&1) ||
		e2e_fail "openssl s_client to $ip failed: $out"
	e2e_assert_contains "$out" "Verify return code: 0 (ok)" "s_client $ip: Verify return code: 0 (ok)"
	e2e_assert_contains "$out" "subject=CN = $NAME, O = mynginx sample organization" \
		"s_client $ip: the backend presents the user's certificate"
	e2e_assert_contains "$out" "issuer=O = mynginx Inc., CN = aliyun.com" \
		"s_client $ip: signed by the user's root"
done

# --- 3. forwarding off again: the path is gone again -------------------------------------
e2e_gw_forwarding off
expect_unreachable "$BE_IP" "IPv4, forwarding off again"
expect_unreachable "[$BE_IP6]" "IPv6, forwarding off again"
wait_log_count "$CLI_IP" 2
wait_log_count "$CLI_IP6" 1

e2e_pass "user's curl and s_client checks pass through a forwarding gateway (IPv4, IPv6) and fail without it"
