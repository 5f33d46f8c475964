import { describe, expect, it } from 'vitest';
import {
  CHECK_RESULTS,
  checkResultLabel,
  checkTypeLabel,
  healthUpOf,
  ipvsOpLabel,
  realServerStateLabel,
  VRRP_DROP_REASONS,
  vrrpDropReasonLabel,
  vrrpStateLabel,
} from '../../../src/metrics/labels.js';

describe('label normalisation', () => {
  it('classifies check reasons into a fixed set', () => {
    expect(checkResultLabel(true, 'HTTP 200')).toBe('success');
    expect(checkResultLabel(false, 'connect timeout after 1000 ms')).toBe('timeout');
    expect(checkResultLabel(false, 'connection timed out (kernel)')).toBe('timeout');
    expect(checkResultLabel(false, 'connection refused')).toBe('refused');
    expect(checkResultLabel(false, 'host unreachable')).toBe('unreachable');
    expect(checkResultLabel(false, 'TLS: certificate has expired')).toBe('tls');
    expect(checkResultLabel(false, 'HTTP 503')).toBe('failure');
    expect(checkResultLabel(false, '')).toBe('failure');
  });

  it('never lets free text through as a label value', () => {
    // Reasons as a flaky network produces them: addresses, counts and errno text vary without end.
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      seen.add(checkResultLabel(i % 7 === 0, `error ${i} from 198.51.100.${i % 250}: ${'x'.repeat(i % 40)}`));
      seen.add(vrrpDropReasonLabel(`weird-${i}`));
      seen.add(ipvsOpLabel(`op-${i}`));
      seen.add(realServerStateLabel(`s${i}`));
      seen.add(checkTypeLabel(`t${i}`));
    }
    expect([...seen].sort()).toEqual(['failure', 'other', 'success', 'unknown'].sort());
  });

  it('keeps the known drop reasons and folds the rest into other', () => {
    for (const r of VRRP_DROP_REASONS) expect(vrrpDropReasonLabel(r)).toBe(r);
    expect(vrrpDropReasonLabel('bad-ttl')).toBe('bad-ttl');
    expect(vrrpDropReasonLabel('TTL 64, must be 255')).toBe('other');
  });

  it('maps both spellings of VRRP states and rejects others', () => {
    expect(vrrpStateLabel('Initialize')).toBe('INIT');
    expect(vrrpStateLabel('Master')).toBe('MASTER');
    expect(vrrpStateLabel('BACKUP')).toBe('BACKUP');
    expect(vrrpStateLabel('Fault')).toBe('FAULT');
    expect(vrrpStateLabel('leader')).toBeUndefined();
  });

  it('spells IPVS operations in snake case', () => {
    expect(ipvsOpLabel('add-dest')).toBe('add_dest');
    expect(ipvsOpLabel('del-service')).toBe('del_service');
    expect(ipvsOpLabel('dump')).toBe('dump');
  });

  it('derives health from the pool status', () => {
    expect(healthUpOf('down')).toBe(false);
    expect(healthUpOf('flapping')).toBe(false);
    expect(healthUpOf('slow-start')).toBe(true);
    expect(healthUpOf('maintenance')).toBe(true);
    expect(CHECK_RESULTS).toContain('success');
  });
});
