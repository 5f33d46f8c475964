/**
 * The generic netlink requests of the IPVS family, pure: each builder returns the command, the netlink flags
 * and the genl payload (genl header + attributes). `encodeRequest` adds the netlink header for a family id
 * and sequence number. Flags follow ipvsadm: REQUEST|ACK for commands, plus DUMP for the GET_* lists.
 */
import type { DestKey, DestSpec, ServiceKey, ServiceSpec } from '../model.js';
import { daemonAttr, daemonRefAttr, destAttr, destRefAttr, serviceAttr, serviceMatchAttr, serviceRefAttr, type DaemonConfig } from './attrs.js';
import { CTRL_VERSION, CtrlAttr, CtrlCmd, GENL_ID_CTRL, IPVS_GENL_VERSION, IpvsCmd, NlFlag } from './constants.js';
import { encodeNlMessage, genlPayload, parseGenl } from './framing.js';
import { NlaSet, nlaString } from './nla.js';

export interface GenlRequest {
  cmd: number;
  flags: number;
  /** genl header and attributes, without the netlink header. */
  payload: Buffer;
  dump: boolean;
}

const DO = NlFlag.REQUEST | NlFlag.ACK;
const DUMP = NlFlag.REQUEST | NlFlag.ACK | NlFlag.DUMP;

function ipvs(cmd: number, attrs: Buffer[], dump = false): GenlRequest {
  return { cmd, flags: dump ? DUMP : DO, payload: genlPayload(cmd, IPVS_GENL_VERSION, attrs), dump };
}

export const ipvsRequest = {
  newService: (spec: ServiceSpec): GenlRequest => ipvs(IpvsCmd.NEW_SERVICE, [serviceAttr(spec)]),
  setService: (spec: ServiceSpec): GenlRequest => ipvs(IpvsCmd.SET_SERVICE, [serviceAttr(spec)]),
  delService: (key: ServiceKey): GenlRequest => ipvs(IpvsCmd.DEL_SERVICE, [serviceRefAttr(key)]),
  getServices: (): GenlRequest => ipvs(IpvsCmd.GET_SERVICE, [], true),
  newDest: (service: ServiceKey, dest: DestSpec): GenlRequest => ipvs(IpvsCmd.NEW_DEST, [serviceRefAttr(service), destAttr(dest)]),
  setDest: (service: ServiceKey, dest: DestSpec): GenlRequest => ipvs(IpvsCmd.SET_DEST, [serviceRefAttr(service), destAttr(dest)]),
  delDest: (service: ServiceKey, dest: DestKey): GenlRequest => ipvs(IpvsCmd.DEL_DEST, [serviceRefAttr(service), destRefAttr(dest)]),
  getDests: (service: ServiceKey): GenlRequest => ipvs(IpvsCmd.GET_DEST, [serviceMatchAttr(service)], true),
  flush: (): GenlRequest => ipvs(IpvsCmd.FLUSH, []),
  /** Without a service: every counter of the namespace. */
  zero: (service?: ServiceKey): GenlRequest => ipvs(IpvsCmd.ZERO, service ? [serviceRefAttr(service)] : []),
  getInfo: (): GenlRequest => ipvs(IpvsCmd.GET_INFO, []),
  newDaemon: (d: DaemonConfig): GenlRequest => ipvs(IpvsCmd.NEW_DAEMON, [daemonAttr(d)]),
  delDaemon: (state: DaemonConfig['state']): GenlRequest => ipvs(IpvsCmd.DEL_DAEMON, [daemonRefAttr(state)]),
  getDaemons: (): GenlRequest => ipvs(IpvsCmd.GET_DAEMON, [], true),
};

/** CTRL_CMD_GETFAMILY by name, sent to the genl controller (family id 16). */
export function ctrlGetFamily(name: string): GenlRequest {
  return { cmd: CtrlCmd.GETFAMILY, flags: DO, payload: genlPayload(CtrlCmd.GETFAMILY, CTRL_VERSION, [nlaString(CtrlAttr.FAMILY_NAME, name)]), dump: false };
}

export const CTRL_FAMILY_ID = GENL_ID_CTRL;

/** The complete datagram for a request. The port id is left 0: the kernel fills in the sender's. */
export function encodeRequest(familyId: number, req: GenlRequest, seq: number): Buffer {
  return encodeNlMessage({ type: familyId, flags: req.flags, seq, pid: 0, payload: req.payload });
}

/** CTRL_ATTR_FAMILY_ID from a GETFAMILY reply payload (genl header + attributes). */
export function decodeFamilyId(payload: Buffer): number {
  const attrs = new NlaSet(parseGenl(payload, 'GETFAMILY reply').attrs, 'GETFAMILY reply', CtrlAttr);
  return attrs.req(CtrlAttr.FAMILY_ID, attrs.u16(CtrlAttr.FAMILY_ID));
}
