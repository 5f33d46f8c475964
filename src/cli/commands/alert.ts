import type { Command } from 'commander';
import { hostname } from 'node:os';
import { sinkSettingsFromConfig } from '../../alerts/from-config.js';
import { startAlerting } from '../../alerts/index.js';
import type { LvskeepConfig } from '../../config/types.js';
import { ControlClientError, controlRequest } from '../../control/client.js';
import { resolveSocketPath } from '../../control/cli.js';
import { EventBus } from '../../events/bus.js';
import type { LvsEvent } from '../../events/types.js';
import { errorMessage } from '../../util/errors.js';
import { fail, loadConfigOrReport } from '../common.js';
import { configOption } from '../program.js';

interface SinkOutcome {
  name: string;
  ok: boolean;
  error?: string;
}

function report(results: readonly SinkOutcome[], via: string): void {
  for (const r of results) process.stdout.write(r.ok ? `${r.name}: delivered${via}\n` : `${r.name}: failed: ${r.error ?? 'unknown error'}${via}\n`);
  if (results.some((r) => !r.ok)) process.exitCode = 1;
}

/** Through the running daemon (its own sinks, queues and credentials); undefined when no daemon runs. */
async function viaDaemon(configPath: string, sink: string | undefined): Promise<SinkOutcome[] | undefined> {
  let path: string;
  try {
    path = await resolveSocketPath({ config: configPath });
  } catch {
    return undefined; // no readable socket setting: send directly, the config load reports the file's problems
  }
  try {
    const r = await controlRequest(path, 'alert-test', sink === undefined ? {} : { sink });
    return r.sinks;
  } catch (err) {
    if (err instanceof ControlClientError && (err.code === 'not-running' || err.code === 'permission' || err.code === 'not-supported')) return undefined;
    throw err;
  }
}

async function direct(config: LvskeepConfig, configPath: string, sink: string | undefined, note: string): Promise<SinkOutcome[] | undefined> {
  const sinks = config.alerts.sinks.filter((s) => sink === undefined || s.name === sink);
  if (sinks.length === 0) {
    const known = config.alerts.sinks.map((s) => s.name);
    fail(sink === undefined ? `no alert sinks configured in ${configPath}` : `no alert sink named ${sink} (configured: ${known.join(', ') || 'none'})`);
    return undefined;
  }
  const alerting = startAlerting({ sinks: sinks.map(sinkSettingsFromConfig), host: config.global.router_id ?? hostname(), bus: new EventBus<LvsEvent>() });
  try {
    const results = await alerting.dispatcher.sendTest(sink, note);
    return results.map((r) => (r.outcome.ok ? { name: r.sink, ok: true } : { name: r.sink, ok: false, error: r.outcome.error }));
  } finally {
    await alerting.stop(1_000);
  }
}

/**
 * `lvskeep alert test`: a test message to every sink (or one). Through the running daemon when one answers on
 * the control socket, else (or with --direct) straight from the config. Reports each sink's outcome.
 */
export function registerAlert(program: Command): void {
  const alert = program.command('alert').description('alert sinks');
  alert
    .command('test')
    .description('send a test message to the alert sinks and report delivered/failed per sink')
    .addOption(configOption())
    .option('--sink <name>', 'only this sink')
    .option('--direct', 'send from this process even when the daemon runs')
    .option('--note <text>', 'text of the test message (direct sending)', 'sent by lvskeep alert test')
    .action(async (opts: { config: string; sink?: string; note: string; direct?: boolean }) => {
      try {
        if (!opts.direct) {
          const results = await viaDaemon(opts.config, opts.sink);
          if (results?.length === 0) return fail('the running daemon has no alert sinks configured');
          if (results) return report(results, ' (via the daemon)');
        }
        const config = await loadConfigOrReport(opts.config);
        if (!config) return;
        const results = await direct(config, opts.config, opts.sink, opts.note);
        if (results) report(results, '');
      } catch (err) {
        fail(errorMessage(err));
      }
    });
}
