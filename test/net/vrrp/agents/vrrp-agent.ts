// Runs the VRRP manager from an lvskeep YAML config inside a test namespace:
//   ip netns exec NS node --import tsx vrrp-agent.ts CONFIG [MAX_SECONDS]
// Prints JSON lines: {"event":"ready"}, every vrrp.* / vip.error / ipvs.error (lvs_sync) event from the bus, {"event":"status",...} on
// SIGUSR2, {"event":"stopped"} after a planned stop on SIGTERM/SIGINT. Exits by itself after MAX_SECONDS
// (default 300) so an agent whose test crashed cannot linger.
import { loadConfigFile, formatIssue } from '../../../../src/config/load.js';
import { EventBus } from '../../../../src/events/bus.js';
import type { LvsEvent } from '../../../../src/events/types.js';
import { createLogger } from '../../../../src/log/logger.js';
import { createVrrpManager, type VrrpManager } from '../../../../src/vrrp/runtime/manager.js';
import { errorMessage } from '../../../../src/util/errors.js';

const [configPath, maxText = '300'] = process.argv.slice(2);
const print = (o: object): void => {
  process.stdout.write(`${JSON.stringify(o)}\n`);
};

async function main(): Promise<void> {
  if (!configPath) {
    print({ event: 'error', error: 'usage: vrrp-agent.ts CONFIG [MAX_SECONDS]' });
    process.exit(2);
  }
  const loaded = await loadConfigFile(configPath);
  if (!loaded.ok) {
    print({ event: 'error', error: loaded.errors.map(formatIssue).join('; ') });
    process.exit(2);
  }
  // Logs go to stderr so stdout stays one JSON event per line.
  const logger = await createLogger({ level: process.env.LVSKEEP_LOG_LEVEL === 'debug' ? 'debug' : 'info', destination: process.stderr });
  const bus = new EventBus<LvsEvent>({ onListenerError: (err) => logger.error({ err: errorMessage(err) }, 'event listener failed') });
  bus.on((e) => {
    if (e.type.startsWith('vrrp.') || e.type === 'vip.error' || e.type === 'ipvs.error') print({ event: e.type, ...e });
  });
  const manager: VrrpManager = createVrrpManager(loaded.config.vrrp, { logger, bus, vipBackend: loaded.config.backend.vip });
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    const t0 = Date.now();
    void manager.stop().then(
      () => {
        print({ event: 'stopped', signal, ms: Date.now() - t0 });
        process.exit(0);
      },
      (err: unknown) => {
        print({ event: 'error', error: `stop: ${errorMessage(err)}` });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGUSR2', () => print({ event: 'status', instances: manager.status() }));
  process.on('SIGUSR1', () => manager.stepDown(undefined, 'SIGUSR1'));
  setTimeout(() => stop('max lifetime'), Number(maxText) * 1000).unref();
  try {
    await manager.start();
  } catch (err) {
    print({ event: 'error', error: errorMessage(err) });
    await manager.stop().catch(() => undefined);
    process.exit(1);
  }
  print({ event: 'ready', instances: manager.status().map((s) => s.name) });
}

main().catch((err: unknown) => {
  print({ event: 'error', error: errorMessage(err) });
  process.exit(1);
});
