// Decoding the kernel's own replies captured from ipvsadm's session (UML 6.1 kernel): dumps, info, daemon,
// errors. The decoded table is compared with what ipvsadm printed (`ipvsadm -Sn`) from the same replies.
import { describe, expect, it } from 'vitest';
import { decodeDaemon, decodeDest, decodeInfo, decodeService, decodeServiceKey } from '../../../src/ipvs/netlink/attrs.js';
import { CmdAttr, IpvsCmd, NlMsgType } from '../../../src/ipvs/netlink/constants.js';
import { parseGenl, parseNlError } from '../../../src/ipvs/netlink/framing.js';
import { NlaSet } from '../../../src/ipvs/netlink/nla.js';
import { errnoName } from '../../../src/ipvs/netlink/nl-socket.js';
import type { ServiceState } from '../../../src/ipvs/model.js';
import { parseIpvsadmSave, saveLinesOf } from '../../fixtures/ipvs-netlink/ipvsadm-save.js';
import { step, type CapturedMessage } from './fixtures.js';

const attrsOf = (m: CapturedMessage): NlaSet => new NlaSet(parseGenl(m.payload, 'fixture').attrs, 'fixture');

/** Rebuild the table from one `ipvsadm -L`-style session: the GET_SERVICE dump, then one GET_DEST dump per service. */
function tableFrom(name: string): ServiceState[] {
  const s = step(name);
  const services: ServiceState[] = [];
  let current: ServiceState | undefined;
  for (const m of s.ipvs) {
    if (m.dir !== 'recv' || m.type !== s.familyId) continue;
    const cmd = m.payload[0];
    if (cmd === IpvsCmd.NEW_SERVICE) services.push(decodeService(attrsOf(m)));
  }
  // GET_DEST requests name their service; replies follow each request.
  for (const m of s.ipvs) {
    if (m.type !== s.familyId) continue;
    if (m.dir === 'send' && m.payload[0] === IpvsCmd.GET_DEST) {
      const nest = attrsOf(m).nested(CmdAttr.SERVICE, 'SERVICE');
      if (!nest) throw new Error('GET_DEST request without SERVICE');
      const key = decodeServiceKey(nest);
      current = services.find((x) => JSON.stringify(x.key) === JSON.stringify(key));
    }
    if (m.dir === 'recv' && m.payload[0] === IpvsCmd.NEW_DEST && current) current.dests.push(decodeDest(attrsOf(m), current.key.family));
  }
  return services;
}

describe('decoding kernel replies', () => {
  it('the dumped table equals what ipvsadm -Sn printed from the same kernel', () => {
    const table = tableFrom('save');
    expect(table).toHaveLength(7);
    expect(table.reduce((n, s) => n + s.dests.length, 0)).toBe(6);
    expect(saveLinesOf(table)).toEqual(parseIpvsadmSave(step('save').stdout));
  });

  it('reads every field of a service and a destination, stripping the kernel-internal HASHED flag', () => {
    const table = tableFrom('list-stats');
    const v6 = table.find((s) => s.key.kind === 'addr' && s.key.family === 6);
    expect(v6).toMatchObject({
      key: { kind: 'addr', family: 6, protocol: 'tcp', address: '2001:db8::1', port: 443 },
      scheduler: 'mh',
      schedulerFlags: ['mh-port'],
      onePacket: false,
      persistence: { timeout: 60, netmaskPrefix: 64 },
    });
    const udp = table.find((s) => s.key.kind === 'addr' && s.key.protocol === 'udp' && s.key.port === 53);
    expect(udp?.persistence).toEqual({ timeout: 300, netmaskPrefix: 24 });
    const sh = table.find((s) => s.key.kind === 'fwmark' && s.key.fwmark === 7);
    expect(sh?.schedulerFlags).toEqual(['sh-fallback', 'sh-port']);
    expect(sh?.persistence).toBeUndefined();
    const ops = table.find((s) => s.key.kind === 'addr' && s.key.port === 5000);
    expect(ops?.onePacket).toBe(true);
    const tcp80 = table.find((s) => s.key.kind === 'addr' && s.key.protocol === 'tcp' && s.key.port === 80);
    expect(tcp80?.stats).toEqual({ conns: 0, inPackets: 0, outPackets: 0, inBytes: 0, outBytes: 0, cps: 0, inPps: 0, outPps: 0, inBps: 0, outBps: 0 });
    const masq = tcp80?.dests.find((d) => d.address === '198.51.100.11');
    expect(masq).toMatchObject({ family: 4, port: 80, forwarding: 'masq', weight: 7, upperThreshold: 100, lowerThreshold: 10, activeConns: 0 });
    expect(masq?.tunnelType).toBeUndefined();
    expect(tcp80?.dests.find((d) => d.address === '198.51.100.14')).toMatchObject({ forwarding: 'tunnel', tunnelType: 'gue', tunnelPort: 6080 });
    expect(tcp80?.dests.find((d) => d.address === '198.51.100.13')).toMatchObject({ forwarding: 'tunnel', tunnelType: 'ipip' });
    expect(tcp80?.dests.find((d) => d.address === '198.51.100.13')?.tunnelPort).toBeUndefined();
    expect(tcp80?.dests.find((d) => d.address === '198.51.100.12')?.forwarding).toBe('route');
  });

  it('GET_INFO reply', () => {
    const s = step('info');
    const reply = s.ipvs.find((m) => m.dir === 'recv' && m.type === s.familyId && m.payload[0] === IpvsCmd.SET_INFO);
    if (!reply) throw new Error('no GET_INFO reply in fixture');
    expect(decodeInfo(attrsOf(reply))).toEqual({ version: '1.2.1', connTableSize: 4096 });
  });

  it('GET_DAEMON reply (kernel nests without NLA_F_NESTED)', () => {
    const s = step('list-daemon');
    const reply = s.ipvs.find((m) => m.dir === 'recv' && m.type === s.familyId && m.payload[0] === IpvsCmd.NEW_DAEMON);
    if (!reply) throw new Error('no GET_DAEMON reply in fixture');
    expect(decodeDaemon(attrsOf(reply))).toEqual({ state: 'master', mcastIfn: 'lo', syncId: 5, syncMaxLen: 1472, mcastGroup: { family: 4, address: '224.0.0.81' }, mcastPort: 8848, mcastTtl: 1 });
  });

  it.each([
    ['add-service-exists', 'EEXIST'],
    ['add-dest-exists', 'EEXIST'],
    ['add-dest-no-service', 'ESRCH'],
    ['del-service-missing', 'ESRCH'],
    ['add-service-bad-sched', 'ENOENT'],
  ])('%s: the kernel answers %s', (name, code) => {
    const err = step(name).ipvs.find((m) => m.dir === 'recv' && m.type === NlMsgType.ERROR && m.payload.readInt32LE(0) !== 0);
    if (!err) throw new Error(`no error in fixture ${name}`);
    const body = parseNlError(err, name);
    expect(errnoName(body.errno)).toBe(code);
    expect(body.message).toBeUndefined();
  });
});
