/*
 * SHA-256 and random bytes for berth without node:crypto, whose load (sixteen internal
 * modules) costs about 1.5 ms of every command, while a command needs only these two. The
 * hash is OpenSSL's EVP SHA-256, from the OpenSSL that Node carries and exports to addons:
 * the same code node:crypto runs. Random bytes come from getrandom(2).
 *
 * A hash is an External holding its EVP_MD_CTX; the context is freed by sha256Digest, or
 * by the garbage collector for one never finished. Built with BERTH_NO_OPENSSL (no OpenSSL
 * headers beside Node's), only randomFill is defined, and src/sys/hash.ts uses node:crypto.
 */
#include "berth_sys.h"
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#ifndef BERTH_NO_OPENSSL
#include <openssl/evp.h>
#endif

/* randomFill(buffer): fills it from the kernel's pool, as crypto.randomFillSync does. */
static napi_value js_random_fill(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  void *data;
  size_t len;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1 || napi_get_buffer_info(env, argv[0], &data, &len) != napi_ok) {
    napi_throw_type_error(env, NULL, "randomFill(buffer)");
    return NULL;
  }
  for (size_t off = 0; off < len;) {
    ssize_t n = getrandom((char *)data + off, len - off, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      napi_throw_error(env, NULL, strerror(errno));
      return NULL;
    }
    off += (size_t)n;
  }
  return argv[0];
}

#ifndef BERTH_NO_OPENSSL
/* One fetch of the implementation for every hash (and thread): EVP_sha256() would look it up per init. */
static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void fetch_sha256(void) {
  sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

/* The context behind an External (NULL after its digest). */
static EVP_MD_CTX **ctx_of(napi_env env, napi_value v) {
  void *p = NULL;
  if (napi_get_value_external(env, v, &p) != napi_ok || !p) {
    napi_throw_type_error(env, NULL, "not a sha256 hash");
    return NULL;
  }
  return p;
}

static void free_slot(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  EVP_MD_CTX **slot = data;
  EVP_MD_CTX_free(*slot); /* NULL once digested */
  free(slot);
}

/* sha256New(): a new hash. */
static napi_value js_sha256_new(napi_env env, napi_callback_info info) {
  (void)info;
  pthread_once(&sha256_once, fetch_sha256);
  if (!sha256_md) {
    napi_throw_error(env, NULL, "OpenSSL has no SHA256");
    return NULL;
  }
  EVP_MD_CTX **slot = malloc(sizeof *slot);
  if (!slot) return NULL;
  *slot = EVP_MD_CTX_new();
  if (!*slot || EVP_DigestInit_ex(*slot, sha256_md, NULL) != 1) {
    EVP_MD_CTX_free(*slot);
    free(slot);
    napi_throw_error(env, NULL, "EVP_DigestInit_ex failed");
    return NULL;
  }
  napi_value ext;
  if (napi_create_external(env, slot, free_slot, NULL, &ext) != napi_ok) {
    EVP_MD_CTX_free(*slot);
    free(slot);
    return NULL;
  }
  return ext;
}

/* The call's `want` arguments, the first a hash not yet digested: its slot, or NULL (thrown). */
static EVP_MD_CTX **live_hash(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  EVP_MD_CTX **slot = argc == want ? ctx_of(env, argv[0]) : NULL;
  if (!slot) return NULL;
  if (*slot) return slot;
  napi_throw_error(env, NULL, "the hash has been digested");
  return NULL;
}

/* sha256Update(hash, data): data is a Buffer (any Uint8Array) or a string, taken as UTF-8. */
static napi_value js_sha256_update(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  EVP_MD_CTX **slot = live_hash(env, info, 2, argv);
  if (!slot) return NULL;
  EVP_MD_CTX *ctx = *slot;
  napi_valuetype t;
  CHECK(napi_typeof(env, argv[1], &t));
  int ok;
  if (t == napi_string) {
    size_t len;
    CHECK(napi_get_value_string_utf8(env, argv[1], NULL, 0, &len));
    char small[1024];
    char *s = len < sizeof small ? small : malloc(len + 1);
    if (!s) return NULL;
    ok = napi_get_value_string_utf8(env, argv[1], s, len + 1, &len) == napi_ok && EVP_DigestUpdate(ctx, s, len) == 1;
    if (s != small) free(s);
  } else {
    napi_typedarray_type kind;
    size_t length, offset;
    void *data;
    napi_value ab;
    bool is_ta = false;
    CHECK(napi_is_typedarray(env, argv[1], &is_ta));
    if (!is_ta || napi_get_typedarray_info(env, argv[1], &kind, &length, &data, &ab, &offset) != napi_ok || kind != napi_uint8_array) {
      napi_throw_type_error(env, NULL, "sha256Update(hash, Uint8Array | string)");
      return NULL;
    }
    ok = EVP_DigestUpdate(ctx, data, length) == 1;
  }
  if (!ok) {
    napi_throw_error(env, NULL, "EVP_DigestUpdate failed");
    return NULL;
  }
  return NULL;
}

/* sha256Digest(hash): the 32-byte digest as a Buffer; the hash is finished. */
static napi_value js_sha256_digest(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  EVP_MD_CTX **slot = live_hash(env, info, 1, argv);
  if (!slot) return NULL;
  void *out;
  napi_value buf;
  CHECK(napi_create_buffer(env, 32, &out, &buf));
  unsigned int n = 0;
  int ok = EVP_DigestFinal_ex(*slot, out, &n);
  EVP_MD_CTX_free(*slot);
  *slot = NULL;
  if (ok != 1 || n != 32) {
    napi_throw_error(env, NULL, "EVP_DigestFinal_ex failed");
    return NULL;
  }
  return buf;
}
#endif

napi_status berth_hash_define(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"randomFill", NULL, js_random_fill, NULL, NULL, NULL, napi_default, NULL},
#ifndef BERTH_NO_OPENSSL
      {"sha256New", NULL, js_sha256_new, NULL, NULL, NULL, napi_default, NULL},
      {"sha256Update", NULL, js_sha256_update, NULL, NULL, NULL, napi_default, NULL},
      {"sha256Digest", NULL, js_sha256_digest, NULL, NULL, NULL, napi_default, NULL},
#endif
  };
  return napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
