/* Small helpers shared by the addon's C files. */
#ifndef LVSKEEP_NAPI_UTIL_H
#define LVSKEEP_NAPI_UTIL_H

#include <node_api.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bail out of a napi callback when a napi call fails; napi has already set a pending exception
 * in most cases, and when it has not we raise a generic one so JS never sees a silent undefined. */
#define NAPI_CALL(env, call)                                                  \
  do {                                                                        \
    napi_status status_ = (call);                                             \
    if (status_ != napi_ok) {                                                 \
      lk_throw_napi_failure((env), status_, #call, __FILE__, __LINE__);       \
      return NULL;                                                            \
    }                                                                         \
  } while (0)

/* Throw Error(code = errno name) with "context: strerror (ENAME)". */
void lk_throw_errno(napi_env env, int err, const char *context);
/* Throw TypeError(code = ERR_INVALID_ARG_TYPE / ERR_INVALID_ARG_VALUE). */
void lk_throw_arg(napi_env env, const char *code, const char *message);
void lk_throw_napi_failure(napi_env env, napi_status status, const char *what, const char *file, int line);

/* Create an Error value (not thrown) for delivery to a callback. */
napi_value lk_make_errno_error(napi_env env, int err, const char *context);

/* Argument readers: return false after throwing a TypeError naming the argument. */
bool lk_arg_int(napi_env env, napi_value v, const char *name, int64_t min, int64_t max, int64_t *out);
bool lk_arg_bool(napi_env env, napi_value v, const char *name, bool *out);
/* Copies a string argument into buf (NUL terminated); fails when it does not fit. */
bool lk_arg_string(napi_env env, napi_value v, const char *name, char *buf, size_t bufsize);
bool lk_arg_buffer(napi_env env, napi_value v, const char *name, const uint8_t **data, size_t *len);

#endif
