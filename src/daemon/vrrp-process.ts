// Which VRRP the daemon runs: by default the supervised child process (src/vrrp/process), so that checks,
// IPVS passes and alerts on this event loop never delay an advert; in-process when asked (`inline`, for tools
// and tests that inject fakes through vrrpFactory instead).
import type { LvskeepConfig, VrrpConfig } from '../config/types.js';
import type { EventBus } from '../events/bus.js';
import type { LvsEvent } from '../events/types.js';
import type { Logger, LogFormat } from '../log/logger.js';
import { recordTimerLateness, type Metrics } from '../metrics/index.js';
import { latenessTimers } from '../metrics/index.js';
import { errorMessage } from '../util/errors.js';
import { createVipManager } from '../vip/index.js';
import { describeVip } from '../vip/types.js';
import { forkChild } from '../vrrp/process/fork-link.js';
import { createSupervisedVrrp, type SpawnChild } from '../vrrp/process/supervisor.js';
import { createVrrpManager, type VrrpControl } from '../vrrp/runtime/manager.js';
import { vipsFromConfig } from '../vrrp/runtime/spec.js';
import { realRuntimeTimers, withTimeout } from '../vrrp/runtime/timers.js';

export type VrrpProcessMode = 'child' | 'inline';

export interface VrrpProcessDeps {
  logger: Logger;
  bus: EventBus<LvsEvent>;
  metrics: Metrics | undefined;
  mode: VrrpProcessMode;
  logFormat: LogFormat;
  /** Tests: a fake child. */
  spawn?: SpawnChild;
}

/** Every configured VIP off its interface, from this process: what a dead VRRP child can no longer do. */
export async function releaseConfiguredVips(config: LvskeepConfig, vrrp: VrrpConfig, logger: Logger): Promise<void> {
  const vips = await createVipManager(config.backend.vip, { logger });
  try {
    for (const vip of vrrp.instances.flatMap(vipsFromConfig)) {
      await withTimeout(vips.remove(vip), 5_000, `remove ${describeVip(vip)}`, realRuntimeTimers).catch((err: unknown) =>
        logger.error({ vip: describeVip(vip), err: errorMessage(err) }, 'could not remove a VIP of the VRRP process'),
      );
    }
  } finally {
    await vips.close();
  }
}

export function openVrrp(config: LvskeepConfig, d: VrrpProcessDeps): VrrpControl {
  const { logger, bus, metrics } = d;
  if (d.mode === 'inline') {
    return createVrrpManager(config.vrrp, {
      logger,
      bus,
      vipBackend: config.backend.vip,
      // Late VRRP timers (a stalled event loop) show in lvskeep_vrrp_timer_lateness_seconds before they cost a failover.
      ...(metrics ? { timers: latenessTimers(realRuntimeTimers, metrics) } : {}),
    });
  }
  return createSupervisedVrrp({
    config: config.vrrp,
    settings: {
      vipBackend: config.backend.vip,
      logLevel: logger.level,
      logFormat: d.logFormat,
      statusIntervalMs: 1_000,
      // The child sets SCHED_RR on its own main thread: sched_setscheduler from here could only reach that thread by TID.
      ...(config.global.vrrp_rt_priority > 0 ? { realtime: { priority: config.global.vrrp_rt_priority, rttimeUs: config.global.vrrp_rlimit_rttime } } : {}),
    },
    logger,
    bus,
    spawn: d.spawn ?? forkChild,
    // Only a real child is reniced: a fake one's PID may belong to any process on the machine.
    ...(d.spawn ? {} : { nice: config.global.vrrp_nice }),
    releaseVips: (v) => releaseConfiguredVips(config, v, logger),
    ...(metrics ? { onTimerLateness: (ms: readonly number[]) => recordTimerLateness(metrics, ms) } : {}),
  });
}
