/* Checks lk_parse_received on hand-made datagrams and control messages, including the malformed ones a
 * real kernel never delivers. Built with AddressSanitizer/UBSan by test/net/vrrp-io/native-parse.test.ts,
 * so an out-of-bounds read fails the run even when the result happens to look right. */
#include "recv_parse.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0;
#define CHECK(cond, what)                                              \
  do {                                                                 \
    if (!(cond)) {                                                     \
      fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, what);   \
      failures++;                                                      \
    }                                                                  \
  } while (0)

/* A msghdr with an optional PKTINFO (v4 or v6) and HOPLIMIT cmsg, and a source sockaddr. */
struct fake_msg {
  struct msghdr msg;
  struct sockaddr_storage from;
  union {
    struct cmsghdr align;
    unsigned char bytes[256];
  } control;
};

static void init_msg(struct fake_msg *m, int family, const char *src) {
  memset(m, 0, sizeof *m);
  m->msg.msg_name = &m->from;
  if (family == AF_INET) {
    struct sockaddr_in *sin = (struct sockaddr_in *)&m->from;
    sin->sin_family = AF_INET;
    inet_pton(AF_INET, src, &sin->sin_addr);
    m->msg.msg_namelen = sizeof *sin;
  } else {
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&m->from;
    sin6->sin6_family = AF_INET6;
    inet_pton(AF_INET6, src, &sin6->sin6_addr);
    m->msg.msg_namelen = sizeof *sin6;
  }
  m->msg.msg_control = m->control.bytes;
  m->msg.msg_controllen = 0;
}

static struct cmsghdr *add_cmsg(struct fake_msg *m, int level, int type, const void *data, size_t len) {
  size_t offset = m->msg.msg_controllen;
  struct cmsghdr *c = (struct cmsghdr *)(m->control.bytes + offset);
  c->cmsg_level = level;
  c->cmsg_type = type;
  c->cmsg_len = CMSG_LEN(len);
  memcpy(CMSG_DATA(c), data, len);
  m->msg.msg_controllen = offset + CMSG_SPACE(len);
  return c;
}

static void ipv4_header(unsigned char *b, unsigned ihl_words, unsigned total, unsigned ttl) {
  memset(b, 0, 20);
  b[0] = (unsigned char)(0x40 | ihl_words);
  b[2] = (unsigned char)(total >> 8);
  b[3] = (unsigned char)total;
  b[8] = (unsigned char)ttl;
  b[9] = 112;
  inet_pton(AF_INET, "192.0.2.1", b + 12);
  inet_pton(AF_INET, "224.0.0.18", b + 16);
}

int main(void) {
  struct lk_packet_meta meta;
  struct fake_msg m;

  /* A normal IPv4 datagram: 20-byte header + 12-byte payload, with IP_PKTINFO. */
  unsigned char *buf = malloc(32); /* exact size, so ASan catches any read past the datagram */
  ipv4_header(buf, 5, 32, 255);
  memset(buf + 20, 0xab, 12);
  init_msg(&m, AF_INET, "192.0.2.1");
  struct in_pktinfo pi;
  memset(&pi, 0, sizeof pi);
  pi.ipi_ifindex = 7;
  inet_pton(AF_INET, "224.0.0.18", &pi.ipi_addr);
  add_cmsg(&m, IPPROTO_IP, IP_PKTINFO, &pi, sizeof pi);
  lk_parse_received(AF_INET, buf, 32, &m.msg, &meta);
  CHECK(meta.malformed == NULL, "valid IPv4 is not malformed");
  CHECK(meta.payload_offset == 20 && meta.payload_length == 12, "IPv4 payload bounds");
  CHECK(meta.ttl == 255, "IPv4 TTL from header");
  CHECK(meta.ifindex == 7, "ifindex from IP_PKTINFO");
  CHECK(strcmp(meta.src, "192.0.2.1") == 0 && strcmp(meta.dst, "224.0.0.18") == 0, "IPv4 addresses");

  /* IPv4 options: IHL 6 (24 bytes) moves the payload start. */
  ipv4_header(buf, 6, 32, 64);
  lk_parse_received(AF_INET, buf, 32, &m.msg, &meta);
  CHECK(meta.malformed == NULL && meta.payload_offset == 24 && meta.payload_length == 8 && meta.ttl == 64, "IHL 6");

  /* Total length shorter than what was received: trailing bytes are not payload. */
  ipv4_header(buf, 5, 28, 255);
  lk_parse_received(AF_INET, buf, 32, &m.msg, &meta);
  CHECK(meta.payload_length == 8, "total length bounds the payload");

  /* Malformed: IHL past the end, IHL below 5, wrong version, too short. */
  ipv4_header(buf, 15, 32, 255);
  lk_parse_received(AF_INET, buf, 32, &m.msg, &meta);
  CHECK(meta.malformed != NULL && strcmp(meta.src, "192.0.2.1") == 0, "IHL 15 > datagram is malformed, sender still named");
  ipv4_header(buf, 4, 32, 255);
  lk_parse_received(AF_INET, buf, 32, &m.msg, &meta);
  CHECK(meta.malformed != NULL, "IHL 4 is malformed");
  ipv4_header(buf, 5, 32, 255);
  buf[0] = 0x65;
  lk_parse_received(AF_INET, buf, 32, &m.msg, &meta);
  CHECK(meta.malformed != NULL, "version 6 in an IPv4 socket is malformed");
  for (size_t n = 0; n < 20; n++) {
    unsigned char *short_buf = malloc(n ? n : 1);
    memcpy(short_buf, buf, n);
    lk_parse_received(AF_INET, short_buf, n, &m.msg, &meta);
    CHECK(meta.malformed != NULL, "datagram shorter than 20 bytes is malformed");
    free(short_buf);
  }
  free(buf);

  /* IPv6: payload only; PKTINFO and HOPLIMIT from cmsgs. */
  unsigned char v6payload[12];
  memset(v6payload, 0xcd, sizeof v6payload);
  init_msg(&m, AF_INET6, "fe80::1");
  struct in6_pktinfo pi6;
  memset(&pi6, 0, sizeof pi6);
  pi6.ipi6_ifindex = 9;
  inet_pton(AF_INET6, "ff02::12", &pi6.ipi6_addr);
  add_cmsg(&m, IPPROTO_IPV6, IPV6_PKTINFO, &pi6, sizeof pi6);
  int hops = 255;
  add_cmsg(&m, IPPROTO_IPV6, IPV6_HOPLIMIT, &hops, sizeof hops);
  lk_parse_received(AF_INET6, v6payload, sizeof v6payload, &m.msg, &meta);
  CHECK(meta.malformed == NULL && meta.payload_offset == 0 && meta.payload_length == 12, "IPv6 payload");
  CHECK(meta.ttl == 255 && meta.ifindex == 9, "IPv6 hop limit and ifindex");
  CHECK(strcmp(meta.src, "fe80::1") == 0 && strcmp(meta.dst, "ff02::12") == 0, "IPv6 addresses");

  /* No control messages at all: unknowns stay unknown, nothing is invented. */
  init_msg(&m, AF_INET6, "fe80::1");
  lk_parse_received(AF_INET6, v6payload, sizeof v6payload, &m.msg, &meta);
  CHECK(meta.ttl == -1 && meta.ifindex == 0 && meta.dst[0] == '\0', "missing cmsgs give unknowns");

  /* A truncated HOPLIMIT cmsg (too short for an int) is ignored, not read past. */
  init_msg(&m, AF_INET6, "fe80::1");
  unsigned char one = 1;
  add_cmsg(&m, IPPROTO_IPV6, IPV6_HOPLIMIT, &one, 1);
  lk_parse_received(AF_INET6, v6payload, sizeof v6payload, &m.msg, &meta);
  CHECK(meta.ttl == -1, "short HOPLIMIT cmsg ignored");

  /* An IPv4 PKTINFO on an IPv6 socket is not mistaken for IPV6_PKTINFO. */
  init_msg(&m, AF_INET6, "fe80::1");
  add_cmsg(&m, IPPROTO_IP, IP_PKTINFO, &pi, sizeof pi);
  lk_parse_received(AF_INET6, v6payload, sizeof v6payload, &m.msg, &meta);
  CHECK(meta.ifindex == 0, "foreign-level cmsg ignored");

  if (failures == 0) printf("recv_parse: all checks passed\n");
  return failures == 0 ? 0 : 1;
}
