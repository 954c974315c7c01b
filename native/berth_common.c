/* The helpers berth_sys.h declares: errors with Node's errno codes, arguments, and thread-pool jobs. */
#define _GNU_SOURCE
#include "berth_sys.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

napi_value errno_error(napi_env env, int err, const char *syscall, const char *path) {
  const char *name = strerrorname_np(err);
  char message[4200];
  snprintf(message, sizeof message, "%s: %s, %s '%s'", name ? name : "EUNKNOWN", strerror(err), syscall, path ? path : "");
  napi_value msg, code, error, num;
  napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &msg);
  napi_create_string_utf8(env, name ? name : "EUNKNOWN", NAPI_AUTO_LENGTH, &code);
  napi_create_error(env, code, msg, &error);
  napi_create_int32(env, -err, &num);
  napi_set_named_property(env, error, "errno", num);
  napi_set_named_property(env, error, "code", code);
  return error;
}

void throw_errno(napi_env env, int err, const char *syscall, const char *path) {
  napi_throw(env, errno_error(env, err, syscall, path));
}

/* A string argument, or NULL for null/undefined; the caller frees it. */
char *string_arg(napi_env env, napi_value v, int nullable) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok) return NULL;
  if (nullable && (t == napi_null || t == napi_undefined)) return NULL;
  if (t != napi_string) {
    napi_throw_type_error(env, NULL, "expected a string");
    return NULL;
  }
  size_t len;
  napi_get_value_string_utf8(env, v, NULL, 0, &len);
  char *s = malloc(len + 1);
  if (!s) return NULL;
  napi_get_value_string_utf8(env, v, s, len + 1, &len);
  if (strlen(s) != len) { /* a NUL inside would silently cut the path */
    free(s);
    napi_throw_type_error(env, NULL, "a string argument contains a NUL byte");
    return NULL;
  }
  return s;
}

/* The call's first `want` arguments into argv; false (a TypeError thrown) when fewer came. */
bool get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv, const char *usage) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return false;
  if (argc < want) {
    napi_throw_type_error(env, NULL, usage);
    return false;
  }
  return true;
}

int pending(napi_env env) {
  bool p = false;
  napi_is_exception_pending(env, &p);
  return p;
}

/* Queues `execute` on the thread pool; the promise settles in `complete`. */
napi_value queue(napi_env env, const char *what, napi_async_execute_callback execute, napi_async_complete_callback complete, job *b) {
  napi_value promise, name;
  CHECK(napi_create_promise(env, &b->deferred, &promise));
  CHECK(napi_create_string_utf8(env, what, NAPI_AUTO_LENGTH, &name));
  CHECK(napi_create_async_work(env, NULL, name, execute, complete, b, &b->work));
  CHECK(napi_queue_async_work(env, b->work));
  return promise;
}

/* In a job's `complete`: rejects its promise when it failed (true), and releases the work. */
bool job_failed(napi_env env, napi_status status, job *b, const char *syscall, const char *path) {
  if (status != napi_ok && !b->err) b->err = ECANCELED;
  if (b->err) napi_reject_deferred(env, b->deferred, errno_error(env, b->err, syscall, path));
  napi_delete_async_work(env, b->work);
  return b->err != 0;
}
