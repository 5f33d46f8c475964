/** The host lookups the check adapter needs, done synchronously at (re)load time. */
import { readFileSync } from 'node:fs';
import type { CheckSpecIo } from './check-spec.js';

/** `name:x:uid:gid:...` lines of a passwd file. */
export function parsePasswd(text: string, name: string): { uid: number; gid: number } | undefined {
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f[0] !== name || f.length < 4) continue;
    const uid = Number(f[2]);
    const gid = Number(f[3]);
    if (Number.isInteger(uid) && Number.isInteger(gid)) return { uid, gid };
  }
  return undefined;
}

export const systemCheckIo: CheckSpecIo = {
  readCaFile: (path) => readFileSync(path, 'utf8'),
  lookupUser: (name) => parsePasswd(readFileSync('/etc/passwd', 'utf8'), name),
};
