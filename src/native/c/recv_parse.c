#include "recv_parse.h"

#include <netinet/in.h>
#include <string.h>

/* IPv4 raw sockets hand us the IP header too (the kernel does not strip it): take TTL from it and
 * skip IHL*4 bytes. Total length bounds the payload in case the buffer holds padding. */
static void parse_ipv4(const uint8_t *buf, size_t received, struct lk_packet_meta *out) {
  if (received < 20) {
    out->malformed = "IPv4 datagram shorter than a 20-byte header";
    return;
  }
  if ((buf[0] >> 4) != 4) {
    out->malformed = "IP header version is not 4";
    return;
  }
  size_t ihl = (size_t)(buf[0] & 0x0f) * 4;
  if (ihl < 20 || ihl > received) {
    out->malformed = "IPv4 header length (IHL) out of range";
    return;
  }
  size_t total = ((size_t)buf[2] << 8) | buf[3];
  size_t end = received;
  if (total >= ihl && total < received) end = total;
  out->ttl = buf[8];
  out->payload_offset = ihl;
  out->payload_length = end - ihl;
  /* Source and destination from the header; IP_PKTINFO (below) supplies ifindex and confirms dst. */
  lk_format_addr(AF_INET, buf + 12, out->src, sizeof out->src);
  lk_format_addr(AF_INET, buf + 16, out->dst, sizeof out->dst);
}

static void parse_cmsgs(int family, const struct msghdr *msg, struct lk_packet_meta *out) {
  /* CMSG_FIRSTHDR/NXTHDR check lengths against msg_controllen; MSG_CTRUNC means some were dropped. */
  for (struct cmsghdr *c = CMSG_FIRSTHDR((struct msghdr *)msg); c != NULL; c = CMSG_NXTHDR((struct msghdr *)msg, c)) {
    size_t data_len = c->cmsg_len >= CMSG_LEN(0) ? c->cmsg_len - CMSG_LEN(0) : 0;
    if (family == AF_INET && c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO && data_len >= sizeof(struct in_pktinfo)) {
      struct in_pktinfo info;
      memcpy(&info, CMSG_DATA(c), sizeof info);
      out->ifindex = info.ipi_ifindex;
      lk_format_addr(AF_INET, &info.ipi_addr, out->dst, sizeof out->dst);
    } else if (family == AF_INET6 && c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO && data_len >= sizeof(struct in6_pktinfo)) {
      struct in6_pktinfo info;
      memcpy(&info, CMSG_DATA(c), sizeof info);
      out->ifindex = (int)info.ipi6_ifindex;
      lk_format_addr(AF_INET6, &info.ipi6_addr, out->dst, sizeof out->dst);
    } else if (family == AF_INET6 && c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT && data_len >= sizeof(int)) {
      int hops;
      memcpy(&hops, CMSG_DATA(c), sizeof hops);
      out->ttl = hops;
    }
  }
}

void lk_parse_received(int family, const uint8_t *buf, size_t received, const struct msghdr *msg, struct lk_packet_meta *out) {
  memset(out, 0, sizeof *out);
  out->ttl = -1;
  if (family == AF_INET) {
    parse_ipv4(buf, received, out);
    if (out->malformed != NULL) {
      /* Still report who sent it, from the socket address, so the drop can be attributed. */
      const struct sockaddr_in *sin = msg->msg_name;
      if (msg->msg_namelen >= sizeof *sin && sin->sin_family == AF_INET) lk_format_addr(AF_INET, &sin->sin_addr, out->src, sizeof out->src);
      return;
    }
  } else {
    /* IPv6 raw sockets deliver only the payload; addresses and hop limit come from ancillary data. */
    out->payload_offset = 0;
    out->payload_length = received;
    const struct sockaddr_in6 *sin6 = msg->msg_name;
    if (msg->msg_namelen >= sizeof *sin6 && sin6->sin6_family == AF_INET6) lk_format_addr(AF_INET6, &sin6->sin6_addr, out->src, sizeof out->src);
  }
  parse_cmsgs(family, msg, out);
}
