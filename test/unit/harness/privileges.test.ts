import { describe, expect, it, vi } from 'vitest';
import { commandOnPath, describeIf, missingRequirements, type Probe } from '../../harness/privileges.js';

const rootWithAll: Probe = { uid: 0, hasCommand: () => true, hasIpvs: () => true };
const user: Probe = { uid: 1000, hasCommand: (n) => n !== 'ipvsadm', hasIpvs: () => false };

// Collected at module level, as a real test file would: the body's test must be reported as skipped, not run.
const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
const skippedSuite = describeIf({ label: 'net/x', root: true }, user, {});
const skipMessages = write.mock.calls.map((c) => String(c[0]));
write.mockRestore();
skippedSuite('a suite whose requirements are missing (this test is reported as skipped)', () => {
  it('never runs', () => {
    throw new Error('describeIf returned a suite that runs despite missing requirements');
  });
});

describe('privilege gates', () => {
  it('lists every missing requirement, and nothing when all are met', () => {
    expect(missingRequirements({ label: 'k', root: true, commands: ['ip', 'ipvsadm'], ipvs: true }, rootWithAll)).toEqual([]);
    const missing = missingRequirements({ label: 'k', root: true, commands: ['ip', 'ipvsadm'], ipvs: true }, user);
    expect(missing).toHaveLength(3);
    expect(missing[0]).toMatch(/root.*1000/);
    expect(missing[1]).toMatch(/ipvsadm/);
    expect(missing[2]).toMatch(/IPVS/);
  });

  it('returns plain describe when the requirements hold', () => {
    expect(describeIf({ label: 'x', root: true }, rootWithAll, {})).toBe(describe);
  });

  it('skips loudly on a developer machine', () => {
    expect(skippedSuite).not.toBe(describe);
    expect(skipMessages).toEqual([expect.stringMatching(/SKIPPED net\/x: needs root/)]);
  });

  it('throws under CI=true instead of skipping', () => {
    expect(() => describeIf({ label: 'net/x', root: true }, user, { CI: 'true' })).toThrow(/CI=true.*net\/x: needs root/);
  });

  it('finds executables on a given PATH only', () => {
    expect(commandOnPath('node', process.env.PATH)).toBe(true);
    expect(commandOnPath('node', '/nonexistent-dir')).toBe(false);
    expect(commandOnPath('definitely-not-a-command-lvskeep')).toBe(false);
  });
});
