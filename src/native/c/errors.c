/* Errors become JS exceptions whose `code` is the errno name (EADDRNOTAVAIL, ...), so the TypeScript
 * side can branch on codes exactly as it does for Node's own system errors. */
#include "napi_util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const char *errno_name(int err, char *fallback, size_t size) {
  const char *name = strerrorname_np(err); /* glibc >= 2.32 */
  if (name != NULL) return name;
  snprintf(fallback, size, "E%d", err);
  return fallback;
}

napi_value lk_make_errno_error(napi_env env, int err, const char *context) {
  char fallback[16];
  char message[512];
  const char *name = errno_name(err, fallback, sizeof fallback);
  snprintf(message, sizeof message, "%s: %s (%s)", context, strerror(err), name);
  napi_value code_v, msg_v, error, errno_v;
  if (napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &code_v) != napi_ok) return NULL;
  if (napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &msg_v) != napi_ok) return NULL;
  if (napi_create_error(env, code_v, msg_v, &error) != napi_ok) return NULL;
  if (napi_create_int32(env, err, &errno_v) == napi_ok) napi_set_named_property(env, error, "errno", errno_v);
  return error;
}

void lk_throw_errno(napi_env env, int err, const char *context) {
  napi_value error = lk_make_errno_error(env, err, context);
  if (error != NULL) {
    napi_throw(env, error);
  } else {
    napi_throw_error(env, "ENATIVE", context);
  }
}

void lk_throw_arg(napi_env env, const char *code, const char *message) {
  napi_throw_type_error(env, code, message);
}

void lk_throw_napi_failure(napi_env env, napi_status status, const char *what, const char *file, int line) {
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (pending) return;
  char message[512];
  snprintf(message, sizeof message, "%s:%d: %s failed (napi_status %d)", file, line, what, (int)status);
  napi_throw_error(env, "ENAPI", message);
}

bool lk_arg_int(napi_env env, napi_value v, const char *name, int64_t min, int64_t max, int64_t *out) {
  char message[256];
  napi_valuetype type;
  double d;
  if (napi_typeof(env, v, &type) != napi_ok || type != napi_number || napi_get_value_double(env, v, &d) != napi_ok) {
    snprintf(message, sizeof message, "%s must be a number", name);
    lk_throw_arg(env, "ERR_INVALID_ARG_TYPE", message);
    return false;
  }
  if (!(d >= (double)min && d <= (double)max) || d != (double)(int64_t)d) {
    snprintf(message, sizeof message, "%s must be an integer in [%lld, %lld]", name, (long long)min, (long long)max);
    lk_throw_arg(env, "ERR_OUT_OF_RANGE", message);
    return false;
  }
  *out = (int64_t)d;
  return true;
}

bool lk_arg_bool(napi_env env, napi_value v, const char *name, bool *out) {
  napi_valuetype type;
  if (napi_typeof(env, v, &type) != napi_ok || type != napi_boolean || napi_get_value_bool(env, v, out) != napi_ok) {
    char message[256];
    snprintf(message, sizeof message, "%s must be a boolean", name);
    lk_throw_arg(env, "ERR_INVALID_ARG_TYPE", message);
    return false;
  }
  return true;
}

bool lk_arg_string(napi_env env, napi_value v, const char *name, char *buf, size_t bufsize) {
  char message[256];
  napi_valuetype type;
  size_t len = 0;
  if (napi_typeof(env, v, &type) != napi_ok || type != napi_string ||
      napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) {
    snprintf(message, sizeof message, "%s must be a string", name);
    lk_throw_arg(env, "ERR_INVALID_ARG_TYPE", message);
    return false;
  }
  if (len + 1 > bufsize) {
    snprintf(message, sizeof message, "%s is too long (%zu bytes, at most %zu)", name, len, bufsize - 1);
    lk_throw_arg(env, "ERR_INVALID_ARG_VALUE", message);
    return false;
  }
  size_t copied = 0;
  if (napi_get_value_string_utf8(env, v, buf, bufsize, &copied) != napi_ok) {
    snprintf(message, sizeof message, "%s could not be read", name);
    lk_throw_arg(env, "ERR_INVALID_ARG_VALUE", message);
    return false;
  }
  return true;
}

bool lk_arg_buffer(napi_env env, napi_value v, const char *name, const uint8_t **data, size_t *len) {
  bool is_buffer = false;
  void *ptr = NULL;
  if (napi_is_buffer(env, v, &is_buffer) != napi_ok || !is_buffer || napi_get_buffer_info(env, v, &ptr, len) != napi_ok) {
    char message[256];
    snprintf(message, sizeof message, "%s must be a Buffer", name);
    lk_throw_arg(env, "ERR_INVALID_ARG_TYPE", message);
    return false;
  }
  *data = ptr;
  return true;
}
