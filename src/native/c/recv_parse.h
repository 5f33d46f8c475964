/* Pure parsing of one datagram received by recvmsg on a raw IP socket: no N-API here, so the
 * fiddly part (IPv4 header lengths, control messages) stays small and easy to review. */
#ifndef LVSKEEP_RECV_PARSE_H
#define LVSKEEP_RECV_PARSE_H

#include "addresses.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct lk_packet_meta {
  size_t payload_offset;  /* where the protocol payload starts in the receive buffer */
  size_t payload_length;
  int ttl;                /* IPv4 TTL from the header / IPv6 hop limit from cmsg; -1 when unknown */
  int ifindex;            /* ingress interface from IP_PKTINFO / IPV6_PKTINFO; 0 when unknown */
  char src[LK_ADDR_TEXT];
  char dst[LK_ADDR_TEXT]; /* empty when unknown */
  const char *malformed;  /* NULL, or a static reason why the datagram could not be parsed */
};

/* `received` is recvmsg's return value (bytes placed in buf), `msg` the msghdr used (for the source
 * address and the control messages). */
void lk_parse_received(int family, const uint8_t *buf, size_t received, const struct msghdr *msg, struct lk_packet_meta *out);

#endif
