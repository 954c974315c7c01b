/*
 * The system calls berth needs that Node has no binding for: mount(2), umount2(2), syncfs(2),
 * the l*xattr(2) family, mknod(2) and openat2(2). Without this addon berth spawns mount, umount, sync,
 * getfattr, setfattr and mknod instead (src/sys/index.ts); a spawn costs 2-5 ms here, and a
 * cold build makes about a dozen of them. berth_spawn.c adds posix_spawn and waitpid,
 * berth_hash.c SHA-256 and random bytes, berth_pty.c what a container's terminal needs;
 * berth_common.c holds what they share.
 *
 * mount, umount and syncfs run on libuv's thread pool and return promises: taking down an
 * overlay syncs the file system under it, which can take as long as the data it wrote, and
 * the caller hashes the layer meanwhile. The xattr calls and mknod are quick and synchronous.
 * Errors are thrown as Error objects with Node's `code` (e.g. "ENOENT") and `errno`.
 */
#define _GNU_SOURCE
#include "berth_sys.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

/* ---- mount, umount2 and syncfs ---- */

enum mount_op { OP_MOUNT, OP_UMOUNT, OP_SYNCFS };
static const char *const op_names[] = {"mount", "umount2", "syncfs"};

typedef struct {
  job base;
  char *source, *target, *fstype, *data;
  unsigned long flags;
  enum mount_op op;
} mount_job;

/* syncfs(2) of the file system that holds `path`. */
static int syncfs_path(const char *path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  int r = syncfs(fd);
  int saved = errno;
  close(fd);
  errno = saved;
  return r;
}

static void mount_execute(napi_env env, void *p) {
  (void)env;
  mount_job *j = p;
  int r = j->op == OP_UMOUNT ? umount2(j->target, (int)j->flags) : j->op == OP_SYNCFS ? syncfs_path(j->target) : mount(j->source, j->target, j->fstype, j->flags, j->data);
  j->base.err = r == 0 ? 0 : errno;
}

static void free_mount_job(mount_job *j) {
  free(j->source), free(j->target), free(j->fstype), free(j->data), free(j);
}

static void mount_complete(napi_env env, napi_status status, void *p) {
  mount_job *j = p;
  if (!job_failed(env, status, &j->base, op_names[j->op], j->target)) {
    napi_value undef;
    napi_get_undefined(env, &undef);
    napi_resolve_deferred(env, j->base.deferred, undef);
  }
  free_mount_job(j);
}

static napi_value queue_mount(napi_env env, mount_job *j) {
  static const char *const names[] = {"berth_mount", "berth_umount", "berth_syncfs"};
  return queue(env, names[j->op], mount_execute, mount_complete, &j->base);
}

/* The job of a mount(source|null, target, fstype|null, flags, data|null) call; NULL when an argument is wrong. */
static mount_job *mount_args(napi_env env, napi_callback_info info) {
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
    free_mount_job(j);
    return NULL;
  }
  j->flags = (unsigned long)flags;
  return j;
}

/* The job of an umount2(target, flags) call; NULL when an argument is wrong. */
static mount_job *umount_args(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (!get_args(env, info, 2, argv, "umount2(target, flags)")) return NULL;
  mount_job *j = calloc(1, sizeof *j);
  if (!j) return NULL;
  double flags = 0;
  j->op = OP_UMOUNT;
  j->target = string_arg(env, argv[0], 0);
  if (!pending(env) && napi_get_value_double(env, argv[1], &flags) != napi_ok) napi_throw_type_error(env, NULL, "flags must be a number");
  if (pending(env) || !j->target) {
    free_mount_job(j);
    return NULL;
  }
  j->flags = (unsigned long)flags;
  return j;
}

/* A job run in line, for calls that do not wait on the disk (a mount, an unmount that syncs nothing). */
static napi_value run_now(napi_env env, mount_job *j) {
  if (!j) return NULL;
  mount_execute(env, j);
  if (j->base.err) throw_errno(env, j->base.err, op_names[j->op], j->target);
  free_mount_job(j);
  return NULL;
}

/* mount(source|null, target, fstype|null, flags, data|null): Promise<void> */
static napi_value js_mount(napi_env env, napi_callback_info info) {
  mount_job *j = mount_args(env, info);
  return j ? queue_mount(env, j) : NULL;
}

/* mountSync(...): the same in line. */
static napi_value js_mount_sync(napi_env env, napi_callback_info info) {
  return run_now(env, mount_args(env, info));
}

/* umount2(target, flags): Promise<void> */
static napi_value js_umount2(napi_env env, napi_callback_info info) {
  mount_job *j = umount_args(env, info);
  return j ? queue_mount(env, j) : NULL;
}

/* umount2Sync(target, flags): the same in line. */
static napi_value js_umount2_sync(napi_env env, napi_callback_info info) {
  return run_now(env, umount_args(env, info));
}

/* syncfs(path): Promise<void>, the file system holding `path` written to disk. */
static napi_value js_syncfs(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!get_args(env, info, 1, argv, "syncfs(path)")) return NULL;
  mount_job *j = calloc(1, sizeof *j);
  if (!j) return NULL;
  j->op = OP_SYNCFS;
  j->target = string_arg(env, argv[0], 0);
  if (!j->target) {
    free(j);
    return NULL;
  }
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

/* ---- openat2(2): a path opened inside a root (src/sys/in-root.ts) ---- */

/*
 * openat2(dirfd, path, flags, mode, resolve): the new fd. With RESOLVE_IN_ROOT the kernel
 * resolves `path` as if dirfd were `/`, so neither `..` nor a symlink leads out, and it does
 * so in one call: nothing can be swapped between the check and the open. ENOSYS (a kernel
 * before 5.6, or a seccomp filter) tells the caller to walk the path itself.
 */
static napi_value js_openat2(napi_env env, napi_callback_info info) {
  napi_value argv[5], out;
  if (!get_args(env, info, 5, argv, "openat2(dirfd, path, flags, mode, resolve)")) return NULL;
  int32_t dirfd;
  uint32_t flags, mode, resolve;
  if (napi_get_value_int32(env, argv[0], &dirfd) != napi_ok || napi_get_value_uint32(env, argv[2], &flags) != napi_ok ||
      napi_get_value_uint32(env, argv[3], &mode) != napi_ok || napi_get_value_uint32(env, argv[4], &resolve) != napi_ok) {
    napi_throw_type_error(env, NULL, "dirfd, flags, mode and resolve must be numbers");
    return NULL;
  }
  char *path = string_arg(env, argv[1], 0);
  if (!path) return NULL;
  struct open_how how = {.flags = (uint64_t)flags | O_CLOEXEC, .mode = (uint64_t)mode, .resolve = (uint64_t)resolve};
  long fd;
  int tries = 0;
  do fd = syscall(SYS_openat2, dirfd, path, &how, sizeof how);
  while (fd < 0 && errno == EAGAIN && ++tries < 64); /* EAGAIN: a rename raced the walk; the kernel asks for a retry */
  if (fd < 0) throw_errno(env, errno, "openat2", path);
  free(path);
  if (fd < 0) return NULL;
  CHECK(napi_create_int32(env, (int32_t)fd, &out));
  return out;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"mount", NULL, js_mount, NULL, NULL, NULL, napi_default, NULL},
      {"mountSync", NULL, js_mount_sync, NULL, NULL, NULL, napi_default, NULL},
      {"umount2", NULL, js_umount2, NULL, NULL, NULL, napi_default, NULL},
      {"umount2Sync", NULL, js_umount2_sync, NULL, NULL, NULL, napi_default, NULL},
      {"syncfs", NULL, js_syncfs, NULL, NULL, NULL, napi_default, NULL},
      {"lxattrs", NULL, js_lxattrs, NULL, NULL, NULL, napi_default, NULL},
      {"lsetxattr", NULL, js_lsetxattr, NULL, NULL, NULL, napi_default, NULL},
      {"mknod", NULL, js_mknod, NULL, NULL, NULL, napi_default, NULL},
      {"openat2", NULL, js_openat2, NULL, NULL, NULL, napi_default, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  if (berth_spawn_define(env, exports) != napi_ok || berth_hash_define(env, exports) != napi_ok || berth_pty_define(env, exports) != napi_ok ||
      berth_netns_define(env, exports) != napi_ok || berth_veth_define(env, exports) != napi_ok)
    return NULL;
  return exports;
}
