import { IpvsError, type ApplyResult, type DumpOptions, type IpvsBackend, type IpvsErrno, type IpvsInfo, type IpvsOp } from './backend.js';
import { destId, serviceId, SCHEDULERS, type DestSpec, type DestState, type ServiceKey, type ServiceState, type Stats } from './model.js';
import { opError } from './op-errors.js';

/**
 * An in-process IPVS table with the kernel's error semantics, for unit tests and dry runs:
 * EEXIST for adding what exists, ESRCH for anything aimed at a missing service, ENOENT for a missing
 * destination and for an unknown scheduler (the kernel answers ENOENT when no ip_vs_<name> module exists,
 * which ipvsadm prints as "Scheduler or persistence engine not found"), ERANGE for lower > upper threshold
 * (even when upper is 0, as kernel 6.1 was seen to answer),
 * EINVAL for a destination of another address family that is not tunnelled.
 */

export interface MemoryBackendOptions {
  /** Schedulers the "kernel" has loaded; default: all that lvskeep knows. */
  schedulers?: readonly string[];
  /** Fault injection for tests: return an errno to make this op fail as if the kernel refused it. */
  fault?: (op: IpvsOp) => IpvsErrno | undefined;
}

function zeroStats(): Stats {
  return { conns: 0, inPackets: 0, outPackets: 0, inBytes: 0, outBytes: 0, cps: 0, inPps: 0, outPps: 0, inBps: 0, outBps: 0 };
}

function copyDest(d: DestSpec): DestState {
  const out: DestState = {
    family: d.family, address: d.address, port: d.port, forwarding: d.forwarding, weight: d.weight,
    upperThreshold: d.upperThreshold, lowerThreshold: d.lowerThreshold, activeConns: 0, inactiveConns: 0, persistConns: 0,
  };
  if (d.forwarding === 'tunnel') {
    out.tunnelType = d.tunnelType ?? 'ipip';
    if (d.tunnelPort !== undefined) out.tunnelPort = d.tunnelPort;
    if (d.tunnelChecksum !== undefined) out.tunnelChecksum = d.tunnelChecksum;
  }
  return out;
}

/** Copy of one destination for a dump (plain data: no structuredClone per object, which costs at 10,000s). */
function dumpDest(d: DestState, stats: boolean): DestState {
  const out: DestState = { ...d };
  if (stats && d.stats) out.stats = { ...d.stats };
  else delete out.stats;
  return out;
}

/** A service and its destinations indexed by destId (a Map keeps insertion order: dumps list them as added). */
interface StoredService {
  state: Omit<ServiceState, 'dests'>;
  dests: Map<string, DestState>;
}

export class MemoryBackend implements IpvsBackend {
  readonly name = 'memory' as const;
  private readonly services = new Map<string, StoredService>();
  private readonly schedulers: ReadonlySet<string>;
  private readonly fault: MemoryBackendOptions['fault'];
  private closed = false;
  /** How many times apply() ran, for tests that check the reconciler does no needless work. */
  applyCalls = 0;

  constructor(opts: MemoryBackendOptions = {}) {
    this.schedulers = new Set(opts.schedulers ?? SCHEDULERS);
    this.fault = opts.fault;
  }

  dump(opts: DumpOptions = {}): Promise<ServiceState[]> {
    this.assertOpen('dump');
    const stats = opts.stats === true;
    return Promise.resolve(
      [...this.services.values()].map((s) => {
        const copy = structuredClone(s.state) as ServiceState;
        if (!stats) delete copy.stats;
        copy.dests = [];
        for (const d of s.dests.values()) copy.dests.push(dumpDest(d, stats));
        return copy;
      }),
    );
  }

  apply(ops: IpvsOp[]): Promise<ApplyResult> {
    this.assertOpen('apply');
    this.applyCalls++;
    const result: ApplyResult = { applied: [], failed: [] };
    for (const op of ops) {
      const errno = this.fault?.(op) ?? this.applyOne(op);
      if (errno === undefined) result.applied.push(op);
      else result.failed.push({ op, error: opError(op, errno) });
    }
    return Promise.resolve(result);
  }

  flush(): Promise<void> {
    this.assertOpen('flush');
    this.services.clear();
    return Promise.resolve();
  }

  zero(service?: ServiceKey): Promise<void> {
    this.assertOpen('zero');
    const targets = service ? [this.services.get(serviceId(service))] : [...this.services.values()];
    if (service && !targets[0]) return Promise.reject(new IpvsError({ op: 'zero' }, 'ESRCH', `ZERO ${serviceId(service)}: ESRCH`));
    for (const s of targets) {
      if (!s) continue;
      s.state.stats = zeroStats();
      for (const d of s.dests.values()) d.stats = zeroStats();
    }
    return Promise.resolve();
  }

  info(): Promise<IpvsInfo> {
    this.assertOpen('info');
    return Promise.resolve({ version: '1.2.1', connTableSize: 4096 });
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }

  /** Test hook: pretend traffic arrived, so stats and connection counts read back non-zero. */
  setCounters(service: ServiceKey, dest: Pick<DestSpec, 'family' | 'address' | 'port'>, counters: Partial<Pick<DestState, 'activeConns' | 'inactiveConns' | 'persistConns'>> & { stats?: Stats }): void {
    const d = this.services.get(serviceId(service))?.dests.get(destId(dest));
    if (!d) throw new Error(`setCounters: no ${destId(dest)} on ${serviceId(service)}`);
    Object.assign(d, counters);
  }

  private assertOpen(op: 'dump' | 'info' | 'flush' | 'zero' | 'apply'): void {
    if (this.closed) throw new IpvsError({ op: op === 'apply' ? 'dump' : op }, 'EBADF', `${op.toUpperCase()}: backend is closed`);
  }

  private applyOne(op: IpvsOp): IpvsErrno | undefined {
    switch (op.op) {
      case 'add-service': {
        const id = serviceId(op.service.key);
        if (this.services.has(id)) return 'EEXIST';
        if (!this.schedulers.has(op.service.scheduler)) return 'ENOENT';
        this.services.set(id, { state: { ...structuredClone(op.service), stats: zeroStats() }, dests: new Map() });
        return undefined;
      }
      case 'edit-service': {
        const svc = this.services.get(serviceId(op.service.key))?.state;
        if (!svc) return 'ESRCH';
        if (!this.schedulers.has(op.service.scheduler)) return 'ENOENT';
        svc.scheduler = op.service.scheduler;
        svc.schedulerFlags = [...op.service.schedulerFlags];
        svc.onePacket = op.service.onePacket;
        if (op.service.persistence) svc.persistence = { ...op.service.persistence };
        else delete svc.persistence;
        return undefined;
      }
      case 'del-service':
        return this.services.delete(serviceId(op.key)) ? undefined : 'ESRCH';
      case 'add-dest':
      case 'edit-dest':
      case 'del-dest': {
        const svc = this.services.get(serviceId(op.service));
        if (!svc) return 'ESRCH';
        const key = destId(op.dest);
        const current = svc.dests.get(key);
        if (op.op === 'del-dest') {
          if (!current) return 'ENOENT';
          svc.dests.delete(key);
          return undefined;
        }
        const d = op.dest;
        if (d.lowerThreshold > d.upperThreshold) return 'ERANGE'; // the kernel refuses it even with upper 0 (= no limit)
        if (d.family !== op.service.family && d.forwarding !== 'tunnel') return 'EINVAL';
        if (op.op === 'add-dest') {
          if (current) return 'EEXIST';
          svc.dests.set(key, { ...copyDest(d), stats: zeroStats() });
          return undefined;
        }
        if (!current) return 'ENOENT';
        svc.dests.set(key, { ...copyDest(d), activeConns: current.activeConns, inactiveConns: current.inactiveConns, persistConns: current.persistConns, stats: current.stats ?? zeroStats() });
        return undefined;
      }
    }
  }
}

export function createMemoryBackend(opts: MemoryBackendOptions = {}): MemoryBackend {
  return new MemoryBackend(opts);
}
