// Reads the keepalived captures in test/fixtures/vrrp (one IP packet per line, hex; '#' lines are comments).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('../../fixtures/vrrp/', import.meta.url));

export function loadFixture(name: string): Uint8Array[] {
  const text = readFileSync(`${dir}${name}.hex`, 'utf8');
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !l.startsWith('#'))
    .map((l) => new Uint8Array(Buffer.from(l, 'hex')));
}

export function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}
