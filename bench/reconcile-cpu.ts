/**
 * CPU of lvskeep's own share of one reconcile pass over an unchanged table, on the host: decoding a GET_DEST
 * dump as the kernel sends it (every destination with its counters, STATS and STATS64 nests) and planning
 * against the desired table. The kernel's side of the dump is not included: measure that on real hardware or
 * read bench/ipvs-apply.ts's `reconcile pass CPU` column (the whole pass inside the user-mode-linux guest, where
 * every system call is emulated and a single `ipvsadm -Sn` of the same table costs about a second).
 *
 *   npx tsx bench/reconcile-cpu.ts [destinations=10000] [rounds=20]
 */
import { CmdAttr, DestAttr, IpvsCmd, IPVS_GENL_VERSION, StatsAttr } from '../src/ipvs/netlink/constants.js';
import { destAttr } from '../src/ipvs/netlink/attrs.js';
import { decodeDest } from '../src/ipvs/netlink/attrs.js';
import { genlPayload, parseGenl } from '../src/ipvs/netlink/framing.js';
import { nla, nlaNest, nlaU32, NlaSet, parseNlas } from '../src/ipvs/netlink/nla.js';
import { planChanges } from '../src/ipvs/reconcile.js';
import type { DesiredService, DestSpec } from '../src/ipvs/model.js';

const DESTS = Math.max(10, Number(process.argv[2] ?? 10_000));
const ROUNDS = Math.min(200, Math.max(1, Number(process.argv[3] ?? 20)));
const PER_SERVICE = 10;

function u64(type: number, v: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(v);
  return nla(type, b);
}

/** A GET_DEST reply body as the kernel builds it: the dest's own attributes plus counters and both stats nests. */
function kernelDestReply(d: DestSpec): Buffer {
  const own = parseNlas(destAttr(d).subarray(4), 'bench').map((a) => nla(a.type, a.value));
  const stats = nlaNest(DestAttr.STATS, [1, 2, 3, 6, 7, 8, 9, 10].map((t) => nlaU32(t, 12345)).concat([u64(StatsAttr.INBYTES, 1n << 33n), u64(StatsAttr.OUTBYTES, 1n << 34n)]));
  const stats64 = nlaNest(DestAttr.STATS64, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((t) => u64(t, 123456789n)));
  const extra = [nlaU32(DestAttr.ACTIVE_CONNS, 3), nlaU32(DestAttr.INACT_CONNS, 40), nlaU32(DestAttr.PERSIST_CONNS, 0), stats, stats64];
  return genlPayload(IpvsCmd.NEW_DEST, IPVS_GENL_VERSION, [nlaNest(CmdAttr.DEST, [...own, ...extra])]);
}

const desired: DesiredService[] = [];
for (let s = 0; s < DESTS / PER_SERVICE; s++) {
  const dests: DestSpec[] = [];
  for (let d = 0; d < PER_SERVICE; d++) {
    dests.push({ family: 4, address: `198.51.100.${(d % 250) + 1}`, port: 8000 + s, forwarding: 'masq', weight: 1 + (d % 5), upperThreshold: 0, lowerThreshold: 0 });
  }
  desired.push({ key: { kind: 'addr', family: 4, protocol: 'tcp', address: `203.0.113.${(s % 250) + 1}`, port: 1000 + Math.floor(s / 250) }, scheduler: 'wlc', schedulerFlags: [], onePacket: false, dests });
}
const replies = desired.map((svc) => svc.dests.map(kernelDestReply));

const samples: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  const c0 = process.cpuUsage();
  const actual = desired.map((svc, i) => {
    const { dests: _unused, ...spec } = svc;
    return { ...spec, dests: (replies[i] ?? []).map((body) => decodeDest(new NlaSet(parseGenl(body, 'bench').attrs, 'bench'), 4, { stats: false })) };
  });
  const ops = planChanges(desired, actual, { owned: 'configured' });
  const c = process.cpuUsage(c0);
  if (ops.length !== 0) throw new Error(`an unchanged table planned ${ops.length} operations`);
  samples.push((c.user + c.system) / 1000);
}
samples.sort((a, b) => a - b);
const pick = (q: number): string => (samples[Math.min(samples.length - 1, Math.floor(q * samples.length))] ?? 0).toFixed(1);
process.stdout.write(`reconcile pass over ${DESTS} unchanged destinations (decode kernel dump replies + plan), ${ROUNDS} rounds, CPU ms:\n`);
process.stdout.write(`| destinations | min | median | p90 | max |\n|---|---|---|---|---|\n| ${DESTS} | ${pick(0)} | ${pick(0.5)} | ${pick(0.9)} | ${(samples[samples.length - 1] ?? 0).toFixed(1)} |\n`);
process.stdout.write('(the first rounds include JIT warm-up; a running daemon is warm)\n');
