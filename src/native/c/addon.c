/* Entry point of lvskeep_native.node: raw IP sockets (RawSocket), link-layer frame sending and real-time
 * scheduling of the VRRP thread. setRealtime was added without an ABI bump: the loader treats it as optional
 * (an older build still runs VRRP, only without real-time scheduling, and says so). */
#include <node_api.h>

#include "packet_socket.h"
#include "raw_socket.h"
#include "rt_sched.h"

#define LVSKEEP_NATIVE_ABI 1

static napi_value init(napi_env env, napi_value exports) {
  if (lk_init_raw_socket(env, exports) == NULL) return NULL;
  if (lk_init_packet_socket(env, exports) == NULL) return NULL;
  if (lk_init_sched(env, exports) == NULL) return NULL;
  /* Lets the TypeScript loader refuse a stale build whose API does not match what it expects. */
  napi_value abi;
  if (napi_create_int32(env, LVSKEEP_NATIVE_ABI, &abi) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "abiVersion", abi) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
