import type { Command } from 'commander';
import type { BackendName } from '../../daemon/ipvs-backend.js';
import { formatListing, type ListingKind } from '../ipvs-listing.js';
import { backendOption, loadConfigOrReport } from '../common.js';
import { withBackend } from './plan.js';

/** `lvskeep ipvs`: the kernel table as lvskeep reads it, laid out like `ipvsadm -Ln` (or JSON). */
export function registerIpvs(program: Command): void {
  program
    .command('ipvs')
    .description('show the IPVS table as lvskeep sees it (ipvsadm -Ln layout)')
    .option('-c, --config <file>', 'take the backend from this configuration (default: netlink)')
    .addOption(backendOption())
    .option('--stats', 'packet and byte counters')
    .option('--rate', 'rates per second')
    .option('--json', 'the table as JSON')
    .action(async (opts: { config?: string; backend?: BackendName; stats?: boolean; rate?: boolean; json?: boolean }) => {
      let name: BackendName = opts.backend ?? 'netlink';
      if (opts.config !== undefined && opts.backend === undefined) {
        const config = await loadConfigOrReport(opts.config);
        if (!config) return;
        name = config.backend.ipvs;
      }
      const kind: ListingKind = opts.rate ? 'rate' : opts.stats ? 'stats' : 'plain';
      await withBackend(name, async (backend) => {
        const table = await backend.dump({ stats: kind !== 'plain' || opts.json === true });
        const info = await backend.info();
        process.stdout.write(opts.json ? `${JSON.stringify({ info, services: table }, null, 2)}\n` : formatListing(table, info, kind));
      });
    });
}
