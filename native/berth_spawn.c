/*
 * posix_spawn(3) with each of stdin, stdout and stderr a pipe, /dev/null or inherited, and
 * waitpid(2) on the thread pool: Node's spawn forks, copying the page tables of its whole
 * heap, which grows with the heap; posix_spawn shares the memory until the exec.
 */
#define _GNU_SOURCE
#include "berth_sys.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

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

/* What each of the child's fds 0-2 becomes: a new pipe, /dev/null, or this process's own. */
enum { STDIO_PIPE = 0, STDIO_IGNORE = 1, STDIO_INHERIT = 2 };

/*
 * spawn(file, argv, env, stdio): {pid, fds}: stdio holds three STDIO_* values, for fds 0-2;
 * fds holds this side of each pipe (the write end for stdin, the read end for stdout and
 * stderr, close-on-exec), or -1 where there is none. Signal dispositions go back to their
 * defaults (Node ignores SIGPIPE) and the mask is emptied.
 */
static napi_value js_spawn(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  if (!get_args(env, info, 4, argv, "spawn(file, argv, env, stdio)")) return NULL;
  int32_t kinds[3];
  for (uint32_t i = 0; i < 3; i++) {
    napi_value v;
    if (napi_get_element(env, argv[3], i, &v) != napi_ok || napi_get_value_int32(env, v, &kinds[i]) != napi_ok || kinds[i] < STDIO_PIPE || kinds[i] > STDIO_INHERIT) {
      napi_throw_type_error(env, NULL, "spawn: stdio is three of 0 (pipe), 1 (ignore), 2 (inherit)");
      return NULL;
    }
  }
  char *file = string_arg(env, argv[0], 0);
  char **args = file ? string_array(env, argv[1]) : NULL;
  char **envp = args ? string_array(env, argv[2]) : NULL;
  napi_value result = NULL;
  int pipes[3][2] = {{-1, -1}, {-1, -1}, {-1, -1}};
  int ours[3] = {-1, -1, -1};
  if (!envp) goto done;
  for (int i = 0; i < 3; i++) {
    if (kinds[i] != STDIO_PIPE) continue;
    if (pipe2(pipes[i], O_CLOEXEC) != 0) {
      throw_errno(env, errno, "pipe2", file);
      goto done;
    }
  }
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  sigset_t all, none;
  sigfillset(&all);
  sigemptyset(&none);
  posix_spawn_file_actions_init(&fa);
  for (int i = 0; i < 3; i++) {
    /* stdin reads the pipe's read end; stdout and stderr write its write end. */
    if (kinds[i] == STDIO_PIPE) posix_spawn_file_actions_adddup2(&fa, pipes[i][i == 0 ? 0 : 1], i);
    else if (kinds[i] == STDIO_IGNORE) posix_spawn_file_actions_addopen(&fa, i, "/dev/null", i == 0 ? O_RDONLY : O_WRONLY, 0);
    /* libuv marks a terminal's fds close-on-exec when it reopens them: a dup2 onto itself clears that. */
    else posix_spawn_file_actions_adddup2(&fa, i, i);
  }
  posix_spawnattr_init(&attr);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  pid_t pid;
  int rc = posix_spawn(&pid, file, &fa, &attr, args, envp);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  for (int i = 0; i < 3; i++) {
    if (pipes[i][0] < 0) continue;
    int child_end = i == 0 ? 0 : 1;
    close(pipes[i][child_end]);
    ours[i] = pipes[i][1 - child_end];
    pipes[i][0] = pipes[i][1] = -1;
  }
  if (rc != 0) {
    for (int i = 0; i < 3; i++)
      if (ours[i] >= 0) close(ours[i]);
    throw_errno(env, rc, "posix_spawn", file);
    goto done;
  }
  napi_value v, fds;
  napi_create_object(env, &result);
  napi_create_int32(env, pid, &v);
  napi_set_named_property(env, result, "pid", v);
  napi_create_array_with_length(env, 3, &fds);
  for (uint32_t i = 0; i < 3; i++) {
    napi_create_int32(env, ours[i], &v);
    napi_set_element(env, fds, i, v);
  }
  napi_set_named_property(env, result, "fds", fds);
done:
  for (int i = 0; i < 3; i++) {
    if (pipes[i][0] >= 0) close(pipes[i][0]);
    if (pipes[i][1] >= 0) close(pipes[i][1]);
  }
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

napi_status berth_spawn_define(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"spawn", NULL, js_spawn, NULL, NULL, NULL, napi_default, NULL},
      {"waitpid", NULL, js_waitpid, NULL, NULL, NULL, napi_default, NULL},
  };
  return napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
