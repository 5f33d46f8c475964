/* RawSocket: a non-blocking raw IP socket (one family, one protocol) whose readability is watched by
 * a uv_poll_t on Node's own loop. Each wake-up drains up to LK_BATCH datagrams (until EAGAIN) and
 * hands them to JS in one call, so a flood cannot starve the loop and a quiet socket costs nothing. */
#include "raw_socket.h"

#include "addresses.h"
#include "napi_util.h"
#include "recv_parse.h"

#include <errno.h>
#include <linux/filter.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#define LK_BATCH 64
/* Large enough for any IPv4/IPv6 datagram, so MSG_TRUNC only appears for jumbograms. */
#define LK_RECV_BUF 65536

typedef struct {
  napi_env env;
  int fd;
  int family; /* AF_INET or AF_INET6 */
  int protocol;
  bool closed;
  uv_poll_t *poll;          /* heap-allocated: it must outlive us until uv_close's callback runs */
  napi_ref callback_ref;    /* JS receive callback while receiving */
  napi_ref self_ref;        /* keeps the JS object alive while receiving */
  napi_async_context async; /* for napi_make_callback (async hooks, domains, microtask drain) */
  uint8_t *buf;
} raw_socket_t;

static void on_poll_closed(uv_handle_t *handle) { free(handle); }

static void stop_receiving(raw_socket_t *s) {
  if (s->poll != NULL) {
    uv_poll_stop(s->poll);
    s->poll->data = NULL;
    uv_close((uv_handle_t *)s->poll, on_poll_closed);
    s->poll = NULL;
  }
  if (s->callback_ref != NULL) {
    napi_delete_reference(s->env, s->callback_ref);
    s->callback_ref = NULL;
  }
  if (s->self_ref != NULL) {
    napi_delete_reference(s->env, s->self_ref);
    s->self_ref = NULL;
  }
  if (s->async != NULL) {
    napi_async_destroy(s->env, s->async);
    s->async = NULL;
  }
}

/* Idempotent: the poll is stopped before the fd is closed (libuv requires it), and the fd is closed once. */
static void close_socket(raw_socket_t *s) {
  if (s->closed) return;
  s->closed = true;
  stop_receiving(s);
  if (s->fd >= 0) {
    close(s->fd); /* on Linux the fd is released even if close reports EINTR: never retry */
    s->fd = -1;
  }
}

static void finalize(napi_env env, void *data, void *hint) {
  raw_socket_t *s = data;
  close_socket(s);
  free(s->buf);
  free(s);
}

/* Unwraps `this` and checks it is open; throws and returns NULL otherwise. */
static raw_socket_t *unwrap_open(napi_env env, napi_value self, const char *method) {
  raw_socket_t *s = NULL;
  if (napi_unwrap(env, self, (void **)&s) != napi_ok || s == NULL) {
    napi_throw_type_error(env, "ERR_INVALID_THIS", "RawSocket method called on a non-RawSocket");
    return NULL;
  }
  if (s->closed) {
    char message[128];
    snprintf(message, sizeof message, "RawSocket.%s: socket is closed", method);
    napi_throw_error(env, "EBADF", message);
    return NULL;
  }
  return s;
}

static bool set_int_option(napi_env env, raw_socket_t *s, int level, int name, int value, const char *what) {
  if (setsockopt(s->fd, level, name, &value, sizeof value) != 0) {
    lk_throw_errno(env, errno, what);
    return false;
  }
  return true;
}

/* Reads this + up to `max` args; returns the socket or NULL (exception pending). */
static raw_socket_t *method_prologue(napi_env env, napi_callback_info info, size_t want, napi_value *argv, napi_value *self, const char *method) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, self, NULL) != napi_ok) return NULL;
  if (argc < want) {
    char message[128];
    snprintf(message, sizeof message, "RawSocket.%s expects %zu argument(s), got %zu", method, want, argc);
    napi_throw_type_error(env, "ERR_MISSING_ARGS", message);
    return NULL;
  }
  return unwrap_open(env, *self, method);
}

/* new RawSocket(family: 4 | 6, protocol: number) */
static napi_value constructor(napi_env env, napi_callback_info info) {
  napi_value argv[2], self;
  size_t argc = 2;
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, &self, NULL));
  if (argc < 2) {
    napi_throw_type_error(env, "ERR_MISSING_ARGS", "new RawSocket(family, protocol) needs 2 arguments");
    return NULL;
  }
  int64_t family_num, protocol;
  if (!lk_arg_int(env, argv[0], "family", 4, 6, &family_num)) return NULL;
  if (family_num != 4 && family_num != 6) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "family must be 4 or 6");
    return NULL;
  }
  if (!lk_arg_int(env, argv[1], "protocol", 1, 255, &protocol)) return NULL;
  int family = family_num == 4 ? AF_INET : AF_INET6;

  int fd = socket(family, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, (int)protocol);
  if (fd < 0) {
    char context[96];
    snprintf(context, sizeof context, "socket(AF_INET%s, SOCK_RAW, %d)", family == AF_INET ? "" : "6", (int)protocol);
    lk_throw_errno(env, errno, context);
    return NULL;
  }
  /* Ask for the metadata every receiver needs: ingress interface and destination (PKTINFO), and for
   * IPv6 the hop limit (IPv4's TTL is read from the header the kernel passes up on raw sockets). */
  int one = 1;
  int rc;
  const char *what;
  if (family == AF_INET) {
    rc = setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one);
    what = "setsockopt(IP_PKTINFO)";
  } else {
    rc = setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one);
    what = "setsockopt(IPV6_RECVPKTINFO)";
    if (rc == 0) {
      rc = setsockopt(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &one, sizeof one);
      what = "setsockopt(IPV6_RECVHOPLIMIT)";
    }
  }
  if (rc != 0) {
    int err = errno;
    close(fd);
    lk_throw_errno(env, err, what);
    return NULL;
  }

  raw_socket_t *s = calloc(1, sizeof *s);
  uint8_t *buf = malloc(LK_RECV_BUF);
  if (s == NULL || buf == NULL) {
    free(s);
    free(buf);
    close(fd);
    lk_throw_errno(env, ENOMEM, "RawSocket allocation");
    return NULL;
  }
  s->env = env;
  s->fd = fd;
  s->family = family;
  s->protocol = (int)protocol;
  s->buf = buf;
  if (napi_wrap(env, self, s, finalize, NULL, NULL) != napi_ok) {
    close(fd);
    free(buf);
    free(s);
    lk_throw_napi_failure(env, napi_generic_failure, "napi_wrap", __FILE__, __LINE__);
    return NULL;
  }
  return self;
}

/* bindToDevice(ifname): SO_BINDTODEVICE, so only this interface's traffic reaches the socket. */
static napi_value bind_to_device(napi_env env, napi_callback_info info) {
  napi_value argv[1], self;
  raw_socket_t *s = method_prologue(env, info, 1, argv, &self, "bindToDevice");
  if (s == NULL) return NULL;
  char ifname[IFNAMSIZ];
  if (!lk_arg_string(env, argv[0], "ifname", ifname, sizeof ifname)) return NULL;
  if (setsockopt(s->fd, SOL_SOCKET, SO_BINDTODEVICE, ifname, (socklen_t)strlen(ifname) + 1) != 0) {
    char context[96];
    snprintf(context, sizeof context, "setsockopt(SO_BINDTODEVICE, %s)", ifname);
    lk_throw_errno(env, errno, context);
  }
  return NULL;
}

/* bindAddress(address, scopeId): sets the source address of sent packets. Note for callers: a raw
 * socket bound to an address also only RECEIVES packets addressed to it, so a multicast receiver
 * must stay unbound (the transport uses a separate socket for sending). */
static napi_value bind_address(napi_env env, napi_callback_info info) {
  napi_value argv[2], self;
  raw_socket_t *s = method_prologue(env, info, 2, argv, &self, "bindAddress");
  if (s == NULL) return NULL;
  char text[LK_ADDR_TEXT];
  int64_t scope;
  if (!lk_arg_string(env, argv[0], "address", text, sizeof text)) return NULL;
  if (!lk_arg_int(env, argv[1], "scopeId", 0, UINT32_MAX, &scope)) return NULL;
  struct sockaddr_storage ss;
  socklen_t len;
  char context[128];
  if (!lk_parse_sockaddr(s->family, text, (uint32_t)scope, &ss, &len)) {
    snprintf(context, sizeof context, "bindAddress: '%s' is not an IPv%d address", text, s->family == AF_INET ? 4 : 6);
    napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE", context);
    return NULL;
  }
  if (bind(s->fd, (struct sockaddr *)&ss, len) != 0) {
    snprintf(context, sizeof context, "bind(%s, scope %lld)", text, (long long)scope);
    lk_throw_errno(env, errno, context);
  }
  return NULL;
}

static napi_value membership(napi_env env, napi_callback_info info, bool join) {
  napi_value argv[2], self;
  raw_socket_t *s = method_prologue(env, info, 2, argv, &self, join ? "joinGroup" : "leaveGroup");
  if (s == NULL) return NULL;
  char group[LK_ADDR_TEXT];
  int64_t ifindex;
  if (!lk_arg_string(env, argv[0], "group", group, sizeof group)) return NULL;
  if (!lk_arg_int(env, argv[1], "ifindex", 0, INT32_MAX, &ifindex)) return NULL;
  struct sockaddr_storage ss;
  socklen_t len;
  char context[128];
  if (!lk_parse_sockaddr(s->family, group, 0, &ss, &len)) {
    snprintf(context, sizeof context, "%s: '%s' is not an IPv%d address", join ? "joinGroup" : "leaveGroup", group, s->family == AF_INET ? 4 : 6);
    napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE", context);
    return NULL;
  }
  int rc;
  if (s->family == AF_INET) {
    struct ip_mreqn mreq;
    memset(&mreq, 0, sizeof mreq);
    mreq.imr_multiaddr = ((struct sockaddr_in *)&ss)->sin_addr;
    mreq.imr_ifindex = (int)ifindex;
    rc = setsockopt(s->fd, IPPROTO_IP, join ? IP_ADD_MEMBERSHIP : IP_DROP_MEMBERSHIP, &mreq, sizeof mreq);
  } else {
    struct ipv6_mreq mreq;
    memset(&mreq, 0, sizeof mreq);
    mreq.ipv6mr_multiaddr = ((struct sockaddr_in6 *)&ss)->sin6_addr;
    mreq.ipv6mr_interface = (unsigned)ifindex;
    rc = setsockopt(s->fd, IPPROTO_IPV6, join ? IPV6_ADD_MEMBERSHIP : IPV6_DROP_MEMBERSHIP, &mreq, sizeof mreq);
  }
  if (rc != 0) {
    snprintf(context, sizeof context, "setsockopt(%s %s, ifindex %lld)", join ? "ADD_MEMBERSHIP" : "DROP_MEMBERSHIP", group, (long long)ifindex);
    lk_throw_errno(env, errno, context);
  }
  return NULL;
}
static napi_value join_group(napi_env env, napi_callback_info info) { return membership(env, info, true); }
static napi_value leave_group(napi_env env, napi_callback_info info) { return membership(env, info, false); }

/* setMulticastInterface(ifindex): the interface multicast is sent out of. */
static napi_value set_multicast_interface(napi_env env, napi_callback_info info) {
  napi_value argv[1], self;
  raw_socket_t *s = method_prologue(env, info, 1, argv, &self, "setMulticastInterface");
  if (s == NULL) return NULL;
  int64_t ifindex;
  if (!lk_arg_int(env, argv[0], "ifindex", 0, INT32_MAX, &ifindex)) return NULL;
  if (s->family == AF_INET) {
    struct ip_mreqn mreq;
    memset(&mreq, 0, sizeof mreq);
    mreq.imr_ifindex = (int)ifindex;
    if (setsockopt(s->fd, IPPROTO_IP, IP_MULTICAST_IF, &mreq, sizeof mreq) != 0) lk_throw_errno(env, errno, "setsockopt(IP_MULTICAST_IF)");
  } else {
    set_int_option(env, s, IPPROTO_IPV6, IPV6_MULTICAST_IF, (int)ifindex, "setsockopt(IPV6_MULTICAST_IF)");
  }
  return NULL;
}

/* setTtl(ttl): unicast AND multicast TTL / hop limit (VRRP requires 255 for both). */
static napi_value set_ttl(napi_env env, napi_callback_info info) {
  napi_value argv[1], self;
  raw_socket_t *s = method_prologue(env, info, 1, argv, &self, "setTtl");
  if (s == NULL) return NULL;
  int64_t ttl;
  if (!lk_arg_int(env, argv[0], "ttl", 1, 255, &ttl)) return NULL;
  if (s->family == AF_INET) {
    if (set_int_option(env, s, IPPROTO_IP, IP_TTL, (int)ttl, "setsockopt(IP_TTL)"))
      set_int_option(env, s, IPPROTO_IP, IP_MULTICAST_TTL, (int)ttl, "setsockopt(IP_MULTICAST_TTL)");
  } else {
    if (set_int_option(env, s, IPPROTO_IPV6, IPV6_UNICAST_HOPS, (int)ttl, "setsockopt(IPV6_UNICAST_HOPS)"))
      set_int_option(env, s, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, (int)ttl, "setsockopt(IPV6_MULTICAST_HOPS)");
  }
  return NULL;
}

/* setMulticastLoop(on): off for VRRP, or a node would hear its own adverts. */
static napi_value set_multicast_loop(napi_env env, napi_callback_info info) {
  napi_value argv[1], self;
  raw_socket_t *s = method_prologue(env, info, 1, argv, &self, "setMulticastLoop");
  if (s == NULL) return NULL;
  bool on;
  if (!lk_arg_bool(env, argv[0], "on", &on)) return NULL;
  if (s->family == AF_INET) set_int_option(env, s, IPPROTO_IP, IP_MULTICAST_LOOP, on ? 1 : 0, "setsockopt(IP_MULTICAST_LOOP)");
  else set_int_option(env, s, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, on ? 1 : 0, "setsockopt(IPV6_MULTICAST_LOOP)");
  return NULL;
}

/* setMulticastAll(on): Linux defaults to delivering every group joined by ANY socket; off restricts a
 * socket to the groups it joined itself. */
static napi_value set_multicast_all(napi_env env, napi_callback_info info) {
  napi_value argv[1], self;
  raw_socket_t *s = method_prologue(env, info, 1, argv, &self, "setMulticastAll");
  if (s == NULL) return NULL;
  bool on;
  if (!lk_arg_bool(env, argv[0], "on", &on)) return NULL;
  if (s->family == AF_INET) set_int_option(env, s, IPPROTO_IP, IP_MULTICAST_ALL, on ? 1 : 0, "setsockopt(IP_MULTICAST_ALL)");
#ifdef IPV6_MULTICAST_ALL
  else set_int_option(env, s, IPPROTO_IPV6, IPV6_MULTICAST_ALL, on ? 1 : 0, "setsockopt(IPV6_MULTICAST_ALL)");
#endif
  return NULL;
}

/* setIpv6Checksum(offset): -1 = off (default; lvskeep's codec computes and checks the VRRP checksum
 * with its pseudo-header itself), else the kernel fills/verifies the 16-bit checksum at `offset`. */
static napi_value set_ipv6_checksum(napi_env env, napi_callback_info info) {
  napi_value argv[1], self;
  raw_socket_t *s = method_prologue(env, info, 1, argv, &self, "setIpv6Checksum");
  if (s == NULL) return NULL;
  int64_t offset;
  if (!lk_arg_int(env, argv[0], "offset", -1, 65534, &offset)) return NULL;
  if (s->family != AF_INET6) {
    napi_throw_error(env, "EPROTONOSUPPORT", "setIpv6Checksum: only IPv6 raw sockets have IPV6_CHECKSUM");
    return NULL;
  }
  set_int_option(env, s, IPPROTO_IPV6, IPV6_CHECKSUM, (int)offset, "setsockopt(IPV6_CHECKSUM)");
  return NULL;
}

/* dropAllInput(): attach a one-instruction BPF filter that accepts nothing. A send-only raw socket
 * would otherwise queue a copy of every proto-112 packet that nobody reads. */
static napi_value drop_all_input(napi_env env, napi_callback_info info) {
  napi_value argv[1], self;
  raw_socket_t *s = method_prologue(env, info, 0, argv, &self, "dropAllInput");
  if (s == NULL) return NULL;
  struct sock_filter code[1] = {{BPF_RET | BPF_K, 0, 0, 0}};
  struct sock_fprog prog = {.len = 1, .filter = code};
  if (setsockopt(s->fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) != 0) lk_throw_errno(env, errno, "setsockopt(SO_ATTACH_FILTER)");
  return NULL;
}

/* send(payload, dest, scopeId) -> bytes sent. Never blocks: a full send queue is EAGAIN. */
static napi_value send_to(napi_env env, napi_callback_info info) {
  napi_value argv[3], self;
  raw_socket_t *s = method_prologue(env, info, 3, argv, &self, "send");
  if (s == NULL) return NULL;
  const uint8_t *data;
  size_t len;
  char dest[LK_ADDR_TEXT];
  int64_t scope;
  if (!lk_arg_buffer(env, argv[0], "payload", &data, &len)) return NULL;
  if (!lk_arg_string(env, argv[1], "dest", dest, sizeof dest)) return NULL;
  if (!lk_arg_int(env, argv[2], "scopeId", 0, UINT32_MAX, &scope)) return NULL;
  if (len == 0 || len > 65000) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "send: payload must be 1..65000 bytes");
    return NULL;
  }
  struct sockaddr_storage ss;
  socklen_t sslen;
  char context[128];
  if (!lk_parse_sockaddr(s->family, dest, (uint32_t)scope, &ss, &sslen)) {
    snprintf(context, sizeof context, "send: '%s' is not an IPv%d address", dest, s->family == AF_INET ? 4 : 6);
    napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE", context);
    return NULL;
  }
  ssize_t n;
  int attempts = 0;
  do {
    n = sendto(s->fd, data, len, MSG_DONTWAIT, (struct sockaddr *)&ss, sslen);
  } while (n < 0 && errno == EINTR && ++attempts < 4);
  if (n < 0) {
    snprintf(context, sizeof context, "sendto(%s)", dest);
    lk_throw_errno(env, errno, context);
    return NULL;
  }
  napi_value result;
  NAPI_CALL(env, napi_create_int64(env, n, &result));
  return result;
}

static napi_value set_string(napi_env env, napi_value obj, const char *key, const char *value) {
  napi_value v;
  if (napi_create_string_utf8(env, value, NAPI_AUTO_LENGTH, &v) != napi_ok) return NULL;
  if (napi_set_named_property(env, obj, key, v) != napi_ok) return NULL;
  return v;
}

static napi_value set_int(napi_env env, napi_value obj, const char *key, int value) {
  napi_value v;
  if (napi_create_int32(env, value, &v) != napi_ok) return NULL;
  if (napi_set_named_property(env, obj, key, v) != napi_ok) return NULL;
  return v;
}

/* One received datagram as { payload, src, dst, ttl, ifindex, truncated, malformed? }. */
static napi_value packet_object(napi_env env, const uint8_t *buf, const struct lk_packet_meta *meta, bool truncated) {
  napi_value obj, payload, flag;
  if (napi_create_object(env, &obj) != napi_ok) return NULL;
  void *copy_data;
  const uint8_t *start = meta->malformed ? buf : buf + meta->payload_offset;
  size_t length = meta->malformed ? 0 : meta->payload_length;
  if (napi_create_buffer_copy(env, length, length ? start : (const uint8_t *)"", &copy_data, &payload) != napi_ok) return NULL;
  if (napi_set_named_property(env, obj, "payload", payload) != napi_ok) return NULL;
  if (set_string(env, obj, "src", meta->src) == NULL) return NULL;
  if (set_string(env, obj, "dst", meta->dst) == NULL) return NULL;
  if (set_int(env, obj, "ttl", meta->ttl) == NULL) return NULL;
  if (set_int(env, obj, "ifindex", meta->ifindex) == NULL) return NULL;
  if (napi_get_boolean(env, truncated, &flag) != napi_ok || napi_set_named_property(env, obj, "truncated", flag) != napi_ok) return NULL;
  if (meta->malformed != NULL && set_string(env, obj, "malformed", meta->malformed) == NULL) return NULL;
  return obj;
}

/* Receive one datagram. Returns 1 and fills `meta`, 0 on EAGAIN, -1 with *err set on failure. */
static int receive_one(raw_socket_t *s, struct lk_packet_meta *meta, size_t *received, bool *truncated, int *err) {
  struct sockaddr_storage from;
  /* Room for PKTINFO + HOPLIMIT with alignment slack. */
  union {
    struct cmsghdr align;
    uint8_t bytes[CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_SPACE(sizeof(int)) + CMSG_SPACE(sizeof(struct in_pktinfo)) + 64];
  } control;
  struct iovec iov = {.iov_base = s->buf, .iov_len = LK_RECV_BUF};
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_name = &from;
  msg.msg_namelen = sizeof from;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.bytes;
  msg.msg_controllen = sizeof control.bytes;
  ssize_t n;
  int attempts = 0;
  do {
    n = recvmsg(s->fd, &msg, MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR && ++attempts < 4);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
    *err = errno;
    return -1;
  }
  *received = (size_t)n;
  *truncated = (msg.msg_flags & MSG_TRUNC) != 0;
  lk_parse_received(s->family, s->buf, (size_t)n, &msg, meta);
  return 1;
}

static void deliver(raw_socket_t *s, napi_value error, napi_value packets) {
  napi_env env = s->env;
  napi_value cb, self, argv[2];
  if (napi_get_reference_value(env, s->callback_ref, &cb) != napi_ok || cb == NULL) return;
  if (napi_get_reference_value(env, s->self_ref, &self) != napi_ok || self == NULL) return;
  if (error == NULL) napi_get_null(env, &error);
  argv[0] = error;
  argv[1] = packets;
  napi_value result;
  napi_status st = napi_make_callback(env, s->async, self, cb, 2, argv, &result);
  if (st == napi_pending_exception) {
    /* An exception thrown by the JS callback must not vanish: route it to process 'uncaughtException'. */
    napi_value exc;
    if (napi_get_and_clear_last_exception(env, &exc) == napi_ok) napi_fatal_exception(env, exc);
  }
}

static void on_poll(uv_poll_t *handle, int status, int events) {
  raw_socket_t *s = handle->data;
  if (s == NULL || s->closed || s->callback_ref == NULL) return;
  napi_env env = s->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value packets = NULL, error = NULL;
  if (napi_create_array(env, &packets) != napi_ok) goto out;
  if (status < 0) {
    /* libuv reports poll failure as a negative errno; nothing more will arrive, so stop watching. */
    error = lk_make_errno_error(env, -status, "uv_poll on raw socket");
    uv_poll_stop(s->poll);
    deliver(s, error, packets);
    if (!s->closed) stop_receiving(s); /* the callback may already have closed us */
    goto out;
  }
  uint32_t count = 0;
  for (int i = 0; i < LK_BATCH; i++) {
    struct lk_packet_meta meta;
    size_t received = 0;
    bool truncated = false;
    int err = 0;
    int rc = receive_one(s, &meta, &received, &truncated, &err);
    if (rc == 0) break;
    if (rc < 0) {
      char context[64];
      snprintf(context, sizeof context, "recvmsg(raw IPv%d socket)", s->family == AF_INET ? 4 : 6);
      error = lk_make_errno_error(env, err, context);
      break;
    }
    napi_value obj = packet_object(env, s->buf, &meta, truncated);
    if (obj == NULL || napi_set_element(env, packets, count, obj) != napi_ok) {
      bool pending = false;
      napi_is_exception_pending(env, &pending);
      if (pending) {
        napi_value exc;
        napi_get_and_clear_last_exception(env, &exc);
      }
      break;
    }
    count++;
  }
  if (count > 0 || error != NULL) deliver(s, error, packets);
out:
  napi_close_handle_scope(env, scope);
}

/* startReceiving(callback(err, packets)) */
static napi_value start_receiving(napi_env env, napi_callback_info info) {
  napi_value argv[1], self;
  raw_socket_t *s = method_prologue(env, info, 1, argv, &self, "startReceiving");
  if (s == NULL) return NULL;
  napi_valuetype type;
  NAPI_CALL(env, napi_typeof(env, argv[0], &type));
  if (type != napi_function) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "startReceiving: callback must be a function");
    return NULL;
  }
  if (s->poll != NULL) {
    napi_throw_error(env, "EALREADY", "startReceiving: already receiving");
    return NULL;
  }
  uv_loop_t *loop;
  NAPI_CALL(env, napi_get_uv_event_loop(env, &loop));
  uv_poll_t *poll = calloc(1, sizeof *poll);
  if (poll == NULL) {
    lk_throw_errno(env, ENOMEM, "startReceiving: allocation");
    return NULL;
  }
  int rc = uv_poll_init(loop, poll, s->fd);
  if (rc != 0) {
    free(poll);
    lk_throw_errno(env, -rc, "uv_poll_init");
    return NULL;
  }
  poll->data = s;
  rc = uv_poll_start(poll, UV_READABLE, on_poll);
  if (rc != 0) {
    uv_close((uv_handle_t *)poll, on_poll_closed);
    lk_throw_errno(env, -rc, "uv_poll_start");
    return NULL;
  }
  s->poll = poll;
  napi_value resource_name;
  if (napi_create_reference(env, argv[0], 1, &s->callback_ref) != napi_ok ||
      napi_create_reference(env, self, 1, &s->self_ref) != napi_ok ||
      napi_create_string_utf8(env, "lvskeep:RawSocket", NAPI_AUTO_LENGTH, &resource_name) != napi_ok ||
      napi_async_init(env, NULL, resource_name, &s->async) != napi_ok) {
    stop_receiving(s);
    lk_throw_napi_failure(env, napi_generic_failure, "startReceiving setup", __FILE__, __LINE__);
    return NULL;
  }
  return NULL;
}

static napi_value stop_receiving_js(napi_env env, napi_callback_info info) {
  napi_value argv[1], self;
  raw_socket_t *s = method_prologue(env, info, 0, argv, &self, "stopReceiving");
  if (s != NULL) stop_receiving(s);
  return NULL;
}

/* close(): safe to call any number of times. */
static napi_value close_js(napi_env env, napi_callback_info info) {
  napi_value self;
  size_t argc = 0;
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, NULL, &self, NULL));
  raw_socket_t *s = NULL;
  if (napi_unwrap(env, self, (void **)&s) == napi_ok && s != NULL) close_socket(s);
  return NULL;
}

static napi_value is_closed(napi_env env, napi_callback_info info) {
  napi_value self, result;
  size_t argc = 0;
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, NULL, &self, NULL));
  raw_socket_t *s = NULL;
  bool closed = napi_unwrap(env, self, (void **)&s) != napi_ok || s == NULL || s->closed;
  NAPI_CALL(env, napi_get_boolean(env, closed, &result));
  return result;
}

napi_value lk_init_raw_socket(napi_env env, napi_value exports) {
  napi_property_descriptor methods[] = {
      {"bindToDevice", NULL, bind_to_device, NULL, NULL, NULL, napi_default_method, NULL},
      {"bindAddress", NULL, bind_address, NULL, NULL, NULL, napi_default_method, NULL},
      {"joinGroup", NULL, join_group, NULL, NULL, NULL, napi_default_method, NULL},
      {"leaveGroup", NULL, leave_group, NULL, NULL, NULL, napi_default_method, NULL},
      {"setMulticastInterface", NULL, set_multicast_interface, NULL, NULL, NULL, napi_default_method, NULL},
      {"setTtl", NULL, set_ttl, NULL, NULL, NULL, napi_default_method, NULL},
      {"setMulticastLoop", NULL, set_multicast_loop, NULL, NULL, NULL, napi_default_method, NULL},
      {"setMulticastAll", NULL, set_multicast_all, NULL, NULL, NULL, napi_default_method, NULL},
      {"setIpv6Checksum", NULL, set_ipv6_checksum, NULL, NULL, NULL, napi_default_method, NULL},
      {"dropAllInput", NULL, drop_all_input, NULL, NULL, NULL, napi_default_method, NULL},
      {"send", NULL, send_to, NULL, NULL, NULL, napi_default_method, NULL},
      {"startReceiving", NULL, start_receiving, NULL, NULL, NULL, napi_default_method, NULL},
      {"stopReceiving", NULL, stop_receiving_js, NULL, NULL, NULL, napi_default_method, NULL},
      {"close", NULL, close_js, NULL, NULL, NULL, napi_default_method, NULL},
      {"isClosed", NULL, is_closed, NULL, NULL, NULL, napi_default_method, NULL},
  };
  napi_value cls;
  NAPI_CALL(env, napi_define_class(env, "RawSocket", NAPI_AUTO_LENGTH, constructor, NULL, sizeof methods / sizeof methods[0], methods, &cls));
  NAPI_CALL(env, napi_set_named_property(env, exports, "RawSocket", cls));
  return exports;
}
