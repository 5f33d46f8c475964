/* Link-layer helpers for address announcements: gratuitous ARP and unsolicited neighbour
 * advertisements are whole Ethernet frames that no IP socket can send, so they go out through an
 * AF_PACKET socket. The socket is opened per call: announcements are rare and this keeps no state. */
#include "packet_socket.h"

#include "napi_util.h"

#include <errno.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define ETH_HEADER_LEN 14
#define ETH_MAX_FRAME 65535

/* sendEthernetFrame(ifindex, frame) -> bytes sent. `frame` starts with the Ethernet header
 * (destination MAC, source MAC, EtherType); the kernel adds no header of its own (SOCK_RAW). */
static napi_value send_ethernet_frame(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  size_t argc = 2;
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2) {
    napi_throw_type_error(env, "ERR_MISSING_ARGS", "sendEthernetFrame(ifindex, frame) needs 2 arguments");
    return NULL;
  }
  int64_t ifindex;
  const uint8_t *frame;
  size_t len;
  if (!lk_arg_int(env, argv[0], "ifindex", 1, INT32_MAX, &ifindex)) return NULL;
  if (!lk_arg_buffer(env, argv[1], "frame", &frame, &len)) return NULL;
  if (len < ETH_HEADER_LEN || len > ETH_MAX_FRAME) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "sendEthernetFrame: frame must be 14..65535 bytes");
    return NULL;
  }
  /* Protocol 0: this socket receives nothing, it only sends. */
  int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    lk_throw_errno(env, errno, "socket(AF_PACKET, SOCK_RAW)");
    return NULL;
  }
  struct sockaddr_ll addr;
  memset(&addr, 0, sizeof addr);
  addr.sll_family = AF_PACKET;
  addr.sll_ifindex = (int)ifindex;
  memcpy(&addr.sll_protocol, frame + 12, 2); /* EtherType, already in network order */
  addr.sll_halen = 6;
  memcpy(addr.sll_addr, frame, 6);
  ssize_t n;
  int attempts = 0;
  do {
    n = sendto(fd, frame, len, MSG_DONTWAIT, (struct sockaddr *)&addr, sizeof addr);
  } while (n < 0 && errno == EINTR && ++attempts < 4);
  int err = errno;
  close(fd);
  if (n < 0) {
    char context[96];
    snprintf(context, sizeof context, "sendto(AF_PACKET, ifindex %lld)", (long long)ifindex);
    lk_throw_errno(env, err, context);
    return NULL;
  }
  napi_value result;
  NAPI_CALL(env, napi_create_int64(env, n, &result));
  return result;
}

/* interfaceInfo(ifname) -> { index, hwType, mac: Buffer }. Asked of the kernel (ioctl) rather than
 * /sys/class/net, which shows the namespace sysfs was mounted in, not necessarily ours. */
static napi_value interface_info(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  size_t argc = 1;
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1) {
    napi_throw_type_error(env, "ERR_MISSING_ARGS", "interfaceInfo(ifname) needs 1 argument");
    return NULL;
  }
  char ifname[IFNAMSIZ];
  if (!lk_arg_string(env, argv[0], "ifname", ifname, sizeof ifname)) return NULL;
  char context[96];
  unsigned index = if_nametoindex(ifname);
  if (index == 0) {
    snprintf(context, sizeof context, "if_nametoindex(%s)", ifname);
    lk_throw_errno(env, errno, context);
    return NULL;
  }
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    lk_throw_errno(env, errno, "socket(AF_INET, SOCK_DGRAM) for SIOCGIFHWADDR");
    return NULL;
  }
  struct ifreq req;
  memset(&req, 0, sizeof req);
  memcpy(req.ifr_name, ifname, strlen(ifname)); /* fits: lk_arg_string bounded it to IFNAMSIZ-1 */
  int rc = ioctl(fd, SIOCGIFHWADDR, &req);
  int err = errno;
  close(fd);
  if (rc != 0) {
    snprintf(context, sizeof context, "ioctl(SIOCGIFHWADDR, %s)", ifname);
    lk_throw_errno(env, err, context);
    return NULL;
  }
  napi_value obj, v, mac;
  void *mac_data;
  NAPI_CALL(env, napi_create_object(env, &obj));
  NAPI_CALL(env, napi_create_uint32(env, index, &v));
  NAPI_CALL(env, napi_set_named_property(env, obj, "index", v));
  NAPI_CALL(env, napi_create_uint32(env, req.ifr_hwaddr.sa_family, &v));
  NAPI_CALL(env, napi_set_named_property(env, obj, "hwType", v));
  NAPI_CALL(env, napi_create_buffer_copy(env, 6, req.ifr_hwaddr.sa_data, &mac_data, &mac));
  NAPI_CALL(env, napi_set_named_property(env, obj, "mac", mac));
  return obj;
}

napi_value lk_init_packet_socket(napi_env env, napi_value exports) {
  napi_property_descriptor fns[] = {
      {"sendEthernetFrame", NULL, send_ethernet_frame, NULL, NULL, NULL, napi_default_method, NULL},
      {"interfaceInfo", NULL, interface_info, NULL, NULL, NULL, napi_default_method, NULL},
  };
  NAPI_CALL(env, napi_define_properties(env, exports, sizeof fns / sizeof fns[0], fns));
  return exports;
}
