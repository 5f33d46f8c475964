import type { DestSpec, ServiceKey, ServiceSpec, ServiceState } from './model.js';

/** One change to the kernel table. The reconciler emits these in an order the kernel accepts. */
export type IpvsOp =
  | { op: 'add-service'; service: ServiceSpec }
  | { op: 'edit-service'; service: ServiceSpec }
  | { op: 'del-service'; key: ServiceKey }
  | { op: 'add-dest'; service: ServiceKey; dest: DestSpec }
  | { op: 'edit-dest'; service: ServiceKey; dest: DestSpec }
  | { op: 'del-dest'; service: ServiceKey; dest: Pick<DestSpec, 'family' | 'address' | 'port'> };

/** Kernel error names the backends report (the kernel's errno names). */
export type IpvsErrno = 'EEXIST' | 'ESRCH' | 'ENOENT' | 'EINVAL' | 'EPERM' | 'EAFNOSUPPORT' | 'EOPNOTSUPP' | string;

/**
 * A failed operation, naming the object it concerned, e.g.
 * `NEW_DEST 198.51.100.11:80 on tcp 203.0.113.1:80: EEXIST`.
 */
export class IpvsError extends Error {
  constructor(
    readonly operation: IpvsOp | { op: 'flush' | 'zero' | 'dump' | 'info' | 'daemon' },
    readonly errno: IpvsErrno,
    message: string,
  ) {
    super(message);
    this.name = 'IpvsError';
  }
}

export interface ApplyResult {
  applied: IpvsOp[];
  failed: { op: IpvsOp; error: IpvsError }[];
}

export interface IpvsInfo {
  version: string; // e.g. "1.2.1"
  connTableSize: number;
}

export interface DumpOptions {
  /** Also read packet/byte counters and rates (slower on the ipvsadm backend). */
  stats?: boolean;
}

/**
 * What every kernel backend implements. Methods never throw for a single failed object during `apply`;
 * they report it in `failed` and carry on with independent operations, so one bad real server cannot
 * block the rest of the table. `dump`/`info`/`flush`/`zero` throw IpvsError.
 */
export interface IpvsBackend {
  readonly name: 'netlink' | 'ipvsadm' | 'memory';
  dump(opts?: DumpOptions): Promise<ServiceState[]>;
  apply(ops: IpvsOp[]): Promise<ApplyResult>;
  flush(): Promise<void>;
  zero(service?: ServiceKey): Promise<void>;
  info(): Promise<IpvsInfo>;
  close(): Promise<void>;
}
