/**
 * IpvsBackend over the IPVS generic netlink family: no child processes, one message per operation.
 * The table it reads and writes is the one of the network namespace the process runs in.
 */
import type { Logger } from 'pino';
import { silentLogger } from '../../log/logger.js';
import { IpvsError, type ApplyResult, type DumpOptions, type IpvsBackend, type IpvsInfo, type IpvsOp } from '../backend.js';
import { serviceId, type ServiceKey, type ServiceState } from '../model.js';
import { opError } from '../op-errors.js';
import { decodeDaemon, decodeDest, decodeInfo, decodeService, type DaemonConfig } from './attrs.js';
import { IPVS_GENL_NAME } from './constants.js';
import { parseGenl } from './framing.js';
import { CTRL_FAMILY_ID, ctrlGetFamily, decodeFamilyId, ipvsRequest, type GenlRequest } from './messages.js';
import { NlaError, NlaSet } from './nla.js';
import { AddressError } from './address.js';
import { NlRequestError, NlTransportError, openGenlSocket, type NlTransport } from './nl-socket.js';
import type { NlMessage } from './framing.js';

export interface NetlinkBackendOptions {
  /** Per request; a dump counts as one request. */
  timeoutMs?: number;
  /** How many operations `apply` keeps in flight. The kernel handles them in send order either way. */
  window?: number;
  /** Re-reads of a dump the kernel flagged as interrupted by a concurrent change. */
  dumpRetries?: number;
  logger?: Logger;
  /** For tests: a fake kernel. Default: a generic netlink socket in the current network namespace. */
  transport?: NlTransport;
}

export const FAMILY_MISSING = 'IPVS generic netlink family not found: is the ip_vs module loaded? (modprobe ip_vs)';

type Operation = IpvsError['operation'];

export function requestFor(op: IpvsOp): GenlRequest {
  switch (op.op) {
    case 'add-service':
      return ipvsRequest.newService(op.service);
    case 'edit-service':
      return ipvsRequest.setService(op.service);
    case 'del-service':
      return ipvsRequest.delService(op.key);
    case 'add-dest':
      return ipvsRequest.newDest(op.service, op.dest);
    case 'edit-dest':
      return ipvsRequest.setDest(op.service, op.dest);
    case 'del-dest':
      return ipvsRequest.delDest(op.service, op.dest);
  }
}

/** A hint for errors whose errno alone misleads (the kernel says ENOENT for an unknown scheduler). */
function hint(op: IpvsOp, code: string): string | undefined {
  if (code === 'ENOENT' && (op.op === 'add-service' || op.op === 'edit-service')) {
    const s = op.service.scheduler;
    return `scheduler "${s}" not known to the kernel: is module ip_vs_${s} available?`;
  }
  return undefined;
}

/** Errors of operations other than IpvsOps: `FLUSH: ETIMEDOUT: no answer ...`. */
export function toIpvsError(operation: Operation, text: string, err: unknown): IpvsError {
  if (err instanceof IpvsError) return err;
  if (err instanceof NlRequestError || err instanceof NlTransportError) return new IpvsError(operation, err.code, `${text}: ${err.message}`);
  // A reply we could not read (NlaError, AddressError) or input we could not encode.
  const unreadable = err instanceof NlaError || err instanceof AddressError;
  const message = err instanceof Error ? err.message : String(err);
  return new IpvsError(operation, unreadable ? 'EBADMSG' : 'EINVAL', `${text}: ${message}`);
}

/** `NEW_DEST 198.51.100.11:80 on tcp 203.0.113.1:80: EEXIST`, with the kernel's or our explanation in parentheses. */
export function opFailure(op: IpvsOp, err: unknown): IpvsError {
  if (err instanceof NlRequestError) return opError(op, err.code, err.extAck ?? hint(op, err.code));
  if (err instanceof NlTransportError) return opError(op, err.code, err.message);
  // Unencodable input (bad address, port out of range): reported as EINVAL, nothing was sent.
  return opError(op, 'EINVAL', err instanceof Error ? err.message : String(err));
}

/**
 * Runs `fn` over `items` with at most `window` calls in flight, starting them in order. Rejects with the
 * first error once every started call has settled (so no request is left running unobserved).
 */
export async function inWindow<T>(items: readonly T[], window: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  let firstError: { err: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (next < items.length && !firstError) {
      const i = next++;
      try {
        await fn(items[i] as T, i);
      } catch (err) {
        firstError ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(window, items.length) }, worker));
  if (firstError) throw firstError.err;
}

export interface NetlinkBackend extends IpvsBackend {
  readonly name: 'netlink';
  /** Sync daemon control (connection synchronisation between directors). */
  startDaemon(d: DaemonConfig): Promise<void>;
  stopDaemon(state: DaemonConfig['state']): Promise<void>;
  daemons(): Promise<DaemonConfig[]>;
}

export async function createNetlinkBackend(opts: NetlinkBackendOptions = {}): Promise<NetlinkBackend> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  const window = Math.max(1, opts.window ?? 32);
  const dumpRetries = opts.dumpRetries ?? 3;
  const log = opts.logger ?? silentLogger();
  const transport = opts.transport ?? openGenlSocket();

  let familyId: number;
  try {
    const lookup = ctrlGetFamily(IPVS_GENL_NAME);
    const [reply] = await transport.request(CTRL_FAMILY_ID, lookup.flags, lookup.payload, { timeoutMs, dump: false });
    if (!reply) throw new NlTransportError('EBADMSG', 'GETFAMILY answered without a reply message');
    familyId = decodeFamilyId(reply.payload);
  } catch (err) {
    transport.close();
    if (err instanceof NlRequestError && err.code === 'ENOENT') throw new IpvsError({ op: 'info' }, 'ENOENT', FAMILY_MISSING);
    throw toIpvsError({ op: 'info' }, 'IPVS family lookup', err);
  }
  log.debug({ familyId }, 'IPVS generic netlink family resolved');

  const send = (req: GenlRequest): Promise<NlMessage[]> => transport.request(familyId, req.flags, req.payload, { timeoutMs, dump: req.dump });

  /** Genl attributes of each reply, checked to be of our family. */
  const replyAttrs = (replies: NlMessage[], what: string): NlaSet[] =>
    replies.map((m, i) => {
      const where = `${what} reply ${i}`;
      if (m.type !== familyId) throw new NlTransportError('EBADMSG', `${where}: message type ${m.type}, expected IPVS family ${familyId}`);
      return new NlaSet(parseGenl(m.payload, where).attrs, where);
    });

  async function dumpOnce(withStats: boolean): Promise<ServiceState[]> {
    const services = replyAttrs(await send(ipvsRequest.getServices()), 'GET_SERVICE').map(decodeService);
    // One after the other: a netlink socket runs one dump at a time (a second one gets EBUSY).
    for (const svc of services) {
      const what = `GET_DEST ${serviceId(svc.key)}`;
      svc.dests = replyAttrs(await send(ipvsRequest.getDests(svc.key)), what).map((a) => decodeDest(a, svc.key.family, { stats: withStats }));
      if (!withStats) {
        delete svc.stats;
        for (const d of svc.dests) delete d.stats;
      }
    }
    return services;
  }

  async function simple(operation: Operation, req: GenlRequest, text: string): Promise<NlMessage[]> {
    try {
      return await send(req);
    } catch (err) {
      throw toIpvsError(operation, text, err);
    }
  }

  async function applyOne(op: IpvsOp): Promise<IpvsError | undefined> {
    try {
      await send(requestFor(op));
      return undefined;
    } catch (err) {
      return opFailure(op, err);
    }
  }

  return {
    name: 'netlink',

    async dump(dumpOpts: DumpOptions = {}): Promise<ServiceState[]> {
      for (let attempt = 0; ; attempt++) {
        try {
          return await dumpOnce(dumpOpts.stats === true);
        } catch (err) {
          if (err instanceof NlTransportError && err.code === 'EDUMPINTR' && attempt < dumpRetries) {
            log.debug({ attempt }, 'IPVS dump interrupted by a concurrent change; reading again');
            continue;
          }
          throw toIpvsError({ op: 'dump' }, 'dump of the IPVS table', err);
        }
      }
    },

    async apply(ops: IpvsOp[]): Promise<ApplyResult> {
      const results = new Array<IpvsError | undefined>(ops.length);
      // Requests leave in op order (the kernel applies them in that order); results are kept by index.
      await inWindow(ops, window, async (op, i) => {
        results[i] = await applyOne(op);
      });
      const result: ApplyResult = { applied: [], failed: [] };
      ops.forEach((op, i) => {
        const error = results[i];
        if (error) result.failed.push({ op, error });
        else result.applied.push(op);
      });
      if (result.failed.length > 0) log.warn({ failed: result.failed.map((f) => f.error.message) }, 'IPVS operations failed');
      return result;
    },

    async flush(): Promise<void> {
      await simple({ op: 'flush' }, ipvsRequest.flush(), 'FLUSH');
    },

    async zero(service?: ServiceKey): Promise<void> {
      await simple({ op: 'zero' }, ipvsRequest.zero(service), service ? `ZERO ${serviceId(service)}` : 'ZERO');
    },

    async info(): Promise<IpvsInfo> {
      const replies = await simple({ op: 'info' }, ipvsRequest.getInfo(), 'GET_INFO');
      try {
        const [attrs] = replyAttrs(replies, 'GET_INFO');
        if (!attrs) throw new NlTransportError('EBADMSG', 'GET_INFO answered without a reply message');
        return decodeInfo(attrs);
      } catch (err) {
        throw toIpvsError({ op: 'info' }, 'GET_INFO', err);
      }
    },

    async startDaemon(d: DaemonConfig): Promise<void> {
      await simple({ op: 'daemon' }, ipvsRequest.newDaemon(d), `NEW_DAEMON ${d.state} on ${d.mcastIfn} syncid ${d.syncId}`);
    },

    async stopDaemon(state: DaemonConfig['state']): Promise<void> {
      await simple({ op: 'daemon' }, ipvsRequest.delDaemon(state), `DEL_DAEMON ${state}`);
    },

    async daemons(): Promise<DaemonConfig[]> {
      const replies = await simple({ op: 'daemon' }, ipvsRequest.getDaemons(), 'GET_DAEMON');
      try {
        return replyAttrs(replies, 'GET_DAEMON').map(decodeDaemon);
      } catch (err) {
        throw toIpvsError({ op: 'daemon' }, 'GET_DAEMON', err);
      }
    },

    async close(): Promise<void> {
      transport.close();
    },
  };
}

