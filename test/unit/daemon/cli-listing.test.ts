import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatListing } from '../../../src/cli/ipvs-listing.js';
import { mergeListings, parseListing } from '../../../src/ipvs/list-format.js';

const dir = join(import.meta.dirname, '..', '..', 'fixtures', 'ipvs');
const read = (name: string): string => readFileSync(join(dir, name), 'utf8');

/** The table as the ipvsadm backend would read it from the captured listings. */
function tableOf(prefix: 'mixed' | 'traffic') {
  return mergeListings({
    main: parseListing(read(`${prefix}.Ln-tun-info.txt`)),
    thresholds: parseListing(read(`${prefix}.Ln-thresholds.txt`)),
    persistentConn: parseListing(read(`${prefix}.Ln-persistent-conn.txt`)),
    stats: parseListing(read(`${prefix}.Ln-stats.txt`)),
    rate: parseListing(read(`${prefix}.Ln-rate.txt`)),
  });
}

const info = { version: '1.2.1', connTableSize: 4096 };

describe('lvskeep ipvs listing (ipvsadm -Ln layout)', () => {
  for (const prefix of ['mixed', 'traffic'] as const) {
    it(`prints ${prefix} byte for byte as ipvsadm -Ln --exact did`, () => {
      expect(formatListing(tableOf(prefix), info)).toBe(read(`${prefix}.Ln.txt`));
    });
  }
  it('prints --stats and --rate byte for byte as ipvsadm did', () => {
    expect(formatListing(tableOf('traffic'), info, 'stats')).toBe(read('traffic.Ln-stats.txt'));
    expect(formatListing(tableOf('traffic'), info, 'rate')).toBe(read('traffic.Ln-rate.txt'));
  });
  it('prints only the headers for an empty table', () => {
    expect(formatListing([], info).split('\n')).toEqual([
      'IP Virtual Server version 1.2.1 (size=4096)',
      'Prot LocalAddress:Port Scheduler Flags',
      '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn',
      '',
    ]);
  });
});
