// Pure reading of rtnetlink link notifications (RTM_NEWLINK / RTM_DELLINK, group RTNLGRP_LINK) into the same
// operstate words /sys/class/net/<if>/operstate shows, so events and the safety poll agree on "up".

export const RTM_NEWLINK = 16;
export const RTM_DELLINK = 17;

/** IF_OPER_* (RFC 2863 ifOperStatus as the kernel numbers it) to the sysfs words. */
const OPER_STATES = ['unknown', 'notpresent', 'down', 'lowerlayerdown', 'testing', 'dormant', 'up'] as const;

export interface LinkNotice {
  ifname: string;
  /** As in sysfs (`up`, `down`, `lowerlayerdown`, ...), or `absent` when the link was deleted. */
  operstate: string;
}

/** What one link message says, or undefined when it does not name an interface or is not a link message. */
export function readLinkNotice(type: number, msg: { attrs: { ifname?: string; operstate?: number }; data: { flags?: { up?: true; lowerUp?: true } } }): LinkNotice | undefined {
  const ifname = msg.attrs.ifname;
  if (ifname === undefined || ifname === '') return undefined;
  if (type === RTM_DELLINK) return { ifname, operstate: 'absent' };
  if (type !== RTM_NEWLINK) return undefined;
  const n = msg.attrs.operstate;
  if (n !== undefined) return { ifname, operstate: OPER_STATES[n] ?? `operstate ${n}` };
  // No IFLA_OPERSTATE (not sent by very old kernels): administratively up with a carrier counts as up.
  return { ifname, operstate: msg.data.flags?.up && msg.data.flags.lowerUp ? 'up' : 'down' };
}
