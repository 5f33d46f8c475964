#ifndef LVSKEEP_RAW_SOCKET_H
#define LVSKEEP_RAW_SOCKET_H
#include <node_api.h>
/* Defines the RawSocket class on `exports`. */
napi_value lk_init_raw_socket(napi_env env, napi_value exports);
#endif
