/**
 * `lvskeep realserver up|down|status`: the steps, over injected adapters (sysctls, addresses, links, state
 * file). Order matters in `up`: the ARP sysctls go in before the VIP appears, so there is no moment in which
 * eth0 would answer ARP for the VIP; `down` removes the VIP before restoring them, for the same reason.
 * The state file is written before each change, so after any failure `down` can still undo what was done.
 */
import type { Vip, VipManager } from '../vip/types.js';
import { describeVip } from '../vip/types.js';
import { errorMessage } from '../util/errors.js';
import type { LinkControl } from './links.js';
import { allocateLabel, resolveRequest, wantedSysctls, TUNNEL_DEV, type RealserverRequest, type RealserverSpec } from './spec.js';
import { formatChange, planSysctls, sameSysctlValue, type SysctlSetting } from './sysctl-plan.js';
import type { SysctlIo } from './sysctl.js';
import type { HeldVip, RealserverState, StateStore } from './state.js';

export interface RealserverDeps {
  sysctl: SysctlIo;
  vips: VipManager;
  links: LinkControl;
  state: StateStore;
}

export interface RealserverReport {
  /** Changes made, one line each. */
  done: string[];
  /** Things already in place, or deliberately left alone. */
  kept: string[];
}

/** A failure part-way: `done` lists what had been changed before it (and is recorded in the state file). */
export class RealserverError extends Error {
  constructor(
    message: string,
    readonly done: string[],
    cause?: unknown,
  ) {
    super(message, { cause });
    this.name = 'RealserverError';
  }
}

const sameAddress = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();
const heldIndex = (state: RealserverState, address: string, dev: string): number =>
  state.vips.findIndex((v) => sameAddress(v.address, address) && v.dev === dev);

async function readAll(sysctl: SysctlIo, keys: readonly string[]): Promise<Map<string, string>> {
  const current = new Map<string, string>();
  for (const key of keys) current.set(key, await sysctl.read(key));
  return current;
}

/** Every sysctl the held VIPs (plus the new spec) need: the union over modes and devices. */
function wantedFor(spec: RealserverSpec): SysctlSetting[] {
  return wantedSysctls({ mode: spec.mode, dev: spec.dev, hasIpv4: spec.vips.some((v) => v.family === 4) });
}

async function checkDevice(deps: RealserverDeps, spec: RealserverSpec, report: RealserverReport, state: RealserverState): Promise<void> {
  if (spec.mode === 'tun' && spec.dev === TUNNEL_DEV) {
    const how = await deps.links.ensureTunnel(spec.dev);
    if (how === 'present') return;
    report.done.push(how === 'created' ? `created ${spec.dev} (type ipip)` : `loaded the ipip module (${spec.dev} appeared)`);
    if (how === 'created' && !state.links.some((l) => l.name === spec.dev)) state.links.push({ name: spec.dev, action: 'created' });
    return;
  }
  if (!(await deps.links.info(spec.dev)).exists) throw new Error(`unknown device ${spec.dev}: no such interface in this network namespace (--dev)`);
}

export async function realserverUp(req: RealserverRequest, deps: RealserverDeps): Promise<RealserverReport> {
  const spec = resolveRequest(req);
  return deps.state.withLock(() => upLocked(spec, deps));
}

async function upLocked(spec: RealserverSpec, deps: RealserverDeps): Promise<RealserverReport> {
  const report: RealserverReport = { done: [], kept: [] };
  const state = await deps.state.load();
  // Saves only when something changed, so a second `up` leaves the file exactly as it was.
  let saved = JSON.stringify(state);
  const save = async (): Promise<void> => {
    const now = JSON.stringify(state);
    if (now === saved) return;
    await deps.state.save(state);
    saved = now;
  };
  try {
    await checkDevice(deps, spec, report, state);
    if (report.done.length > 0) await save();

    // 1. sysctls: check every file is writable before the first write, so a permission or read-only
    //    problem changes nothing at all.
    const wanted = wantedFor(spec);
    const plan = planSysctls(await readAll(deps.sysctl, wanted.map((w) => w.key)), wanted);
    for (const c of plan.changes) await deps.sysctl.checkWritable(c.key);
    for (const c of plan.changes) if (!(c.key in state.sysctls)) state.sysctls[c.key] = c.from;
    if (plan.changes.length > 0) await save();
    for (const c of plan.changes) {
      await deps.sysctl.write(c.key, c.to);
      report.done.push(`set ${formatChange(c)}`);
    }
    for (const u of plan.unchanged) report.kept.push(`${u.key} = ${u.value} already`);

    // 2. the link must be up for the kernel to deliver to it (tunl0 starts down; lo is always up).
    const link = await deps.links.info(spec.dev);
    if (!link.up) {
      if (!state.links.some((l) => l.name === spec.dev)) state.links.push({ name: spec.dev, action: 'set-up' });
      await save();
      await deps.links.setUp(spec.dev, true);
      report.done.push(`set ${spec.dev} up`);
    }

    // 3. the VIPs, each as a host address with the next free dev:N label.
    const present = await deps.vips.list(spec.dev);
    const labels = new Set(present.flatMap((v) => (v.label ? [v.label] : [])));
    for (const vip of spec.vips) {
      const there = present.find((p) => sameAddress(p.address, vip.address));
      const held = heldIndex(state, vip.address, spec.dev);
      if (there) {
        report.kept.push(`${there.address}/${there.prefix} on ${spec.dev}${there.label ? ` (label ${there.label})` : ''} already`);
        if (held < 0) state.vips.push({ address: vip.address, prefix: there.prefix, dev: spec.dev, mode: spec.mode, added: false, ...(there.label ? { label: there.label } : {}) });
        continue;
      }
      const want: Vip = { address: vip.address, prefix: vip.prefix, dev: spec.dev };
      if (vip.family === 4) {
        const label = allocateLabel(spec.dev, labels);
        if (label !== undefined) {
          want.label = label;
          labels.add(label);
        }
      }
      const entry: HeldVip = { address: vip.address, prefix: vip.prefix, dev: spec.dev, mode: spec.mode, added: true, ...(want.label ? { label: want.label } : {}) };
      if (held >= 0) state.vips[held] = entry;
      else state.vips.push(entry);
      await save();
      await deps.vips.add(want);
      report.done.push(`added ${describeVip(want)}`);
    }
    await save();
    return report;
  } catch (err) {
    // Keep whatever the state says so far (written before each change); it is what `down` will undo.
    try {
      await save();
    } catch (saveErr) {
      report.done.push(`(state file not updated: ${errorMessage(saveErr)})`);
    }
    throw new RealserverError(errorMessage(err), report.done, err);
  }
}

export async function realserverDown(req: RealserverRequest, deps: RealserverDeps): Promise<RealserverReport> {
  const spec = resolveRequest(req);
  return deps.state.withLock(() => downLocked(spec, deps));
}

async function downLocked(spec: RealserverSpec, deps: RealserverDeps): Promise<RealserverReport> {
  const report: RealserverReport = { done: [], kept: [] };
  const state = await deps.state.load();
  try {
    for (const vip of spec.vips) {
      const i = heldIndex(state, vip.address, spec.dev);
      const held = state.vips[i];
      if (held === undefined) {
        report.kept.push(`${vip.address} on ${spec.dev}: not set up by lvskeep (not in ${deps.state.file}); left alone`);
        continue;
      }
      if (held.added) {
        await deps.vips.remove({ address: held.address, prefix: held.prefix, dev: held.dev });
        report.done.push(`removed ${held.address}/${held.prefix} from ${held.dev}`);
      } else {
        report.kept.push(`${held.address}/${held.prefix} on ${held.dev} was there before lvskeep; left in place`);
      }
      state.vips.splice(i, 1);
      await deps.state.save(state);
    }

    if (state.vips.length > 0) {
      const still = state.vips.map((v) => `${v.address} on ${v.dev}`).join(', ');
      report.kept.push(`sysctls and links kept: still needed for ${still}`);
      return report;
    }
    // The last held VIP is gone: put back every sysctl value found before the first `up`.
    for (const [key, original] of Object.entries(state.sysctls)) {
      const now = await deps.sysctl.read(key);
      if (sameSysctlValue(now, original)) report.kept.push(`${key} = ${original} already`);
      else {
        await deps.sysctl.write(key, original);
        report.done.push(`restored ${key} ${now} -> ${original}`);
      }
      delete state.sysctls[key];
      await deps.state.save(state);
    }
    for (const link of [...state.links].reverse()) {
      if (link.action === 'created') {
        await deps.links.remove(link.name);
        report.done.push(`deleted ${link.name}`);
      } else {
        await deps.links.setUp(link.name, false);
        report.done.push(`set ${link.name} down`);
      }
      state.links = state.links.filter((l) => l !== link);
      await deps.state.save(state);
    }
    return report;
  } catch (err) {
    throw new RealserverError(errorMessage(err), report.done, err);
  }
}

export interface StatusLine {
  ok: boolean;
  text: string;
}

export interface RealserverStatus {
  up: boolean;
  lines: StatusLine[];
}

/** What is in place and what is missing for the requested VIPs; reads only. */
export async function realserverStatus(req: RealserverRequest, deps: RealserverDeps): Promise<RealserverStatus> {
  const spec = resolveRequest(req);
  const lines: StatusLine[] = [];
  const link = await deps.links.info(spec.dev);
  if (!link.exists) {
    lines.push({ ok: false, text: `device ${spec.dev} does not exist` });
    return { up: false, lines };
  }
  lines.push({ ok: link.up, text: `device ${spec.dev} is ${link.up ? 'up' : 'down'}` });
  const wanted = wantedFor(spec);
  const current = await readAll(deps.sysctl, wanted.map((w) => w.key));
  const plan = planSysctls(current, wanted);
  for (const u of plan.unchanged) lines.push({ ok: true, text: `${u.key} = ${u.value}` });
  for (const c of plan.changes) lines.push({ ok: false, text: `${c.key} = ${c.from} (wanted ${c.to}: ${c.why})` });
  const present = await deps.vips.list(spec.dev);
  const state = await deps.state.load();
  for (const vip of spec.vips) {
    const there = present.find((p) => sameAddress(p.address, vip.address));
    const held = state.vips.find((v) => sameAddress(v.address, vip.address) && v.dev === spec.dev);
    const owner = held ? (held.added ? ', added by lvskeep' : ', was there before lvskeep') : '';
    if (there) lines.push({ ok: true, text: `${there.address}/${there.prefix} on ${spec.dev}${there.label ? ` (label ${there.label})` : ''}${owner}` });
    else lines.push({ ok: false, text: `${vip.address}/${vip.prefix} is not on ${spec.dev}` });
  }
  return { up: lines.every((l) => l.ok), lines };
}
