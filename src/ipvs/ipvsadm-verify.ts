import type { ApplyResult, IpvsErrno, IpvsOp } from './backend.js';
import { destId, serviceId, type ServiceState } from './model.js';
import { opError } from './op-errors.js';
import { destDifferences, normalizeDest, normalizeServiceSpec, serviceDifferences } from './spec-diff.js';

/**
 * `ipvsadm -R` is not atomic, carries on after a failed line, exits with the status of the last line only,
 * and its messages name no line. So after a restore the table is read back and every op is checked against
 * it; the errno of a failed op is inferred from the table (what exists) and from ipvsadm's messages.
 * Pure: unit-tested against captured ipvsadm messages.
 */

type OpKind = IpvsOp['op'];

/**
 * ipvsadm v1.31 messages (libipvs ipvs_strerror and its own checks), the errno behind each and the ops that
 * can print it (undefined: any op).
 */
const MESSAGES: readonly [RegExp, IpvsErrno, OpKind[]?][] = [
  [/Service already exists/, 'EEXIST', ['add-service']],
  [/Destination already exists/, 'EEXIST', ['add-dest']],
  [/Service not defined/, 'ESRCH', ['add-dest', 'edit-dest', 'del-dest']],
  [/No such service/, 'ESRCH', ['edit-service', 'del-service']],
  [/No such destination/, 'ENOENT', ['edit-dest', 'del-dest']],
  [/Scheduler or persistence engine not found/, 'ENOENT', ['add-service', 'edit-service']],
  [/Permission denied/, 'EPERM'],
  [/Protocol not available|Can't initialize ipvs/, 'ENOPROTOOPT'],
  [/Memory allocation problem/, 'ENOMEM'],
  [/Operation not supported with IPv6/, 'EOPNOTSUPP'],
  [/Operation not supported with specified address family/, 'EAFNOSUPPORT'],
  [/out of range/, 'ERANGE', ['add-dest', 'edit-dest']],
  [/Invalid operation|illegal|invalid|Illegal|You need to supply|only for|Try `ipvsadm -h'/, 'EINVAL'],
];

export interface IpvsadmMessage {
  text: string;
  errno: IpvsErrno;
  /** The ops that can print this message; undefined when any can. */
  kinds?: OpKind[];
}

/** Each non-empty stderr line with the errno it stands for (EIO when unknown). */
export function parseIpvsadmMessages(stderr: string): IpvsadmMessage[] {
  return stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('Are you sure that IP Virtual Server'))
    .map((text) => {
      const known = MESSAGES.find(([re]) => re.test(text));
      return known?.[2] ? { text, errno: known[1], kinds: known[2] } : { text, errno: known?.[1] ?? 'EIO' };
    });
}

export function errnoOfMessage(text: string): IpvsErrno {
  return parseIpvsadmMessages(text)[0]?.errno ?? 'EIO';
}

function objectKey(op: IpvsOp): { service: string; dest?: string } {
  switch (op.op) {
    case 'add-service':
    case 'edit-service':
      return { service: serviceId(op.service.key) };
    case 'del-service':
      return { service: serviceId(op.key) };
    default:
      return { service: serviceId(op.service), dest: destId(op.dest) };
  }
}

/** Errnos an op can fail with that leave no trace in the table, most specific first. */
const PLAUSIBLE: Record<IpvsOp['op'], IpvsErrno[]> = {
  'add-service': ['ENOENT', 'EINVAL', 'ENOMEM', 'EAFNOSUPPORT'],
  'edit-service': ['ENOENT', 'EINVAL'],
  'del-service': [],
  'add-dest': ['ERANGE', 'EINVAL', 'EAFNOSUPPORT', 'EOPNOTSUPP', 'ENOMEM'],
  'edit-dest': ['ERANGE', 'EINVAL'],
  'del-dest': [],
};

/**
 * ok with `unless`: the table looks as the op wanted, but it may have been like that already, in which case
 * the op failed with that errno (adding an identical existing object, deleting an absent one).
 */
type Check = { ok: true; unless?: IpvsErrno } | { ok: false; errno?: IpvsErrno };

/** Whether the table shows the op's effect; when not, the errno the table itself proves (if any). */
function checkOp(op: IpvsOp, table: Map<string, ServiceState>): Check {
  const { service, dest } = objectKey(op);
  const svc = table.get(service);
  switch (op.op) {
    case 'add-service':
      if (!svc) return { ok: false };
      return serviceDifferences(normalizeServiceSpec(op.service), normalizeServiceSpec(svc)).length === 0 ? { ok: true, unless: 'EEXIST' } : { ok: false, errno: 'EEXIST' };
    case 'edit-service':
      if (!svc) return { ok: false, errno: 'ESRCH' };
      return serviceDifferences(normalizeServiceSpec(op.service), normalizeServiceSpec(svc)).length === 0 ? { ok: true } : { ok: false };
    case 'del-service':
      return svc ? { ok: false } : { ok: true, unless: 'ESRCH' };
    case 'add-dest':
    case 'edit-dest': {
      if (!svc) return { ok: false, errno: 'ESRCH' };
      const want = normalizeDest(svc.key, op.dest);
      const have = svc.dests.find((d) => destId(d) === destId(want));
      if (!have) return { ok: false, errno: op.op === 'edit-dest' ? 'ENOENT' : undefined };
      if (destDifferences(want, have).length === 0) return op.op === 'add-dest' ? { ok: true, unless: 'EEXIST' } : { ok: true };
      return { ok: false, errno: op.op === 'add-dest' ? 'EEXIST' : undefined };
    }
    case 'del-dest': {
      if (!svc) return { ok: false, errno: 'ESRCH' };
      return svc.dests.some((d) => destId(d) === dest) ? { ok: false } : { ok: true, unless: 'ENOENT' };
    }
  }
}

/**
 * What the kernel answers to each op given only which objects exist before the batch (a `-Sn` taken just
 * before the restore): EEXIST, ESRCH, ENOENT, or undefined when existence does not stop it. Exact for these
 * errnos, which the table after the restore cannot always tell apart from success (adding an identical object
 * that already existed, deleting one that was already gone).
 */
export function predictExistenceErrors(ops: readonly IpvsOp[], before: readonly ServiceState[]): (IpvsErrno | undefined)[] {
  const tables = new Map<string, Set<string>>(before.map((s) => [serviceId(s.key), new Set(s.dests.map((d) => destId(normalizeDest(s.key, d))))]));
  return ops.map((op) => {
    const { service } = objectKey(op);
    const dests = tables.get(service);
    switch (op.op) {
      case 'add-service':
        if (dests) return 'EEXIST';
        tables.set(service, new Set());
        return undefined;
      case 'edit-service':
        return dests ? undefined : 'ESRCH';
      case 'del-service':
        if (!dests) return 'ESRCH';
        tables.delete(service);
        return undefined;
      case 'add-dest':
      case 'edit-dest':
      case 'del-dest': {
        if (!dests) return 'ESRCH';
        const id = destId(op.op === 'del-dest' ? op.dest : normalizeDest(op.service, op.dest));
        const exists = dests.has(id);
        if (op.op === 'add-dest') {
          if (exists) return 'EEXIST';
          dests.add(id);
          return undefined;
        }
        if (!exists) return 'ENOENT';
        if (op.op === 'del-dest') dests.delete(id);
        return undefined;
      }
    }
  });
}

/**
 * Judge every op of a restore batch against the table read back afterwards (and, when given, the table
 * just before, which makes EEXIST/ESRCH/ENOENT exact). An op that a later op of the batch overrides (same
 * object, or a deletion of its service) shares the verdict of that later op, since its own effect can no
 * longer be seen.
 */
export function verifyRestore(ops: readonly IpvsOp[], after: readonly ServiceState[], stderr: string, before?: readonly ServiceState[]): ApplyResult {
  const table = new Map(after.map((s) => [serviceId(s.key), s]));
  const messages = parseIpvsadmMessages(stderr);
  const predicted = before ? predictExistenceErrors(ops, before) : [];
  const verdict: Check[] = new Array<Check>(ops.length);
  // Walking backwards, the nearest later op (that was not refused) on the same destination, on the same
  // service at service level, and on the same service other than an edit: linear, so 11,000 ops stay cheap.
  const nextOnObject = new Map<string, number>();
  const nextServiceLevel = new Map<string, number>();
  const nextServiceChange = new Map<string, number>();
  for (let i = ops.length - 1; i >= 0; i--) {
    const op = ops[i] as IpvsOp;
    const key = objectKey(op);
    const refused = predicted[i];
    if (refused !== undefined) {
      verdict[i] = { ok: false, errno: refused };
      continue;
    }
    let later: number | undefined;
    if (key.dest === undefined) later = nextServiceLevel.get(key.service);
    else {
      const a = nextOnObject.get(`${key.service}|${key.dest}`);
      const b = nextServiceChange.get(key.service);
      later = a === undefined ? b : b === undefined ? a : Math.min(a, b);
    }
    if (later === undefined) {
      const v = checkOp(op, table);
      // With the table before known, "may already have been so" is settled: it was not.
      verdict[i] = before && v.ok ? { ok: true } : v;
    } else {
      const v = verdict[later] as Check;
      verdict[i] = v.ok ? { ok: true } : v;
    }
    if (key.dest === undefined) {
      nextServiceLevel.set(key.service, i);
      if (op.op !== 'edit-service') nextServiceChange.set(key.service, i);
    } else nextOnObject.set(`${key.service}|${key.dest}`, i);
  }
  const aligned = alignMessages(ops, verdict, messages);
  if (aligned) {
    const result: ApplyResult = { applied: [], failed: [] };
    ops.forEach((op, i) => {
      const v = verdict[i] as Check;
      const m = aligned[i] === undefined ? undefined : messages[aligned[i]];
      if (!m) result.applied.push(op);
      else result.failed.push({ op, error: opError(op, (v.ok ? undefined : v.errno) ?? m.errno, m.text) });
    });
    return result;
  }
  const result: ApplyResult = { applied: [], failed: [] };
  const distinct = [...new Set(messages.map((m) => m.errno))];
  // No exact alignment: judge by the table alone, and lend failed ops the first fitting message in order.
  let next = 0;
  ops.forEach((op, i) => {
    const v = verdict[i] as Check;
    if (v.ok) {
      result.applied.push(op);
      return;
    }
    let message: IpvsadmMessage | undefined;
    // Look a bounded way ahead: with thousands of unmatched messages this would otherwise be quadratic.
    for (let k = next; k < Math.min(messages.length, next + 64); k++) {
      const m = messages[k] as IpvsadmMessage;
      if (fits(op, v.errno, m)) {
        message = m;
        next = k + 1;
        break;
      }
    }
    let errno = v.errno ?? message?.errno;
    if (errno === undefined) {
      const plausible = ['EPERM', 'ENOPROTOOPT', ...PLAUSIBLE[op.op]];
      errno = plausible.find((e) => distinct.includes(e)) ?? (distinct.length === 1 ? distinct[0] : 'EIO');
    }
    const detail = message?.text ?? (messages.length > 0 ? `ipvsadm said: ${messages.map((m) => m.text).join(' | ')}` : 'not in the table read back after ipvsadm -R');
    result.failed.push({ op, error: opError(op, errno ?? 'EIO', detail) });
  });
  return result;
}

function fits(op: IpvsOp, errno: IpvsErrno | undefined, m: IpvsadmMessage): boolean {
  return (m.kinds === undefined || m.kinds.includes(op.op)) && (errno === undefined || m.errno === errno);
}

/**
 * ipvsadm prints one message per failed line, in line order. Pair them: every op the table proves failed
 * takes the next message, which must fit it; an op that only may have failed (`unless`) takes the next
 * message when it fits and there are more messages left than proven failures still to come. Returns the
 * message index per op, or undefined when no such exact pairing exists (then the caller judges by the table).
 */
function alignMessages(ops: readonly IpvsOp[], verdict: readonly Check[], messages: readonly IpvsadmMessage[]): (number | undefined)[] | undefined {
  const provenAfter = new Array<number>(ops.length + 1).fill(0);
  for (let i = ops.length - 1; i >= 0; i--) provenAfter[i] = (provenAfter[i + 1] ?? 0) + ((verdict[i] as Check).ok ? 0 : 1);
  const pick: (number | undefined)[] = new Array<number | undefined>(ops.length).fill(undefined);
  let k = 0;
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i] as IpvsOp;
    const v = verdict[i] as Check;
    const m = messages[k];
    if (!v.ok) {
      if (!m || !fits(op, v.errno, m)) return undefined;
      pick[i] = k++;
    } else if (v.unless !== undefined && m && messages.length - k > (provenAfter[i + 1] ?? 0) && fits(op, v.unless, m)) {
      pick[i] = k++;
    }
  }
  return k === messages.length ? pick : undefined;
}
