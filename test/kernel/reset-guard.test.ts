// The reset guard on a real kernel (the UML guest has the tc classifiers; this host's kernel does not): a client
// connecting to a VIP port nobody listens on is refused (a TCP reset from the director); with the guard's filter
// on the director's egress the reset is dropped, so the client only times out, and tc counts the dropped
// packet; with the guard off the client is refused again and no filter is left.
//
//   client 203.0.113.10 --bridge lan-- d e0 203.0.113.2, VIP 203.0.113.100
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Topology } from '../harness/netns.js';
import { requireKernelIpvs } from '../harness/privileges.js';
import { REPO_ROOT } from '../harness/uml.js';

const GUARD = join(REPO_ROOT, 'test', 'kernel', 'vrrp', 'reset-guard.ts');
const VIP = '203.0.113.100';
/** Prints "refused", "timeout" or the error code of one connect to VIP:81 with a 2 s limit. */
const CONNECT = `const s=require('node:net').connect({host:'${VIP}',port:81});s.setTimeout(2000,()=>{console.log('timeout');process.exit(0)});s.on('connect',()=>{console.log('connected');process.exit(0)});s.on('error',(e)=>{console.log(e.code==='ECONNREFUSED'?'refused':e.code);process.exit(0)});`;

requireKernelIpvs('kernel/reset-guard')('reset guard: TCP resets from a VIP are dropped while the guard is up', () => {
  let topo: Topology;
  const attempt = async (): Promise<string> => (await topo.exec('client', [process.execPath, '-e', CONNECT], { timeoutMs: 30_000 })).stdout.trim();
  const guard = async (what: 'on' | 'off'): Promise<{ guarded: string[] }> => {
    const r = await topo.exec('d', [process.execPath, '--import', 'tsx', GUARD, what, 'e0', VIP], { timeoutMs: 60_000 });
    expect(r.stderr, 'the guard logged a problem').not.toMatch(/"level":(40|50)/);
    return JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as { guarded: string[] };
  };
  const filters = async (): Promise<string> => (await topo.exec('d', ['tc', '-s', 'filter', 'show', 'dev', 'e0', 'egress'])).stdout;

  beforeAll(async () => {
    topo = new Topology({ timeoutMs: 60_000 });
    await topo.namespace('client');
    await topo.namespace('d');
    await topo.bridge('lan');
    await topo.plug({ ns: 'client', ifname: 'eth0', addresses: ['203.0.113.10/24'] }, 'lan');
    await topo.plug({ ns: 'd', ifname: 'e0', addresses: ['203.0.113.2/24', `${VIP}/24`] }, 'lan');
  });

  afterAll(async () => {
    await topo?.destroy();
  });

  it('without the guard the director refuses a connection to a closed port', async () => {
    expect(await attempt()).toBe('refused');
  });

  it('with the guard on, the reset never leaves: the client times out and tc counts the drop', async () => {
    expect(await guard('on')).toEqual({ guarded: [`e0 ${VIP}`] });
    expect(await attempt()).toBe('timeout');
    const shown = await filters();
    expect(shown).toContain('pref 4646');
    expect(shown).toMatch(/src_ip 203\.0\.113\.100/);
    const dropped = /Sent \d+ bytes (\d+) pkt \(dropped (\d+)/.exec(shown);
    expect(Number(dropped?.[2] ?? 0), shown).toBeGreaterThan(0);
  });

  it('with the guard off, the director refuses again and no guard filter is left', async () => {
    expect(await guard('off')).toEqual({ guarded: [] });
    expect(await attempt()).toBe('refused');
    expect(await filters()).not.toContain('pref 4646');
  });
});
