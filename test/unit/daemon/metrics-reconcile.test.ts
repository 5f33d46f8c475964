// With metrics on, the daemon feeds every reconcile pass into lvskeep_ipvs_reconcile_duration_seconds
// (src/daemon/build.ts wires the reconciler's onPass to recordReconcilePass). Scraped over loopback HTTP.
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../../src/config/load.js';
import { buildDaemon } from '../../../src/daemon/build.js';
import { MemoryBackend } from '../../../src/ipvs/memory-backend.js';
import { silentLogger } from '../../../src/log/logger.js';
import { parseExposition, valueOf } from '../metrics/exposition.js';

/** A loopback port nobody listens on right now (the config does not accept port 0). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

async function reconcileCount(port: number): Promise<number | undefined> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5_000) });
  return valueOf(parseExposition(await res.text()), 'lvskeep_ipvs_reconcile_duration_seconds_count');
}

describe('daemon metrics: reconcile passes', () => {
  it('observes one reconcile duration per pass', async () => {
    const port = await freePort();
    const r = parseConfigText(
      `
metrics:
  enabled: true
  listen: 127.0.0.1:${port}
virtual_servers:
  - address: 203.0.113.1:53
    protocol: udp
    real_servers:
      - address: 198.51.100.21:53
`,
      'test.yaml',
    );
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    const backend = new MemoryBackend();
    const daemon = buildDaemon(r.config, { logger: silentLogger(), backend, vrrpFactory: () => undefined, metrics: true });
    try {
      await daemon.start();
      await daemon.settle();
      const first = (await reconcileCount(port)) ?? 0;
      expect(first).toBeGreaterThanOrEqual(1);
      expect((await backend.dump()).length).toBe(1); // the passes counted are the ones that built the table
      await daemon.settle(); // one more pass, by request
      expect(await reconcileCount(port)).toBe(first + 1);
    } finally {
      await daemon.stop('test');
    }
  });
});
