import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventBus } from '../../../src/events/bus.js';
import { createEvent, type LvsEvent } from '../../../src/events/types.js';
import { silentLogger } from '../../../src/log/logger.js';
import { loadState, stateFilePath } from '../../../src/state/file.js';
import { startStatePersistence } from '../../../src/state/persistence.js';

const T = 1_790_000_000_000;

describe('startStatePersistence', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lvskeep-persist-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('records events and operator actions, and a restart sees them (drains to restore, last VRRP state)', async () => {
    const bus = new EventBus<LvsEvent>();
    const first = await startStatePersistence({ dir, bus, logger: silentLogger(), debounceMs: 60_000 });
    expect(first.loadResult.kind).toBe('missing');
    bus.emit(createEvent({ type: 'rs.down', virtualServer: 'web', realServer: '198.51.100.11:80', reason: 'connect refused' }, T));
    bus.emit(createEvent({ type: 'vrrp.state', instance: 'VI_1', from: 'BACKUP', to: 'MASTER', reason: 'master down timer', priority: 150 }, T + 1));
    first.recordManual('web', ['198.51.100.12:80'], 'maintenance', 'disk swap');
    await first.stop();
    // Stopped: later events are not recorded.
    bus.emit(createEvent({ type: 'rs.up', virtualServer: 'web', realServer: '198.51.100.11:80', reason: 'ok' }, T + 2));
    expect(bus.listenerCount).toBe(0);

    const second = await startStatePersistence({ dir, bus, logger: silentLogger() });
    expect(second.loadResult.kind).toBe('loaded');
    expect(second.loaded.realServers.web!['198.51.100.11:80']!.health).toEqual({ state: 'down', since: T, reason: 'connect refused' });
    expect(second.loaded.vrrp.VI_1).toEqual({ state: 'MASTER', since: T + 1, reason: 'master down timer' });
    expect(second.manualToRestore.map((m) => [m.virtualServer, m.realServer, m.action])).toEqual([['web', '198.51.100.12:80', 'maintenance']]);

    // enable forgets the operator state; prune forgets what the config dropped.
    second.recordManual('web', ['198.51.100.12:80'], 'enable');
    second.prune({ web: ['198.51.100.12:80'] }, []);
    await second.stop();
    const third = await loadState(dir);
    expect(third.kind === 'loaded' && third.state.realServers).toEqual({});
    expect(third.kind === 'loaded' && third.state.vrrp).toEqual({});
  });

  it('starts empty from a corrupt file and overwrites it on the first write', async () => {
    await writeFile(stateFilePath(dir), 'garbage');
    const bus = new EventBus<LvsEvent>();
    const p = await startStatePersistence({ dir, bus, logger: silentLogger() });
    expect(p.loadResult).toMatchObject({ kind: 'ignored' });
    expect(p.manualToRestore).toEqual([]);
    p.recordManual('web', ['a'], 'drain');
    await p.stop();
    expect((await loadState(dir)).kind).toBe('loaded');
  });
});
