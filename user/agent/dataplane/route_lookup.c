// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* route_lookup.c: see route_lookup.h. */
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "route_lookup.h"

static int parse_answer(const struct nlmsghdr *h, size_t n, struct route_answer *out)
{
	for (; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
		if (h->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = NLMSG_DATA(h);

			return e->error ? e->error : -ENOENT;
		}
		if (h->nlmsg_type != RTM_NEWROUTE)
			continue;
		const struct rtmsg *rt = NLMSG_DATA(h);
		const struct rtattr *a = RTM_RTA(rt);
		int len = (int)RTM_PAYLOAD(h);

		out->is_local = rt->rtm_type == RTN_LOCAL;
		out->oif = 0;
		for (; RTA_OK(a, len); a = RTA_NEXT(a, len))
			if (a->rta_type == RTA_OIF && RTA_PAYLOAD(a) >= sizeof(int))
				memcpy(&out->oif, RTA_DATA(a), sizeof(int));
		return out->oif ? 0 : -ENOENT;
	}
	return -ENOENT;
}

int route_lookup(const uint8_t addr[16], struct route_answer *out)
{
	struct {
		struct nlmsghdr h;
		struct rtmsg rt;
		char attrs[RTA_SPACE(16)];
	} req = {0};
	bool v4 = addr16_is_v4(addr);
	size_t alen = v4 ? 4 : 16;
	struct rtattr *a = (struct rtattr *)req.attrs;
	char buf[4096];
	ssize_t n;
	int fd, err;

	req.h.nlmsg_len = NLMSG_LENGTH(sizeof(req.rt)) + RTA_SPACE(alen);
	req.h.nlmsg_type = RTM_GETROUTE;
	req.h.nlmsg_flags = NLM_F_REQUEST;
	req.rt.rtm_family = v4 ? AF_INET : AF_INET6;
	req.rt.rtm_dst_len = v4 ? 32 : 128;
	a->rta_type = RTA_DST;
	a->rta_len = RTA_LENGTH(alen);
	memcpy(RTA_DATA(a), v4 ? addr + 12 : addr, alen);

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	if (send(fd, &req, req.h.nlmsg_len, 0) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	n = recv(fd, buf, sizeof(buf), 0);
	err = n < 0 ? -errno : parse_answer((const struct nlmsghdr *)buf, (size_t)n, out);
	close(fd);
	return err;
}
