import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger, type Logger } from '../../../src/log/logger.js';
import { loadState, parseState, saveState, stateFilePath } from '../../../src/state/file.js';
import { emptyState, type PersistedState } from '../../../src/state/schema.js';

async function captureLogger(): Promise<{ logger: Logger; lines: () => Record<string, unknown>[] }> {
  const out: string[] = [];
  const dest = new Writable({
    write(chunk: Buffer, _enc, cb) {
      out.push(chunk.toString());
      cb();
    },
  });
  return { logger: await createLogger({ level: 'info', destination: dest }), lines: () => out.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

const sample: PersistedState = {
  version: 1,
  savedAt: 1_790_000_000_000,
  realServers: {
    web: {
      '198.51.100.11:80': { health: { state: 'down', since: 1_789_999_000_000, reason: 'connect timeout' } },
      '198.51.100.12:80': { health: { state: 'up', since: 1_789_990_000_000 }, manual: { state: 'maintenance', since: 1_789_995_000_000, reason: 'disk swap' } },
    },
  },
  vrrp: { VI_1: { state: 'MASTER', since: 1_789_980_000_000, reason: 'master down timer' } },
};

describe('state file', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lvskeep-state-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('round-trips through save and load, file mode 0600', async () => {
    await saveState(dir, sample);
    const r = await loadState(dir);
    expect(r).toEqual({ kind: 'loaded', file: stateFilePath(dir), state: sample });
    expect((await stat(stateFilePath(dir))).mode & 0o777).toBe(0o600);
  });

  it('creates a missing state directory with mode 0700', async () => {
    const sub = join(dir, 'var', 'lib', 'lvskeep');
    await saveState(sub, emptyState());
    expect((await stat(sub)).mode & 0o777).toBe(0o700);
    expect((await loadState(sub)).kind).toBe('loaded');
  });

  it('reports a missing file as missing, without warning', async () => {
    const { logger, lines } = await captureLogger();
    expect(await loadState(dir, { logger })).toEqual({ kind: 'missing', file: stateFilePath(dir) });
    expect(lines()).toEqual([]);
  });

  it('ignores a corrupt file with a warning naming the file and the problem', async () => {
    await writeFile(stateFilePath(dir), '{"version": 1, "realServers": {');
    const { logger, lines } = await captureLogger();
    const r = await loadState(dir, { logger });
    expect(r.kind).toBe('ignored');
    expect(r.kind === 'ignored' && r.problem).toContain('not valid JSON');
    const warn = lines()[0]!;
    expect(warn.level).toBe(40);
    expect(warn.file).toBe(stateFilePath(dir));
    expect(String(warn.msg)).toContain(stateFilePath(dir));
    expect(String(warn.msg)).toContain('not valid JSON');
  });

  it('ignores a file written by a newer version, saying so', async () => {
    await writeFile(stateFilePath(dir), JSON.stringify({ ...sample, version: 2, newThing: [] }));
    const r = await loadState(dir);
    expect(r).toMatchObject({ kind: 'ignored', problem: 'written by a newer lvskeep (state version 2; this one reads up to 1)' });
  });

  it('names the offending field of a file with the wrong shape', () => {
    const bad = { ...sample, realServers: { web: { '198.51.100.11:80': { health: { state: 'sideways', since: 1 } } } } };
    const r = parseState(JSON.stringify(bad), '/x/state.json');
    expect(r.kind).toBe('ignored');
    expect(r.kind === 'ignored' && r.problem).toMatch(/^field realServers\.web\.198\.51\.100\.11:80\.health\.state: /);
    expect(parseState('[]', 'f')).toMatchObject({ problem: 'not a JSON object' });
    expect(parseState('{"savedAt": 1}', 'f')).toMatchObject({ problem: 'no integer "version" field' });
    expect(parseState('{"version": 0}', 'f')).toMatchObject({ problem: 'unknown state version 0' });
    expect(parseState(JSON.stringify({ ...sample, savedAt: 1e300 }), 'f').kind).toBe('ignored');
  });

  it('reports an unreadable file (a directory in its place) as ignored, not a crash', async () => {
    await mkdir(stateFilePath(dir));
    const r = await loadState(dir);
    expect(r.kind).toBe('ignored');
    expect(r.kind === 'ignored' && r.problem).toContain('cannot read it');
  });

  it('a crash between write and rename leaves the old file intact, and the leftover temp file is cleaned later', async () => {
    const old: PersistedState = { ...emptyState(), savedAt: 1 };
    await saveState(dir, old);
    let tempSeen = '';
    const crashed = saveState(dir, sample, {
      beforeRename: async (temp) => {
        // The new content is complete and synced in the temp file at this point...
        expect(JSON.parse(await readFile(temp, 'utf8'))).toEqual(sample);
        tempSeen = temp;
        throw new Error('power lost');
      },
    });
    await expect(crashed).rejects.toThrow(`cannot save state to ${stateFilePath(dir)}: power lost`);
    // ...but the state file is still the old one.
    expect(await loadState(dir)).toMatchObject({ kind: 'loaded', state: old });
    expect(tempSeen).not.toBe('');

    // A real crash leaves the temp file behind: simulate that litter; it is never read as state.
    await writeFile(join(dir, 'state.json.tmp-999-deadbeef'), '{"version": 1, "half');
    expect(await loadState(dir)).toMatchObject({ kind: 'loaded', state: old });
    await saveState(dir, sample);
    expect(await readdir(dir)).toEqual(['state.json']);
    expect(await loadState(dir)).toMatchObject({ kind: 'loaded', state: sample });
  });

  it('a failed rename (real errno) names the file and leaves the previous one untouched', async () => {
    await saveState(dir, sample);
    // Put a directory where the temp file was: rename(dir, file) then fails with ENOTDIR, even for root.
    const failing = saveState(dir, emptyState(), {
      beforeRename: async (temp) => {
        await rm(temp);
        await mkdir(temp);
      },
    });
    await expect(failing).rejects.toThrow(new RegExp(`^cannot save state to ${stateFilePath(dir)}: ENOTDIR`));
    expect(await loadState(dir)).toMatchObject({ kind: 'loaded', state: sample });
  });
});
