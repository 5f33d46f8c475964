import { IpvsError, type IpvsErrno, type IpvsOp } from './backend.js';
import { destId, serviceId } from './model.js';

/** The kernel's generic-netlink command name of an op, as errors print it. */
export function commandName(op: IpvsOp): string {
  switch (op.op) {
    case 'add-service': return 'NEW_SERVICE';
    case 'edit-service': return 'SET_SERVICE';
    case 'del-service': return 'DEL_SERVICE';
    case 'add-dest': return 'NEW_DEST';
    case 'edit-dest': return 'SET_DEST';
    case 'del-dest': return 'DEL_DEST';
  }
}

/** `198.51.100.11:80 on tcp 203.0.113.1:80` or `tcp 203.0.113.1:80`. */
export function opObject(op: IpvsOp): string {
  switch (op.op) {
    case 'add-service':
    case 'edit-service':
      return serviceId(op.service.key);
    case 'del-service':
      return serviceId(op.key);
    case 'add-dest':
    case 'edit-dest':
    case 'del-dest':
      return `${destId(op.dest)} on ${serviceId(op.service)}`;
  }
}

/** `NEW_DEST 198.51.100.11:80 on tcp 203.0.113.1:80: EEXIST (Destination already exists)`. */
export function opError(op: IpvsOp, errno: IpvsErrno, detail?: string): IpvsError {
  const suffix = detail ? ` (${detail})` : '';
  return new IpvsError(op, errno, `${commandName(op)} ${opObject(op)}: ${errno}${suffix}`);
}
