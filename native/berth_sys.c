/*
 * The system calls berth needs that Node has no binding for: mount(2), umount2(2), the
 * l*xattr(2) family and mknod(2). Without this addon berth spawns mount, umount, getfattr,
 * setfattr and mknod instead (src/sys/index.ts); a spawn costs 2-5 ms here, and a cold
 * build makes about a dozen of them. And posix_spawn(3) with waitpid(2): Node's spawn forks,
 * copying the page tables of its whole heap (3-9 ms at 100-250 MB here); posix_spawn shares
 * the memory until the exec, whatever the size.
 *
 * mount and umount run on libuv's thread pool and return promises: taking down an overlay
 * syncs the file system under it, which can take as long as the data it wrote, and the
 * caller hashes the layer meanwhile. The xattr calls and mknod are quick and synchronous.
 * Errors are thrown as Error objects with Node's `code` (e.g. "ENOENT") and `errno`.
 */
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <errno.h>
#include <stdio.h>
#include <node_api.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <unistd.h>

#define CHECK(call)                                                                                \
  do {                                                                                             \
    if ((call) != napi_ok) return NULL;                                                            \
  } while (0)

static napi_value errno_error(napi_env env, int err, const char *syscall, const char *path) {
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

static void throw_errno(napi_env env, int err, const char *syscall, const char *path) {
  napi_throw(env, errno_error(env, err, syscall, path));
}

/* A string argument, or NULL for null/undefined; the caller frees it. */
static char *string_arg(napi_env env, napi_value v, int nullable) {
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
static bool get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv, const char *usage) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return false;
  if (argc < want) {
    napi_throw_type_error(env, NULL, usage);
    return false;
  }
  return true;
}

static int pending(napi_env env) {
  bool p = false;
  napi_is_exception_pending(env, &p);
  return p;
}

/* ---- work on the thread pool ---- */

/* What every thread-pool job carries, as its first member: its errno and its promise. */
typedef struct {
  int err;
  napi_deferred deferred;
  napi_async_work work;
} job;

/* Queues `execute` on the thread pool; the promise settles in `complete`. */
static napi_value queue(napi_env env, const char *what, napi_async_execute_callback execute, napi_async_complete_callback complete, job *b) {
  napi_value promise, name;
  CHECK(napi_create_promise(env, &b->deferred, &promise));
  CHECK(napi_create_string_utf8(env, what, NAPI_AUTO_LENGTH, &name));
  CHECK(napi_create_async_work(env, NULL, name, execute, complete, b, &b->work));
  CHECK(napi_queue_async_work(env, b->work));
  return promise;
}

/* In a job's `complete`: rejects its promise when it failed (true), and releases the work. */
static bool job_failed(napi_env env, napi_status status, job *b, const char *syscall, const char *path) {
  if (status != napi_ok && !b->err) b->err = ECANCELED;
  if (b->err) napi_reject_deferred(env, b->deferred, errno_error(env, b->err, syscall, path));
  napi_delete_async_work(env, b->work);
  return b->err != 0;
}

/* ---- mount and umount2 ---- */

typedef struct {
  job base;
  char *source, *target, *fstype, *data;
  unsigned long flags;
  int umount; /* 1: umount2(target, flags) */
} mount_job;

static void mount_execute(napi_env env, void *p) {
  (void)env;
  mount_job *j = p;
  int r = j->umount ? umount2(j->target, (int)j->flags) : mount(j->source, j->target, j->fstype, j->flags, j->data);
  j->base.err = r == 0 ? 0 : errno;
}

static void mount_complete(napi_env env, napi_status status, void *p) {
  mount_job *j = p;
  if (!job_failed(env, status, &j->base, j->umount ? "umount2" : "mount", j->target)) {
    napi_value undef;
    napi_get_undefined(env, &undef);
    napi_resolve_deferred(env, j->base.deferred, undef);
  }
  free(j->source);
  free(j->target);
  free(j->fstype);
  free(j->data);
  free(j);
}

static napi_value queue_mount(napi_env env, mount_job *j) {
  return queue(env, j->umount ? "berth_umount" : "berth_mount", mount_execute, mount_complete, &j->base);
}

/* mount(source|null, target, fstype|null, flags, data|null): Promise<void> */
static napi_value js_mount(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  if (!get_args(env, info, 5, argv, "mount(source, target, fstype, flags, data)")) return NULL;
  mount_job *j = calloc(1, sizeof *j);
  if (!j) return NULL;
  double flags;
  j->source = string_arg(env, argv[0], 1);
  if (!pending(env)) j->target = string_arg(env, argv[1], 0);
  if (!pending(env)) j->fstype = string_arg(env, argv[2], 1);
  if (!pending(env)) j->data = string_arg(env, argv[4], 1);
  if (!pending(env) && napi_get_value_double(env, argv[3], &flags) != napi_ok) napi_throw_type_error(env, NULL, "flags must be a number");
  if (pending(env) || !j->target) {
    free(j->source), free(j->target), free(j->fstype), free(j->data), free(j);
    return NULL;
  }
  j->flags = (unsigned long)flags;
  return queue_mount(env, j);
}

/* umount2(target, flags): Promise<void> */
static napi_value js_umount2(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (!get_args(env, info, 2, argv, "umount2(target, flags)")) return NULL;
  mount_job *j = calloc(1, sizeof *j);
  if (!j) return NULL;
  double flags = 0;
  j->umount = 1;
  j->target = string_arg(env, argv[0], 0);
  if (!pending(env) && napi_get_value_double(env, argv[1], &flags) != napi_ok) napi_throw_type_error(env, NULL, "flags must be a number");
  if (pending(env) || !j->target) {
    free(j->target), free(j);
    return NULL;
  }
  j->flags = (unsigned long)flags;
  return queue_mount(env, j);
}

/* ---- xattrs, never following a symlink ---- */

/* lxattrs(path): Array<[name, Buffer]>; empty where the file system keeps no xattrs. */
static napi_value js_lxattrs(napi_env env, napi_callback_info info) {
  napi_value argv[1], out;
  if (!get_args(env, info, 1, argv, "lxattrs(path)")) return NULL;
  char *path = string_arg(env, argv[0], 0);
  if (!path) return NULL;
  CHECK(napi_create_array(env, &out));
  char stack[1024], *names = stack;
  ssize_t n = llistxattr(path, names, sizeof stack);
  if (n < 0 && errno == ERANGE) {
    n = llistxattr(path, NULL, 0);
    names = n > 0 ? malloc((size_t)n) : NULL;
    if (n > 0 && !names) n = -1;
    if (names) n = llistxattr(path, names, (size_t)n);
  }
  if (n < 0) {
    int err = errno;
    if (names != stack) free(names);
    if (err != ENOTSUP) throw_errno(env, err, "llistxattr", path);
    free(path);
    return err == ENOTSUP ? out : NULL;
  }
  uint32_t count = 0;
  for (ssize_t off = 0; off < n; off += (ssize_t)strlen(names + off) + 1) {
    const char *name = names + off;
    ssize_t size = lgetxattr(path, name, NULL, 0);
    if (size < 0) {
      if (errno == ENODATA) continue; /* removed since the listing */
      throw_errno(env, errno, "lgetxattr", path);
      break;
    }
    void *data;
    napi_value buf, key, pair;
    if (napi_create_buffer(env, (size_t)size, &data, &buf) != napi_ok) break;
    ssize_t got = size ? lgetxattr(path, name, data, (size_t)size) : 0;
    if (got < 0) {
      if (errno == ENODATA) continue;
      throw_errno(env, errno, "lgetxattr", path);
      break;
    }
    if (got < size) napi_create_buffer_copy(env, (size_t)got, data, NULL, &buf);
    napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &key);
    napi_create_array_with_length(env, 2, &pair);
    napi_set_element(env, pair, 0, key);
    napi_set_element(env, pair, 1, buf);
    napi_set_element(env, out, count++, pair);
  }
  if (names != stack) free(names);
  free(path);
  return pending(env) ? NULL : out;
}

/* lsetxattr(path, name, Buffer): void */
static napi_value js_lsetxattr(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  if (!get_args(env, info, 3, argv, "lsetxattr(path, name, value)")) return NULL;
  char *path = string_arg(env, argv[0], 0);
  char *name = path ? string_arg(env, argv[1], 0) : NULL;
  void *data = NULL;
  size_t len = 0;
  if (name && napi_get_buffer_info(env, argv[2], &data, &len) != napi_ok) napi_throw_type_error(env, NULL, "value must be a Buffer");
  if (name && !pending(env) && lsetxattr(path, name, data, len, 0) != 0) throw_errno(env, errno, "lsetxattr", path);
  free(path);
  free(name);
  return NULL;
}

/* mknod(path, mode, major, minor): void; mode carries the file type (S_IFCHR, S_IFBLK, S_IFIFO). */
static napi_value js_mknod(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  if (!get_args(env, info, 4, argv, "mknod(path, mode, major, minor)")) return NULL;
  uint32_t mode, major, minor;
  char *path = string_arg(env, argv[0], 0);
  if (!path) return NULL;
  if (napi_get_value_uint32(env, argv[1], &mode) != napi_ok || napi_get_value_uint32(env, argv[2], &major) != napi_ok || napi_get_value_uint32(env, argv[3], &minor) != napi_ok) {
    napi_throw_type_error(env, NULL, "mode, major and minor must be numbers");
  } else if (mknod(path, (mode_t)mode, makedev(major, minor)) != 0) {
    throw_errno(env, errno, "mknod", path);
  }
  free(path);
  return NULL;
}

/* ---- posix_spawn and waitpid ---- */

static char **string_array(napi_env env, napi_value arr) {
  uint32_t n = 0;
  if (napi_get_array_length(env, arr, &n) != napi_ok) {
    napi_throw_type_error(env, NULL, "expected an array of strings");
    return NULL;
  }
  char **out = calloc((size_t)n + 1, sizeof *out);
  if (!out) return NULL;
  for (uint32_t i = 0; i < n; i++) {
    napi_value v;
    napi_get_element(env, arr, i, &v);
    out[i] = string_arg(env, v, 0);
    if (!out[i]) {
      for (uint32_t k = 0; k < i; k++) free(out[k]);
      free(out);
      return NULL;
    }
  }
  return out;
}

static void free_array(char **a) {
  if (!a) return;
  for (char **p = a; *p; p++) free(*p);
  free(a);
}

/*
 * spawnPiped(file, argv, env): {pid, stdout, stderr}: the child's stdin is /dev/null, its
 * stdout and stderr are pipes whose read ends (close-on-exec) are returned. Signal
 * dispositions go back to their defaults (Node ignores SIGPIPE) and the mask is emptied.
 */
static napi_value js_spawn_piped(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  if (!get_args(env, info, 3, argv, "spawnPiped(file, argv, env)")) return NULL;
  char *file = string_arg(env, argv[0], 0);
  char **args = file ? string_array(env, argv[1]) : NULL;
  char **envp = args ? string_array(env, argv[2]) : NULL;
  napi_value result = NULL;
  int out[2] = {-1, -1}, err[2] = {-1, -1};
  if (!envp) goto done;
  if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) {
    throw_errno(env, errno, "pipe2", file);
    goto done;
  }
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  sigset_t all, none;
  sigfillset(&all);
  sigemptyset(&none);
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_adddup2(&fa, err[1], 2);
  posix_spawnattr_init(&attr);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  pid_t pid;
  int rc = posix_spawn(&pid, file, &fa, &attr, args, envp);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  close(out[1]);
  close(err[1]);
  out[1] = err[1] = -1;
  if (rc != 0) {
    close(out[0]);
    close(err[0]);
    throw_errno(env, rc, "posix_spawn", file);
    goto done;
  }
  napi_value v;
  napi_create_object(env, &result);
  napi_create_int32(env, pid, &v);
  napi_set_named_property(env, result, "pid", v);
  napi_create_int32(env, out[0], &v);
  napi_set_named_property(env, result, "stdout", v);
  napi_create_int32(env, err[0], &v);
  napi_set_named_property(env, result, "stderr", v);
done:
  if (out[1] >= 0) close(out[0]), close(out[1]);
  if (err[1] >= 0) close(err[0]), close(err[1]);
  free(file);
  free_array(args);
  free_array(envp);
  return result;
}

typedef struct {
  job base;
  pid_t pid;
  int status;
} wait_job;

static void wait_execute(napi_env env, void *p) {
  (void)env;
  wait_job *j = p;
  pid_t r;
  do r = waitpid(j->pid, &j->status, 0);
  while (r < 0 && errno == EINTR);
  j->base.err = r < 0 ? errno : 0;
}

static void wait_complete(napi_env env, napi_status status, void *p) {
  wait_job *j = p;
  if (!job_failed(env, status, &j->base, "waitpid", NULL)) {
    napi_value out, code, sig;
    napi_create_object(env, &out);
    if (WIFEXITED(j->status)) napi_create_int32(env, WEXITSTATUS(j->status), &code);
    else napi_get_null(env, &code);
    if (WIFSIGNALED(j->status)) napi_create_int32(env, WTERMSIG(j->status), &sig);
    else napi_get_null(env, &sig);
    napi_set_named_property(env, out, "code", code);
    napi_set_named_property(env, out, "signal", sig);
    napi_resolve_deferred(env, j->base.deferred, out);
  }
  free(j);
}

/* waitpid(pid): Promise<{code: number|null, signal: number|null}>, on the thread pool. */
static napi_value js_waitpid(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!get_args(env, info, 1, argv, "waitpid(pid)")) return NULL;
  int32_t pid;
  if (napi_get_value_int32(env, argv[0], &pid) != napi_ok || pid <= 0) {
    napi_throw_type_error(env, NULL, "waitpid(pid)");
    return NULL;
  }
  wait_job *j = calloc(1, sizeof *j);
  if (!j) return NULL;
  j->pid = pid;
  return queue(env, "berth_waitpid", wait_execute, wait_complete, &j->base);
}

/* berth_hash.c: sha256 and randomFill. */
napi_status berth_hash_define(napi_env env, napi_value exports);

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"mount", NULL, js_mount, NULL, NULL, NULL, napi_default, NULL},
      {"umount2", NULL, js_umount2, NULL, NULL, NULL, napi_default, NULL},
      {"lxattrs", NULL, js_lxattrs, NULL, NULL, NULL, napi_default, NULL},
      {"lsetxattr", NULL, js_lsetxattr, NULL, NULL, NULL, napi_default, NULL},
      {"mknod", NULL, js_mknod, NULL, NULL, NULL, napi_default, NULL},
      {"spawnPiped", NULL, js_spawn_piped, NULL, NULL, NULL, napi_default, NULL},
      {"waitpid", NULL, js_waitpid, NULL, NULL, NULL, napi_default, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  if (berth_hash_define(env, exports) != napi_ok) return NULL;
  return exports;
}
