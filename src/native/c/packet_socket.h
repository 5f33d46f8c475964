#ifndef LVSKEEP_PACKET_SOCKET_H
#define LVSKEEP_PACKET_SOCKET_H
#include <node_api.h>
/* Defines sendEthernetFrame() and interfaceInfo() on `exports`. */
napi_value lk_init_packet_socket(napi_env env, napi_value exports);
#endif
