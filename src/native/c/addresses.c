#include "addresses.h"

#include <arpa/inet.h>
#include <string.h>

bool lk_parse_sockaddr(int family, const char *text, uint32_t scope_id, struct sockaddr_storage *out, socklen_t *out_len) {
  memset(out, 0, sizeof *out);
  if (family == AF_INET) {
    struct sockaddr_in *sin = (struct sockaddr_in *)out;
    sin->sin_family = AF_INET;
    if (inet_pton(AF_INET, text, &sin->sin_addr) != 1) return false;
    *out_len = sizeof *sin;
    return true;
  }
  if (family == AF_INET6) {
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)out;
    sin6->sin6_family = AF_INET6;
    if (inet_pton(AF_INET6, text, &sin6->sin6_addr) != 1) return false;
    sin6->sin6_scope_id = scope_id;
    *out_len = sizeof *sin6;
    return true;
  }
  return false;
}

bool lk_format_addr(int family, const void *addr_bytes, char *out, size_t out_size) {
  if (out_size == 0) return false;
  out[0] = '\0';
  if (family != AF_INET && family != AF_INET6) return false;
  return inet_ntop(family, addr_bytes, out, (socklen_t)out_size) != NULL;
}
