import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Real ipvsadm v1.31 output captured in the UML lab (kernel 6.1, IPVS 1.2.1); see test/fixtures/ipvs/README.md. */
const DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'ipvs');

export function fixture(name: string): string {
  return readFileSync(join(DIR, name), 'utf8');
}
