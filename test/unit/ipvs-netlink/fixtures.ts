// Loads the ipvsadm capture (test/fixtures/ipvs-netlink/ipvsadm-messages.json, made by capture.sh in the UML
// guest) and splits it into netlink messages.
import { readFileSync } from 'node:fs';
import { GENL_ID_CTRL, NlMsgType } from '../../../src/ipvs/netlink/constants.js';
import { parseNlMessages, type NlMessage } from '../../../src/ipvs/netlink/framing.js';
import { decodeFamilyId } from '../../../src/ipvs/netlink/messages.js';

interface RawStep {
  name: string;
  command: string;
  stdout: string;
  datagrams: { dir: 'send' | 'recv'; hex: string }[];
}

export interface CapturedMessage extends NlMessage {
  dir: 'send' | 'recv';
  bytes: Buffer;
}

export interface Step {
  name: string;
  command: string;
  stdout: string;
  familyId: number;
  messages: CapturedMessage[];
  /** Messages of the IPVS family (and errors/done) after the family lookup. */
  ipvs: CapturedMessage[];
}

const file = new URL('../../fixtures/ipvs-netlink/ipvsadm-messages.json', import.meta.url);
const raw = JSON.parse(readFileSync(file, 'utf8')) as { steps: RawStep[] };

function split(step: RawStep): CapturedMessage[] {
  const out: CapturedMessage[] = [];
  for (const d of step.datagrams) {
    const buf = Buffer.from(d.hex, 'hex');
    let off = 0;
    for (const m of parseNlMessages(buf, `${step.name} datagram`)) {
      const len = 16 + m.payload.length;
      out.push({ ...m, dir: d.dir, bytes: buf.subarray(off, off + len) });
      off += (len + 3) & ~3;
    }
  }
  return out;
}

export const steps = new Map<string, Step>(
  raw.steps.map((s) => {
    const messages = split(s);
    const ctrlReply = messages.find((m) => m.dir === 'recv' && m.type === GENL_ID_CTRL);
    if (!ctrlReply) throw new Error(`fixture step ${s.name}: no GETFAMILY reply`);
    const familyId = decodeFamilyId(ctrlReply.payload);
    const ipvs = messages.filter((m) => m.type === familyId || m.type === NlMsgType.ERROR || m.type === NlMsgType.DONE);
    return [s.name, { name: s.name, command: s.command, stdout: s.stdout, familyId, messages, ipvs }];
  }),
);

export function step(name: string): Step {
  const s = steps.get(name);
  if (!s) throw new Error(`no fixture step ${name}`);
  return s;
}

/** The sent IPVS-family messages of a step with the given genl command. */
export function sent(name: string, cmd: number): CapturedMessage[] {
  const s = step(name);
  return s.ipvs.filter((m) => m.dir === 'send' && m.type === s.familyId && m.payload[0] === cmd);
}

/** A copy with seq and port id zeroed: those differ per run and are not part of the comparison. */
export function withoutSeqPid(b: Buffer): Buffer {
  const c = Buffer.from(b);
  c.fill(0, 8, 16);
  return c;
}
