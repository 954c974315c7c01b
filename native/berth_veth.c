/*
 * A container's eth0 on a bridge, made in process as the CNI bridge plugin makes it (a veth
 * pair: one end a port of the bridge, the other `eth0` in the container's named network
 * namespace, with its address and default route), and removed as its DEL removes it,
 * without starting the plugin and host-local for each container start and exit. The address
 * lease and the result are network/veth.ts's; this file only talks to the kernel.
 *
 * The pair is made by one rtnetlink request from the calling thread (in the host's
 * namespace): the host end joins the bridge and comes up, the peer is created inside the
 * container's namespace (IFLA_NET_NS_FD), named and given its MAC. The peer is brought up,
 * and its address and route set, by a thread of its own that enters the namespace with setns(2)
 * and exits after (no thread of Node's may be left in another network namespace), with the
 * classic ioctls, as ifconfig and route do.
 */
#define _GNU_SOURCE
#include "berth_sys.h"
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <net/route.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

typedef union {
  struct nlmsghdr h;
  char buf[1024];
} nl_request;

/* Appends an attribute (data may be NULL for a nest, closed by nest_end). */
static struct rtattr *attr_put(struct nlmsghdr *h, unsigned short type, const void *data, size_t len) {
  struct rtattr *a = (struct rtattr *)((char *)h + NLMSG_ALIGN(h->nlmsg_len));
  a->rta_type = type;
  a->rta_len = RTA_LENGTH(len);
  if (len) memcpy(RTA_DATA(a), data, len);
  h->nlmsg_len = NLMSG_ALIGN(h->nlmsg_len) + RTA_ALIGN(a->rta_len);
  return a;
}

static void nest_end(struct nlmsghdr *h, struct rtattr *a) {
  a->rta_len = (unsigned short)((char *)h + h->nlmsg_len - (char *)a);
}

/* Sends one request on a new rtnetlink socket (of the calling thread's namespace) and waits
 * for its acknowledgement: the kernel's errno, or 0. */
static int rtnl_request(struct nlmsghdr *h) {
  int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (s < 0) return errno;
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  h->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
  h->nlmsg_seq = 1;
  int err = 0;
  if (sendto(s, h, h->nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0) err = errno;
  for (int done = err != 0; !done;) {
    union {
      struct nlmsghdr h;
      char buf[4096];
    } reply;
    ssize_t n = recv(s, reply.buf, sizeof reply.buf, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      err = errno;
      break;
    }
    int len = (int)n;
    for (struct nlmsghdr *r = &reply.h; NLMSG_OK(r, len); r = NLMSG_NEXT(r, len)) {
      if (r->nlmsg_type != NLMSG_ERROR) continue;
      err = -((struct nlmsgerr *)NLMSG_DATA(r))->error;
      done = 1;
      break;
    }
  }
  close(s);
  return err;
}

/* The veth pair: `host` on `bridge_index`, up; its peer `peer` in the namespace `ns_fd`, with `mac` (brought up inside). */
static int veth_create(const char *host, unsigned bridge_index, const char *peer, const unsigned char mac[6], int ns_fd) {
  nl_request req;
  memset(&req, 0, sizeof req);
  struct nlmsghdr *h = &req.h;
  h->nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg));
  h->nlmsg_type = RTM_NEWLINK;
  h->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
  struct ifinfomsg *ifi = NLMSG_DATA(h);
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_flags = IFF_UP;
  ifi->ifi_change = IFF_UP;
  attr_put(h, IFLA_IFNAME, host, strlen(host) + 1);
  attr_put(h, IFLA_MASTER, &bridge_index, sizeof bridge_index);
  struct rtattr *linkinfo = attr_put(h, IFLA_LINKINFO, NULL, 0);
  attr_put(h, IFLA_INFO_KIND, "veth", 4);
  struct rtattr *data = attr_put(h, IFLA_INFO_DATA, NULL, 0);
  struct rtattr *peer_info = attr_put(h, VETH_INFO_PEER, NULL, 0);
  /* The peer's attributes follow an ifinfomsg of its own. No IFF_UP in it: the kernel
   * configures the peer before the pair is linked, and a veth without its peer cannot open. */
  struct ifinfomsg *peer_ifi = (struct ifinfomsg *)((char *)h + h->nlmsg_len);
  peer_ifi->ifi_family = AF_UNSPEC;
  h->nlmsg_len += NLMSG_ALIGN(sizeof *peer_ifi);
  attr_put(h, IFLA_IFNAME, peer, strlen(peer) + 1);
  attr_put(h, IFLA_ADDRESS, mac, 6);
  unsigned fd = (unsigned)ns_fd;
  attr_put(h, IFLA_NET_NS_FD, &fd, sizeof fd);
  nest_end(h, peer_info);
  nest_end(h, data);
  nest_end(h, linkinfo);
  return rtnl_request(h);
}

/* RTM_DELLINK of the interface `name` in the calling thread's namespace. */
static int link_delete(const char *name) {
  nl_request req;
  memset(&req, 0, sizeof req);
  struct nlmsghdr *h = &req.h;
  h->nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg));
  h->nlmsg_type = RTM_DELLINK;
  ((struct ifinfomsg *)NLMSG_DATA(h))->ifi_family = AF_UNSPEC;
  attr_put(h, IFLA_IFNAME, name, strlen(name) + 1);
  return rtnl_request(h);
}

typedef struct {
  int ns_fd;
  const char *ifname;
  /* Set to configure: address, netmask and gateway; else the interface is deleted. */
  int configure;
  struct in_addr address, netmask, gateway;
  int err;
  const char *syscall;
} in_netns;

static void set_sin(struct sockaddr *sa, struct in_addr a) {
  struct sockaddr_in *sin = (struct sockaddr_in *)sa;
  sin->sin_family = AF_INET;
  sin->sin_addr = a;
}

/* One ioctl; false, with its errno and name recorded, when it fails. */
static bool step(in_netns *c, int s, unsigned long request, void *arg, const char *name) {
  if (ioctl(s, request, arg) == 0) return true;
  c->err = errno;
  c->syscall = name;
  return false;
}

static void configure_iface(in_netns *c) {
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) {
    c->err = errno;
    c->syscall = "socket";
    return;
  }
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  strncpy(ifr.ifr_name, c->ifname, IFNAMSIZ - 1);
  bool ok = step(c, s, SIOCGIFFLAGS, &ifr, "ioctl(SIOCGIFFLAGS)");
  if (ok) {
    ifr.ifr_flags |= IFF_UP;
    ok = step(c, s, SIOCSIFFLAGS, &ifr, "ioctl(SIOCSIFFLAGS)");
  }
  if (ok) {
    set_sin(&ifr.ifr_addr, c->address);
    ok = step(c, s, SIOCSIFADDR, &ifr, "ioctl(SIOCSIFADDR)");
  }
  /* The mask after the address: the kernel then derives the broadcast address from both. */
  if (ok) {
    set_sin(&ifr.ifr_netmask, c->netmask);
    ok = step(c, s, SIOCSIFNETMASK, &ifr, "ioctl(SIOCSIFNETMASK)");
  }
  if (ok) {
    struct rtentry rt;
    memset(&rt, 0, sizeof rt);
    set_sin(&rt.rt_dst, (struct in_addr){0});
    set_sin(&rt.rt_genmask, (struct in_addr){0});
    set_sin(&rt.rt_gateway, c->gateway);
    rt.rt_flags = RTF_UP | RTF_GATEWAY;
    rt.rt_dev = (char *)c->ifname;
    step(c, s, SIOCADDRT, &rt, "ioctl(SIOCADDRT default)");
  }
  close(s);
}

static void *in_netns_thread(void *p) {
  in_netns *c = p;
  if (setns(c->ns_fd, CLONE_NEWNET) != 0) {
    c->err = errno;
    c->syscall = "setns";
  } else if (c->configure) {
    configure_iface(c);
  } else if ((c->err = link_delete(c->ifname)) != 0) {
    c->syscall = "RTM_DELLINK";
  }
  return NULL;
}

/* Runs `c` on a thread of its own inside the namespace; false (an error thrown) on failure. */
static bool run_in_netns(napi_env env, in_netns *c, const char *path) {
  pthread_t t;
  int err = pthread_create(&t, NULL, in_netns_thread, c);
  if (err == 0) err = pthread_join(t, NULL);
  if (err != 0) {
    throw_errno(env, err, "pthread_create", path);
    return false;
  }
  if (c->err != 0) {
    throw_errno(env, c->err, c->syscall, c->ifname);
    return false;
  }
  return true;
}

static bool parse_mac(const char *text, unsigned char mac[6]) {
  unsigned v[6];
  char end;
  if (sscanf(text, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &end) != 6) return false;
  for (int i = 0; i < 6; i++) mac[i] = (unsigned char)v[i];
  return true;
}

/*
 * vethAdd(netnsPath, hostName, bridge, mac, address, prefixLength, gateway): the pair, then
 * eth0's address and default route inside. On a failure after the pair exists, the pair is
 * left for the caller to delete (linkDel), which it does with the rest of its undoing.
 */
static napi_value js_veth_add(napi_env env, napi_callback_info info) {
  napi_value argv[7];
  if (!get_args(env, info, 7, argv, "vethAdd(netnsPath, hostName, bridge, mac, address, prefixLength, gateway)")) return NULL;
  char *s[7] = {0};
  int prefix = -1;
  napi_value result = NULL;
  for (int i = 0; i < 7; i++) {
    if (i == 5) continue;
    if (!(s[i] = string_arg(env, argv[i], 0))) goto out;
  }
  if (napi_get_value_int32(env, argv[5], &prefix) != napi_ok) goto out;
  unsigned char mac[6];
  in_netns c = {.ns_fd = -1, .ifname = "eth0", .configure = 1};
  if (strlen(s[1]) >= IFNAMSIZ || strlen(s[2]) >= IFNAMSIZ || !parse_mac(s[3], mac) || prefix < 1 || prefix > 30 ||
      inet_pton(AF_INET, s[4], &c.address) != 1 || inet_pton(AF_INET, s[6], &c.gateway) != 1) {
    napi_throw_type_error(env, NULL, "vethAdd: a bad interface name, MAC, address, prefix length or gateway");
    goto out;
  }
  c.netmask.s_addr = htonl(~0u << (32 - prefix));
  unsigned bridge_index = if_nametoindex(s[2]);
  if (bridge_index == 0) {
    throw_errno(env, errno, "if_nametoindex", s[2]);
    goto out;
  }
  c.ns_fd = open(s[0], O_RDONLY | O_CLOEXEC);
  if (c.ns_fd < 0) {
    throw_errno(env, errno, "open", s[0]);
    goto out;
  }
  int err = veth_create(s[1], bridge_index, c.ifname, mac, c.ns_fd);
  if (err != 0) throw_errno(env, err, "RTM_NEWLINK veth", s[1]);
  else if (run_in_netns(env, &c, s[0])) napi_get_undefined(env, &result);
  close(c.ns_fd);
out:
  for (int i = 0; i < 7; i++) free(s[i]);
  return result;
}

/* linkDel(netnsPath, name): deletes the interface in that namespace (a veth's peer goes with
 * it); false when the namespace or the interface is not there. */
static napi_value js_link_del(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (!get_args(env, info, 2, argv, "linkDel(netnsPath, name)")) return NULL;
  char *path = string_arg(env, argv[0], 0);
  char *name = path ? string_arg(env, argv[1], 0) : NULL;
  napi_value result = NULL;
  if (!name) goto out;
  in_netns c = {.ns_fd = open(path, O_RDONLY | O_CLOEXEC), .ifname = name, .configure = 0};
  if (c.ns_fd < 0 && errno != ENOENT) {
    throw_errno(env, errno, "open", path);
    goto out;
  }
  bool deleted = false;
  if (c.ns_fd >= 0) {
    pthread_t t;
    int err = pthread_create(&t, NULL, in_netns_thread, &c);
    if (err == 0) err = pthread_join(t, NULL);
    close(c.ns_fd);
    /* EINVAL: the file is not a namespace (left unmounted by a crash), so nothing is in it. */
    if (err != 0) {
      throw_errno(env, err, "pthread_create", path);
      goto out;
    }
    if (c.err != 0 && c.err != ENODEV && !(c.err == EINVAL && strcmp(c.syscall, "setns") == 0)) {
      throw_errno(env, c.err, c.syscall, name);
      goto out;
    }
    deleted = c.err == 0;
  }
  napi_get_boolean(env, deleted, &result);
out:
  free(path);
  free(name);
  return result;
}

napi_status berth_veth_define(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"vethAdd", NULL, js_veth_add, NULL, NULL, NULL, napi_default, NULL},
      {"linkDel", NULL, js_link_del, NULL, NULL, NULL, napi_default, NULL},
  };
  return napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
