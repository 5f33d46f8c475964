import { describe, expect, it } from 'vitest';
import { IpvsError, type IpvsOp } from '../../../src/ipvs/backend.js';
import { MemoryBackend } from '../../../src/ipvs/memory-backend.js';
import type { DestSpec, ServiceKey, ServiceSpec } from '../../../src/ipvs/model.js';

const web: ServiceKey = { kind: 'addr', family: 4, protocol: 'tcp', address: '203.0.113.1', port: 80 };
const other: ServiceKey = { kind: 'addr', family: 4, protocol: 'tcp', address: '203.0.113.2', port: 80 };
const spec = (key: ServiceKey, over: Partial<ServiceSpec> = {}): ServiceSpec => ({ key, scheduler: 'wlc', schedulerFlags: [], onePacket: false, ...over });
const rs = (address: string, over: Partial<DestSpec> = {}): DestSpec => ({ family: 4, address, port: 80, forwarding: 'masq', weight: 1, upperThreshold: 0, lowerThreshold: 0, ...over });

async function failures(b: MemoryBackend, ops: IpvsOp[]): Promise<string[]> {
  return (await b.apply(ops)).failed.map((f) => f.error.message);
}

describe('MemoryBackend kernel error semantics', () => {
  it('EEXIST on adding a service or destination twice, naming the object', async () => {
    const b = new MemoryBackend();
    expect(await failures(b, [{ op: 'add-service', service: spec(web) }, { op: 'add-dest', service: web, dest: rs('198.51.100.11') }])).toEqual([]);
    expect(await failures(b, [{ op: 'add-service', service: spec(web) }, { op: 'add-dest', service: web, dest: rs('198.51.100.11') }])).toEqual([
      'NEW_SERVICE tcp 203.0.113.1:80: EEXIST',
      'NEW_DEST 198.51.100.11:80 on tcp 203.0.113.1:80: EEXIST',
    ]);
  });

  it('ESRCH for anything aimed at a missing service', async () => {
    const b = new MemoryBackend();
    const result = await b.apply([
      { op: 'edit-service', service: spec(other) },
      { op: 'del-service', key: other },
      { op: 'add-dest', service: other, dest: rs('198.51.100.11') },
      { op: 'edit-dest', service: other, dest: rs('198.51.100.11') },
      { op: 'del-dest', service: other, dest: rs('198.51.100.11') },
    ]);
    expect(result.applied).toEqual([]);
    expect(result.failed.map((f) => f.error.errno)).toEqual(['ESRCH', 'ESRCH', 'ESRCH', 'ESRCH', 'ESRCH']);
    expect(result.failed[2]?.error).toBeInstanceOf(IpvsError);
    expect(result.failed[2]?.error.message).toBe('NEW_DEST 198.51.100.11:80 on tcp 203.0.113.2:80: ESRCH');
  });

  it('ENOENT for a missing destination of an existing service', async () => {
    const b = new MemoryBackend();
    await b.apply([{ op: 'add-service', service: spec(web) }]);
    expect(await failures(b, [{ op: 'edit-dest', service: web, dest: rs('198.51.100.99') }, { op: 'del-dest', service: web, dest: rs('198.51.100.99') }])).toEqual([
      'SET_DEST 198.51.100.99:80 on tcp 203.0.113.1:80: ENOENT',
      'DEL_DEST 198.51.100.99:80 on tcp 203.0.113.1:80: ENOENT',
    ]);
  });

  it('ENOENT for a scheduler the kernel has no module for (what the kernel answers; ipvsadm prints "Scheduler or persistence engine not found")', async () => {
    const b = new MemoryBackend({ schedulers: ['rr', 'wlc'] });
    expect(await failures(b, [{ op: 'add-service', service: spec(web, { scheduler: 'nosuch' }) }])).toEqual(['NEW_SERVICE tcp 203.0.113.1:80: ENOENT']);
    expect(await failures(b, [{ op: 'add-service', service: spec(web, { scheduler: 'mh' }) }])).toEqual(['NEW_SERVICE tcp 203.0.113.1:80: ENOENT']);
    await b.apply([{ op: 'add-service', service: spec(web) }]);
    expect(await failures(b, [{ op: 'edit-service', service: spec(web, { scheduler: 'nosuch' }) }])).toEqual(['SET_SERVICE tcp 203.0.113.1:80: ENOENT']);
    expect((await b.dump())[0]?.scheduler).toBe('wlc');
  });

  it('ERANGE when the lower threshold is above the upper, EINVAL for another family without tunnelling', async () => {
    const b = new MemoryBackend();
    await b.apply([{ op: 'add-service', service: spec(web) }]);
    const result = await b.apply([
      { op: 'add-dest', service: web, dest: rs('198.51.100.11', { upperThreshold: 5, lowerThreshold: 10 }) },
      { op: 'add-dest', service: web, dest: rs('198.51.100.11', { upperThreshold: 0, lowerThreshold: 5 }) }, // kernel 6.1 says ERANGE too
      { op: 'add-dest', service: web, dest: { ...rs('2001:db8::1'), family: 6 } },
      { op: 'add-dest', service: web, dest: { ...rs('2001:db8::1'), family: 6, forwarding: 'tunnel' } },
    ]);
    expect(result.failed.map((f) => f.error.errno)).toEqual(['ERANGE', 'ERANGE', 'EINVAL']);
    expect(result.applied).toHaveLength(1);
  });

  it('carries on after a failed op and keeps the order of applied ops', async () => {
    const b = new MemoryBackend();
    const ops: IpvsOp[] = [
      { op: 'add-dest', service: web, dest: rs('198.51.100.10') },
      { op: 'add-service', service: spec(web) },
      { op: 'add-dest', service: web, dest: rs('198.51.100.11') },
    ];
    const result = await b.apply(ops);
    expect(result.applied).toEqual(ops.slice(1));
    expect(result.failed.map((f) => f.op)).toEqual([ops[0]]);
  });

  it('edits keep connection counters; dumps are copies; stats only on request', async () => {
    const b = new MemoryBackend();
    await b.apply([{ op: 'add-service', service: spec(web) }, { op: 'add-dest', service: web, dest: rs('198.51.100.11') }]);
    b.setCounters(web, rs('198.51.100.11'), { activeConns: 4, inactiveConns: 2 });
    await b.apply([{ op: 'edit-dest', service: web, dest: rs('198.51.100.11', { weight: 7, forwarding: 'route' }) }]);
    const [s] = await b.dump();
    expect(s?.dests[0]).toMatchObject({ weight: 7, forwarding: 'route', activeConns: 4, inactiveConns: 2 });
    expect(s?.stats).toBeUndefined();
    if (s?.dests[0]) s.dests[0].weight = 100;
    expect((await b.dump())[0]?.dests[0]?.weight).toBe(7);
    expect((await b.dump({ stats: true }))[0]?.stats?.conns).toBe(0);
  });

  it('edit-service can drop persistence; del-service removes the destinations with it', async () => {
    const b = new MemoryBackend();
    await b.apply([{ op: 'add-service', service: spec(web, { persistence: { timeout: 300, netmaskPrefix: 32 } }) }, { op: 'add-dest', service: web, dest: rs('198.51.100.11') }]);
    await b.apply([{ op: 'edit-service', service: spec(web) }]);
    expect((await b.dump())[0]?.persistence).toBeUndefined();
    expect((await b.apply([{ op: 'del-service', key: web }])).failed).toEqual([]);
    expect(await b.dump()).toEqual([]);
  });

  it('zero() of a missing service is ESRCH; flush() empties; info() reports IPVS 1.2.1', async () => {
    const b = new MemoryBackend();
    await expect(b.zero(web)).rejects.toMatchObject({ errno: 'ESRCH' });
    await b.apply([{ op: 'add-service', service: spec(web) }]);
    await b.zero(web);
    await b.flush();
    expect(await b.dump()).toEqual([]);
    expect(await b.info()).toEqual({ version: '1.2.1', connTableSize: 4096 });
  });

  it('fault injection makes a chosen op fail with the given errno', async () => {
    const b = new MemoryBackend({ fault: (op) => (op.op === 'add-dest' ? 'ENOMEM' : undefined) });
    const r = await b.apply([{ op: 'add-service', service: spec(web) }, { op: 'add-dest', service: web, dest: rs('198.51.100.11') }]);
    expect(r.failed.map((f) => f.error.message)).toEqual(['NEW_DEST 198.51.100.11:80 on tcp 203.0.113.1:80: ENOMEM']);
    expect((await b.dump())[0]?.dests).toEqual([]);
  });
});
