// plan/apply as the CLI runs them: the plan against a table, and a failed operation reported with its object.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { planFor, reportApply } from '../../../src/cli/commands/plan.js';
import { parseConfigText } from '../../../src/config/load.js';
import { MemoryBackend } from '../../../src/ipvs/memory-backend.js';
import { formatOp } from '../../../src/ipvs/save-format.js';

const YAML = `
virtual_servers:
  - address: 203.0.113.1:80
    check: { type: tcp, assume: down }
    real_servers:
      - address: 198.51.100.11:80
        weight: 5
      - address: 198.51.100.12:80
`;

function config() {
  const r = parseConfigText(YAML, 'test.yaml');
  if (!r.ok) throw new Error('fixture config invalid');
  return r.config;
}

afterEach(() => vi.restoreAllMocks());

describe('lvskeep plan / apply', () => {
  it('plans every real server at its configured weight (checks and assume play no part), then nothing', async () => {
    const backend = new MemoryBackend();
    const ops = await planFor(config(), backend);
    expect(ops.map(formatOp)).toEqual(['-A -t 203.0.113.1:80 -s wlc', '-a -t 203.0.113.1:80 -r 198.51.100.11:80 -m -w 5', '-a -t 203.0.113.1:80 -r 198.51.100.12:80 -m -w 1']);
    await backend.apply(ops);
    expect(await planFor(config(), backend)).toEqual([]);
  });

  it('reports a refused operation on stderr naming its object, and the applied ones on stdout', async () => {
    const backend = new MemoryBackend({ fault: (op) => (op.op === 'add-dest' && op.dest.address === '198.51.100.12' ? 'ENOMEM' : undefined) });
    const out: string[] = [];
    const err: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((s) => out.push(String(s)) > 0);
    vi.spyOn(process.stderr, 'write').mockImplementation((s) => err.push(String(s)) > 0);
    reportApply(await backend.apply(await planFor(config(), backend)));
    vi.restoreAllMocks();
    expect(out).toEqual(['-A -t 203.0.113.1:80 -s wlc\n', '-a -t 203.0.113.1:80 -r 198.51.100.11:80 -m -w 5\n']);
    expect(err).toEqual(['FAILED -a -t 203.0.113.1:80 -r 198.51.100.12:80 -m -w 1: NEW_DEST 198.51.100.12:80 on tcp 203.0.113.1:80: ENOMEM\n']);
  });
});
