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

type Check = { ok: true } | { ok: false; errno?: IpvsErrno };

/** Whether the table shows the op's effect; when not, the errno the table itself proves (if any). */
function checkOp(op: IpvsOp, table: Map<string, ServiceState>): Check {
  const { service, dest } = objectKey(op);
  const svc = table.get(service);
  switch (op.op) {
    case 'add-service':
      if (!svc) return { ok: false };
      return serviceDifferences(normalizeServiceSpec(op.service), normalizeServiceSpec(svc)).length === 0 ? { ok: true } : { ok: false, errno: 'EEXIST' };
    case 'edit-service':
      if (!svc) return { ok: false, errno: 'ESRCH' };
      return serviceDifferences(normalizeServiceSpec(op.service), normalizeServiceSpec(svc)).length === 0 ? { ok: true } : { ok: false };
    case 'del-service':
      return svc ? { ok: false } : { ok: true };
    case 'add-dest':
    case 'edit-dest': {
      if (!svc) return { ok: false, errno: 'ESRCH' };
      const want = normalizeDest(svc.key, op.dest);
      const have = svc.dests.find((d) => destId(d) === destId(want));
      if (!have) return { ok: false, errno: op.op === 'edit-dest' ? 'ENOENT' : undefined };
      if (destDifferences(want, have).length === 0) return { ok: true };
      return { ok: false, errno: op.op === 'add-dest' ? 'EEXIST' : undefined };
    }
    case 'del-dest': {
      if (!svc) return { ok: false, errno: 'ESRCH' };
      return svc.dests.some((d) => destId(d) === dest) ? { ok: false } : { ok: true };
    }
  }
}

/**
 * Judge every op of a restore batch against the table read back afterwards. An op that a later op of the
 * batch overrides (same object, or a deletion of its service) shares the verdict of that later op, since
 * its own effect can no longer be seen.
 */
export function verifyRestore(ops: readonly IpvsOp[], after: readonly ServiceState[], stderr: string): ApplyResult {
  const table = new Map(after.map((s) => [serviceId(s.key), s]));
  const messages = parseIpvsadmMessages(stderr);
  const verdict: Check[] = new Array<Check>(ops.length);
  for (let i = ops.length - 1; i >= 0; i--) {
    const op = ops[i] as IpvsOp;
    const key = objectKey(op);
    let later = -1;
    for (let j = i + 1; j < ops.length; j++) {
      const k = objectKey(ops[j] as IpvsOp);
      if (k.service !== key.service) continue;
      if (k.dest === key.dest || (k.dest === undefined && (ops[j] as IpvsOp).op !== 'edit-service')) {
        later = j;
        break;
      }
    }
    verdict[i] = later >= 0 ? (verdict[later] as Check) : checkOp(op, table);
  }
  const result: ApplyResult = { applied: [], failed: [] };
  const distinct = [...new Set(messages.map((m) => m.errno))];
  // ipvsadm prints one message per failed line, in line order: pair failed ops with messages in order,
  // skipping messages that this kind of op cannot print.
  let next = 0;
  ops.forEach((op, i) => {
    const v = verdict[i] as Check;
    if (v.ok) {
      result.applied.push(op);
      return;
    }
    const fits = (m: IpvsadmMessage) => (m.kinds === undefined || m.kinds.includes(op.op)) && (v.errno === undefined || m.errno === v.errno);
    let message: IpvsadmMessage | undefined;
    for (let k = next; k < messages.length; k++) {
      const m = messages[k] as IpvsadmMessage;
      if (fits(m)) {
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
