import { describe, expect, it } from 'vitest';
import { parseKeepCommand, pendingCommandId } from '../../../src/lab/keep.js';
import { aptInstallLine, checkRequirements, missingPackages } from '../../../src/lab/prereqs.js';

describe('lab prerequisites', () => {
  it('names each missing package once, in one apt-get line', () => {
    const reqs = checkRequirements({ onPath: (c) => c === 'ip' || c === 'perl', exists: () => false });
    const pkgs = missingPackages(reqs);
    expect(pkgs).toEqual(['user-mode-linux', 'ipvsadm', 'iputils-arping']);
    expect(aptInstallLine(pkgs)).toBe('apt-get install -y --no-install-recommends user-mode-linux ipvsadm iputils-arping');
  });

  it('nothing is missing on a prepared machine', () => {
    expect(missingPackages(checkRequirements({ onPath: () => true, exists: () => true }))).toEqual([]);
  });
});

describe('kept lab command files', () => {
  it('recognises only command files, not results or temporaries', () => {
    expect(pendingCommandId('cmd-ab12.json')).toBe('ab12');
    expect(pendingCommandId('cmd-ab12.out.json')).toBeUndefined();
    expect(pendingCommandId('.ab12.tmp')).toBeUndefined();
    expect(pendingCommandId('stop')).toBeUndefined();
  });

  it('validates a command and names the file and field on error', () => {
    expect(parseKeepCommand('{"ns":"d1","argv":["ipvsadm","-Ln"]}', 'f')).toEqual({ ns: 'd1', argv: ['ipvsadm', '-Ln'] });
    expect(() => parseKeepCommand('{"ns":"../x","argv":["a"]}', 'cmd-1.json')).toThrow(/cmd-1.json: ns/);
    expect(() => parseKeepCommand('{"ns":"d1","argv":[]}', 'cmd-2.json')).toThrow(/cmd-2.json: argv/);
    expect(() => parseKeepCommand('nope', 'cmd-3.json')).toThrow(/cmd-3.json: not JSON/);
  });
});
