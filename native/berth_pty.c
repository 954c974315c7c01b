/*
 * What a container's terminal needs and Node has no binding for: becoming the child
 * subreaper (a container that `runc run --detach` leaves behind is then this process's child,
 * to wait for), receiving the pty master that runc sends over its console socket as
 * SCM_RIGHTS, and setting that master's window size.
 */
#define _GNU_SOURCE
#include "berth_sys.h"
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

/* setChildSubreaper(): prctl(PR_SET_CHILD_SUBREAPER, 1). */
static napi_value js_set_child_subreaper(napi_env env, napi_callback_info info) {
  (void)info;
  if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) throw_errno(env, errno, "prctl", "PR_SET_CHILD_SUBREAPER");
  return NULL;
}

typedef struct {
  job base;
  int sock;
  int fd;
} recv_job;

/*
 * Waits (poll: the socket is Node's, and non-blocking) for one message on a connected unix
 * socket and takes the fd it carries. A peer that closes without sending one is EPIPE.
 */
static void recv_execute(napi_env env, void *p) {
  (void)env;
  recv_job *j = p;
  j->fd = -1;
  for (;;) {
    struct pollfd pfd = {.fd = j->sock, .events = POLLIN};
    if (poll(&pfd, 1, -1) < 0) {
      if (errno == EINTR) continue;
      j->base.err = errno;
      return;
    }
    char data[4096];
    struct iovec iov = {.iov_base = data, .iov_len = sizeof data};
    union {
      struct cmsghdr align;
      char buf[CMSG_SPACE(sizeof(int))];
    } control;
    memset(&control, 0, sizeof control);
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf, .msg_controllen = sizeof control.buf};
    ssize_t n = recvmsg(j->sock, &msg, MSG_CMSG_CLOEXEC);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      j->base.err = errno;
      return;
    }
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN(sizeof(int))) {
        memcpy(&j->fd, CMSG_DATA(c), sizeof(int));
        return;
      }
    }
    if (n == 0) {
      j->base.err = EPIPE;
      return;
    }
  }
}

static void recv_complete(napi_env env, napi_status status, void *p) {
  recv_job *j = p;
  if (!job_failed(env, status, &j->base, "recvmsg", "console socket")) {
    napi_value v;
    napi_create_int32(env, j->fd, &v);
    napi_resolve_deferred(env, j->base.deferred, v);
  } else if (j->fd >= 0) {
    close(j->fd);
  }
  free(j);
}

/* recvFd(socketFd): Promise<fd>, the fd passed in the next SCM_RIGHTS message, on the thread pool. */
static napi_value js_recv_fd(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!get_args(env, info, 1, argv, "recvFd(socketFd)")) return NULL;
  int32_t fd;
  if (napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0) {
    napi_throw_type_error(env, NULL, "recvFd(socketFd)");
    return NULL;
  }
  recv_job *j = calloc(1, sizeof *j);
  if (!j) return NULL;
  j->sock = fd;
  return queue(env, "berth_recv_fd", recv_execute, recv_complete, &j->base);
}

/* setWindowSize(fd, cols, rows): ioctl(TIOCSWINSZ), which signals SIGWINCH to the terminal's foreground group. */
static napi_value js_set_window_size(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  if (!get_args(env, info, 3, argv, "setWindowSize(fd, cols, rows)")) return NULL;
  int32_t fd, cols, rows;
  if (napi_get_value_int32(env, argv[0], &fd) != napi_ok || napi_get_value_int32(env, argv[1], &cols) != napi_ok || napi_get_value_int32(env, argv[2], &rows) != napi_ok ||
      cols < 0 || rows < 0 || cols > 0xffff || rows > 0xffff) {
    napi_throw_type_error(env, NULL, "setWindowSize(fd, cols, rows)");
    return NULL;
  }
  struct winsize ws = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};
  if (ioctl(fd, TIOCSWINSZ, &ws) != 0) throw_errno(env, errno, "ioctl", "TIOCSWINSZ");
  return NULL;
}

napi_status berth_pty_define(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"setChildSubreaper", NULL, js_set_child_subreaper, NULL, NULL, NULL, napi_default, NULL},
      {"recvFd", NULL, js_recv_fd, NULL, NULL, NULL, napi_default, NULL},
      {"setWindowSize", NULL, js_set_window_size, NULL, NULL, NULL, napi_default, NULL},
  };
  return napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
