/** Choosing and decorating the IPVS backend: by name, with failed operations reported, and dry-run tracing. */
import type { ApplyResult, IpvsBackend, IpvsOp } from '../ipvs/backend.js';
import { createIpvsadmBackend } from '../ipvs/ipvsadm-backend.js';
import { createMemoryBackend } from '../ipvs/memory-backend.js';
import { createNetlinkBackend } from '../ipvs/netlink/netlink-backend.js';
import { formatState } from '../ipvs/save-format.js';
import type { Logger } from '../log/logger.js';
import { errorMessage } from '../util/errors.js';

export type BackendName = IpvsBackend['name'];
export const BACKEND_NAMES: readonly BackendName[] = ['netlink', 'ipvsadm', 'memory'];

export async function openIpvsBackend(name: BackendName, logger: Logger): Promise<IpvsBackend> {
  switch (name) {
    case 'netlink':
      return createNetlinkBackend({ logger });
    case 'ipvsadm':
      return createIpvsadmBackend({ logger });
    case 'memory':
      return createMemoryBackend();
  }
}

/**
 * The same backend, calling `onFailed` for every operation the kernel refused (the daemon turns them into
 * ipvs.error events) and, when `traceTable` is set, logging the whole table after each change: a dry run
 * has no kernel to look at, so its log is where the would-be table is seen.
 */
export function observeBackend(
  inner: IpvsBackend,
  opts: { onFailed?: (failed: ApplyResult['failed']) => void; traceTable?: Logger },
): IpvsBackend {
  return {
    name: inner.name,
    dump: (o) => inner.dump(o),
    async apply(ops: IpvsOp[]): Promise<ApplyResult> {
      const result = await inner.apply(ops);
      if (result.failed.length > 0) opts.onFailed?.(result.failed);
      if (opts.traceTable && result.applied.length > 0) {
        try {
          opts.traceTable.info({ table: formatState(await inner.dump()).split('\n').filter(Boolean) }, 'dry-run IPVS table');
        } catch (err) {
          opts.traceTable.warn({ err: errorMessage(err) }, 'dry-run IPVS table could not be read');
        }
      }
      return result;
    },
    flush: () => inner.flush(),
    zero: (s) => inner.zero(s),
    info: () => inner.info(),
    close: () => inner.close(),
  };
}

/** A backend whose implementation can be swapped later (metering is added once metrics start). */
export function lateBoundBackend(initial: IpvsBackend): { backend: IpvsBackend; replace(next: IpvsBackend): void } {
  let inner = initial;
  return {
    backend: {
      name: initial.name,
      dump: (o) => inner.dump(o),
      apply: (ops) => inner.apply(ops),
      flush: () => inner.flush(),
      zero: (s) => inner.zero(s),
      info: () => inner.info(),
      close: () => inner.close(),
    },
    replace(next) {
      inner = next;
    },
  };
}
