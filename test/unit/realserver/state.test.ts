import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { emptyState, fileStateStore, parseState, serializeState, stateFilePath, withLockFile, type RealserverState } from '../../../src/realserver/state.js';

const sample: RealserverState = {
  version: 1,
  sysctls: { 'net.ipv4.conf.all.arp_ignore': '0', 'net.ipv4.conf.lo.arp_announce': '1' },
  vips: [
    { address: '192.0.2.10', prefix: 32, dev: 'lo', label: 'lo:0', mode: 'dr', added: true },
    { address: '2001:db8::10', prefix: 128, dev: 'lo', mode: 'dr', added: false },
  ],
  links: [{ name: 'tunl0', action: 'set-up' }],
};

describe('state file format', () => {
  it('round-trips', () => {
    expect(parseState(serializeState(sample), 'f')).toEqual(sample);
    expect(parseState(serializeState(emptyState()), 'f')).toEqual(emptyState());
  });

  it('names the file and field of what is wrong', () => {
    expect(() => parseState('{', '/s.json')).toThrow(/^\/s.json: not JSON/);
    expect(() => parseState('[]', 'f')).toThrow(/f: \(top level\): expected an object/);
    expect(() => parseState(JSON.stringify({ ...sample, version: 2 }), 'f')).toThrow(/f: version: expected 1, found 2/);
    expect(() => parseState(JSON.stringify({ ...sample, sysctls: { 'kernel.x': '1' } }), 'f')).toThrow(/sysctls.kernel.x/);
    const badVip = { ...sample, vips: [{ ...sample.vips[0], address: 'nope' }] };
    expect(() => parseState(JSON.stringify(badVip), 'f')).toThrow(/f: vips\[0\].address: expected an IP address/);
    const badMode = { ...sample, vips: [sample.vips[0], { ...sample.vips[1], mode: 'nat' }] };
    expect(() => parseState(JSON.stringify(badMode), 'f')).toThrow(/vips\[1\].mode/);
    expect(() => parseState(JSON.stringify({ ...sample, links: [{ name: 'x', action: 'boom' }] }), 'f')).toThrow(/links\[0\]/);
  });
});

describe('fileStateStore', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lvskeep-state-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('loads an empty state when there is no file; saves atomically (no temp file left); an empty state removes the file', async () => {
    const file = stateFilePath(join(dir, 'nested'));
    const store = fileStateStore(file);
    expect(await store.load()).toEqual(emptyState());
    await store.save(sample);
    expect(await readdir(join(dir, 'nested'))).toEqual(['realserver.json']);
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual(sample);
    expect(await store.load()).toEqual(sample);
    await store.save(emptyState());
    expect(await readdir(join(dir, 'nested'))).toEqual([]);
  });

  it('refuses a corrupt file instead of treating it as empty (it holds values to restore)', async () => {
    const file = join(dir, 'realserver.json');
    await writeFile(file, '{"version":1,');
    await expect(fileStateStore(file).load()).rejects.toThrow(`${file}: not JSON`);
  });
});

describe('withLockFile', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lvskeep-lock-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('serialises concurrent load-change-save cycles (as parallel systemd instances would run them)', async () => {
    const store = fileStateStore(join(dir, 'realserver.json'), { pollMs: 1 });
    const addVip = (n: number) =>
      store.withLock(async () => {
        const s = await store.load();
        await new Promise((r) => setTimeout(r, 5)); // widen the window a race would need
        s.vips.push({ address: `192.0.2.${n}`, prefix: 32, dev: 'lo', mode: 'dr', added: true });
        await store.save(s);
      });
    await Promise.all([1, 2, 3, 4, 5].map(addVip));
    expect((await store.load()).vips.map((v) => v.address).sort()).toEqual(['192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.4', '192.0.2.5']);
    expect(await readdir(dir)).toEqual(['realserver.json']);
  });

  it('takes over a lock whose owner is gone, and gives up on a live owner after the wait, naming its pid', async () => {
    const lock = join(dir, 'realserver.json.lock');
    await writeFile(lock, '99999999\n'); // above any pid_max: no such process
    expect(await withLockFile(lock, () => Promise.resolve('ran'))).toBe('ran');
    await writeFile(lock, `${process.pid}\n`);
    await expect(withLockFile(lock, () => Promise.resolve('ran'), { waitMs: 60, pollMs: 10 })).rejects.toThrow(`cannot lock ${lock}: held by pid ${process.pid} for more than 60 ms`);
  });
});
