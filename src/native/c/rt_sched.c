/* Real-time scheduling of the calling thread (global.vrrp_rt_priority, keepalived's vrrp_rt_priority and
 * vrrp_rlimit_rttime). Node has no API for sched_setscheduler or RLIMIT_RTTIME. */
#include "rt_sched.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <sys/resource.h>

#include "napi_util.h"

#ifndef SCHED_RESET_ON_FORK
#define SCHED_RESET_ON_FORK 0x40000000
#endif

/* setRealtime(priority 1..99, rttimeUs 0 | 1000..) -> undefined; throws Error(code = errno name).
 *
 * Order matters: the RLIMIT_RTTIME safety net is in place before the thread becomes real-time, so a
 * runaway loop is never RT without it. The limit is per process but only counts CPU time of RT threads
 * that run without blocking; the soft limit sends SIGXCPU (default action: the process ends, and the
 * daemon restarts it), the hard limit (twice the soft one) SIGKILL in case SIGXCPU is ever handled.
 * rttimeUs 0 leaves the limit as it is.
 *
 * sched_setscheduler(0, ...) changes the calling thread only (Linux schedules threads), so called from
 * Node's main thread it leaves libuv's pool and V8's helper threads at normal scheduling.
 * SCHED_RESET_ON_FORK: processes this one forks (ip commands, notify scripts) start at SCHED_OTHER. */
static napi_value set_realtime(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int64_t priority = 0, rttime = 0;
  if (!lk_arg_int(env, argv[0], "priority", 1, 99, &priority)) return NULL;
  if (!lk_arg_int(env, argv[1], "rttimeUs", 0, 60000000, &rttime)) return NULL;
  char context[128];
  if (rttime > 0) {
    struct rlimit rl = {.rlim_cur = (rlim_t)rttime, .rlim_max = (rlim_t)rttime * 2};
    struct rlimit old;
    /* Never raise a hard limit someone else lowered (that would need CAP_SYS_RESOURCE anyway). */
    if (getrlimit(RLIMIT_RTTIME, &old) == 0 && old.rlim_max != RLIM_INFINITY && old.rlim_max < rl.rlim_max) {
      rl.rlim_max = old.rlim_max;
      if (rl.rlim_cur > rl.rlim_max) rl.rlim_cur = rl.rlim_max;
    }
    if (setrlimit(RLIMIT_RTTIME, &rl) != 0) {
      snprintf(context, sizeof context, "setrlimit(RLIMIT_RTTIME, %lld us)", (long long)rttime);
      lk_throw_errno(env, errno, context);
      return NULL;
    }
  }
  struct sched_param sp = {.sched_priority = (int)priority};
  if (sched_setscheduler(0, SCHED_RR | SCHED_RESET_ON_FORK, &sp) != 0) {
    snprintf(context, sizeof context, "sched_setscheduler(SCHED_RR, priority %d)", (int)priority);
    lk_throw_errno(env, errno, context);
    return NULL;
  }
  return NULL;
}

/* schedPolicy() -> { policy: 'SCHED_OTHER' | 'SCHED_RR' | ..., priority } of the calling thread (tests, logs). */
static napi_value sched_policy(napi_env env, napi_callback_info info) {
  int policy = sched_getscheduler(0);
  if (policy < 0) {
    lk_throw_errno(env, errno, "sched_getscheduler");
    return NULL;
  }
  struct sched_param sp = {0};
  if (sched_getparam(0, &sp) != 0) {
    lk_throw_errno(env, errno, "sched_getparam");
    return NULL;
  }
  policy &= ~SCHED_RESET_ON_FORK;
  const char *name = policy == SCHED_OTHER ? "SCHED_OTHER" : policy == SCHED_FIFO ? "SCHED_FIFO" : policy == SCHED_RR ? "SCHED_RR"
                     : policy == SCHED_BATCH ? "SCHED_BATCH" : policy == SCHED_IDLE ? "SCHED_IDLE" : "other";
  napi_value out, name_v, prio_v;
  NAPI_CALL(env, napi_create_object(env, &out));
  NAPI_CALL(env, napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &name_v));
  NAPI_CALL(env, napi_create_int32(env, sp.sched_priority, &prio_v));
  NAPI_CALL(env, napi_set_named_property(env, out, "policy", name_v));
  NAPI_CALL(env, napi_set_named_property(env, out, "priority", prio_v));
  return out;
}

napi_value lk_init_sched(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"setRealtime", NULL, set_realtime, NULL, NULL, NULL, napi_default_method, NULL},
      {"schedPolicy", NULL, sched_policy, NULL, NULL, NULL, napi_default_method, NULL},
  };
  NAPI_CALL(env, napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  return exports;
}
