/* Text <-> socket address conversion for the two IP families the addon speaks. */
#ifndef LVSKEEP_ADDRESSES_H
#define LVSKEEP_ADDRESSES_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

/* Longest text form we ever produce or accept (INET6_ADDRSTRLEN = 46 incl. NUL). */
#define LK_ADDR_TEXT 64

/* Parse `text` as an address of `family` (AF_INET/AF_INET6) into `out`; scope_id only applies to IPv6.
 * Returns false for text that is not such an address (no hostnames, no "%scope" suffix). */
bool lk_parse_sockaddr(int family, const char *text, uint32_t scope_id, struct sockaddr_storage *out, socklen_t *out_len);

/* Format raw address bytes (4 or 16) as text. Returns false when the family is unknown. */
bool lk_format_addr(int family, const void *addr_bytes, char *out, size_t out_size);

#endif
