import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SOCKET, registerControlCommands, resolveSocketPath, socketFromConfigText } from '../../../src/control/cli.js';

describe('socketFromConfigText', () => {
  it('takes control.socket, else the default', () => {
    expect(socketFromConfigText('control:\n  socket: /run/lb/ctl.sock\n', 'a.yaml')).toBe('/run/lb/ctl.sock');
    expect(socketFromConfigText('global:\n  state_dir: /var/lib/x\n', 'a.yaml')).toBe(DEFAULT_SOCKET);
    expect(socketFromConfigText('', 'a.yaml')).toBe(DEFAULT_SOCKET);
  });

  it('ignores the rest of the config, even parts that would not validate', () => {
    expect(socketFromConfigText('virtual_servers: 12\ncontrol: { socket: /tmp/x.sock }\n', 'a.yaml')).toBe('/tmp/x.sock');
  });

  it('refuses a relative or non-string socket and broken YAML, naming the file', () => {
    expect(() => socketFromConfigText('control: { socket: run/x.sock }', '/etc/lvskeep/lvskeep.yaml')).toThrow('/etc/lvskeep/lvskeep.yaml: control.socket must be an absolute path');
    expect(() => socketFromConfigText('control: { socket: 5 }', 'b.yaml')).toThrow('b.yaml');
    expect(() => socketFromConfigText('control: [', 'c.yaml')).toThrow('cannot read c.yaml');
  });
});

describe('resolveSocketPath', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lvskeep-cli-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('--socket wins over -c, -c over the default', async () => {
    const cfg = join(dir, 'lvskeep.yaml');
    await writeFile(cfg, 'control:\n  socket: /run/other/lvskeep.sock\n');
    expect(await resolveSocketPath({ socket: '/a.sock', config: cfg })).toBe('/a.sock');
    expect(await resolveSocketPath({ config: cfg })).toBe('/run/other/lvskeep.sock');
    expect(await resolveSocketPath({})).toBe(DEFAULT_SOCKET);
  });

  it('a missing config file is an error naming it', async () => {
    await expect(resolveSocketPath({ config: join(dir, 'nope.yaml') })).rejects.toThrow(`cannot read ${join(dir, 'nope.yaml')}`);
  });
});

describe('registerControlCommands', () => {
  it('adds the commands with their arguments and --socket', () => {
    const program = new Command('lvskeep');
    registerControlCommands(program);
    const names = program.commands.map((c) => c.name());
    expect(names).toEqual(['status', 'step-down', 'drain', 'maintenance', 'enable', 'reload']);
    for (const c of program.commands) expect(c.options.map((o) => o.long)).toContain('--socket');
    const drain = program.commands.find((c) => c.name() === 'drain')!;
    expect(drain.registeredArguments.map((a) => [a.name(), a.required])).toEqual([['vs', true], ['rs', true]]);
    const stepDown = program.commands.find((c) => c.name() === 'step-down')!;
    expect(stepDown.registeredArguments.map((a) => a.required)).toEqual([false]);
  });
});
