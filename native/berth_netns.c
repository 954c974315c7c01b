/*
 * A named network namespace made in process, as `ip netns add NAME` makes one, without the
 * cost of starting `ip` on every container start: a new namespace, bind-mounted on a file
 * that already exists (netns.ts makes the file and the shared /run/netns mount it sits in).
 * The namespace is made by a thread of its own, which exits once the mount holds the
 * namespace: unshare(CLONE_NEWNET) moves only the calling thread, and no thread of Node's
 * may be left in another network namespace. The same thread brings the namespace's `lo` up,
 * as runc does in a namespace of its own and docker's libnetwork in one it made, instead of
 * starting CNI's loopback plugin for it.
 */
#define _GNU_SOURCE
#include "berth_sys.h"
#include <errno.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct {
  const char *target;
  int err;
  const char *syscall;
} netns_bind;

/* SIOCSIFFLAGS with IFF_UP on `lo` of the calling thread's network namespace; an errno, or 0. */
static int loopback_up(void) {
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return errno;
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  int err = 0;
  if (ioctl(s, SIOCGIFFLAGS, &ifr) != 0) err = errno;
  else if (!(ifr.ifr_flags & IFF_UP)) {
    ifr.ifr_flags |= IFF_UP;
    if (ioctl(s, SIOCSIFFLAGS, &ifr) != 0) err = errno;
  }
  close(s);
  return err;
}

static void *netns_bind_thread(void *p) {
  netns_bind *b = p;
  if (unshare(CLONE_NEWNET) != 0) {
    b->err = errno;
    b->syscall = "unshare";
  } else if ((b->err = loopback_up()) != 0) {
    b->syscall = "ioctl(SIOCSIFFLAGS lo)";
  } else if (mount("/proc/thread-self/ns/net", b->target, "none", MS_BIND, NULL) != 0) {
    b->err = errno;
    b->syscall = "mount";
  }
  return NULL;
}

/* netnsBind(target): a new network namespace with `lo` up, bind-mounted on `target` (an existing file). */
static napi_value js_netns_bind(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!get_args(env, info, 1, argv, "netnsBind(target)")) return NULL;
  char *target = string_arg(env, argv[0], 0);
  if (!target) return NULL;
  netns_bind b = {.target = target, .err = 0, .syscall = "mount"};
  pthread_t t;
  int err = pthread_create(&t, NULL, netns_bind_thread, &b);
  if (err == 0) err = pthread_join(t, NULL);
  if (err != 0) throw_errno(env, err, "pthread_create", target);
  else if (b.err != 0) throw_errno(env, b.err, b.syscall, target);
  free(target);
  return NULL;
}

napi_status berth_netns_define(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"netnsBind", NULL, js_netns_bind, NULL, NULL, NULL, napi_default, NULL},
  };
  return napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
