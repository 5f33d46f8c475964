import type { Command } from 'commander';
import { hostname } from 'node:os';
import { sinkSettingsFromConfig } from '../../alerts/from-config.js';
import { startAlerting } from '../../alerts/index.js';
import { EventBus } from '../../events/bus.js';
import type { LvsEvent } from '../../events/types.js';
import { errorMessage } from '../../util/errors.js';
import { fail, loadConfigOrReport } from '../common.js';
import { configOption } from '../program.js';

/**
 * `lvskeep alert test`: a test message to every sink (or one) straight from the config, reporting each
 * sink's outcome. (Through the running daemon once it has a control socket.)
 */
export function registerAlert(program: Command): void {
  const alert = program.command('alert').description('alert sinks');
  alert
    .command('test')
    .description('send a test message to the configured alert sinks and report delivered/failed per sink')
    .addOption(configOption())
    .option('--sink <name>', 'only this sink')
    .option('--note <text>', 'text of the test message', 'sent by lvskeep alert test')
    .action(async (opts: { config: string; sink?: string; note: string }) => {
      const config = await loadConfigOrReport(opts.config);
      if (!config) return;
      const sinks = config.alerts.sinks.filter((s) => opts.sink === undefined || s.name === opts.sink);
      if (sinks.length === 0) {
        const known = config.alerts.sinks.map((s) => s.name);
        fail(opts.sink === undefined ? `no alert sinks configured in ${opts.config}` : `no alert sink named ${opts.sink} (configured: ${known.join(', ') || 'none'})`);
        return;
      }
      let alerting;
      try {
        alerting = startAlerting({ sinks: sinks.map(sinkSettingsFromConfig), host: config.global.router_id ?? hostname(), bus: new EventBus<LvsEvent>() });
      } catch (err) {
        fail(errorMessage(err));
        return;
      }
      try {
        const results = await alerting.dispatcher.sendTest(opts.sink, opts.note);
        for (const r of results) {
          if (r.outcome.ok) process.stdout.write(`${r.sink}: delivered${r.outcome.skipped ? ` (${r.outcome.skipped})` : ''}\n`);
          else process.stdout.write(`${r.sink}: failed: ${r.outcome.error}\n`);
        }
        if (results.some((r) => !r.outcome.ok)) process.exitCode = 1;
      } finally {
        await alerting.stop(1_000);
      }
    });
}
