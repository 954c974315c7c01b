/*
 * What the addon's C files share: argument and errno helpers, and jobs on libuv's thread
 * pool (a job's first member is its errno and promise; its promise settles in `complete`).
 */
#ifndef BERTH_SYS_H
#define BERTH_SYS_H
#define NAPI_VERSION 8
#include <node_api.h>
#include <stdbool.h>

#define CHECK(call)                                                                                \
  do {                                                                                             \
    if ((call) != napi_ok) return NULL;                                                            \
  } while (0)

napi_value errno_error(napi_env env, int err, const char *syscall, const char *path);
void throw_errno(napi_env env, int err, const char *syscall, const char *path);
/* A string argument, or NULL for null/undefined (when `nullable`); the caller frees it. */
char *string_arg(napi_env env, napi_value v, int nullable);
/* The call's first `want` arguments into argv; false (a TypeError thrown) when fewer came. */
bool get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv, const char *usage);
int pending(napi_env env);

/* What every thread-pool job carries, as its first member: its errno and its promise. */
typedef struct {
  int err;
  napi_deferred deferred;
  napi_async_work work;
} job;

/* Queues `execute` on the thread pool; the promise settles in `complete`. */
napi_value queue(napi_env env, const char *what, napi_async_execute_callback execute, napi_async_complete_callback complete, job *b);
/* In a job's `complete`: rejects its promise when it failed (true), and releases the work. */
bool job_failed(napi_env env, napi_status status, job *b, const char *syscall, const char *path);

/* The other files' functions, added to the exports by berth_sys.c's module init. */
napi_status berth_spawn_define(napi_env env, napi_value exports);
napi_status berth_hash_define(napi_env env, napi_value exports);
napi_status berth_pty_define(napi_env env, napi_value exports);
napi_status berth_netns_define(napi_env env, napi_value exports);
napi_status berth_veth_define(napi_env env, napi_value exports);
#endif
