#ifndef LVSKEEP_RT_SCHED_H
#define LVSKEEP_RT_SCHED_H
#include <node_api.h>
/* Defines setRealtime() and schedPolicy() on `exports`. */
napi_value lk_init_sched(napi_env env, napi_value exports);
#endif
