import { EventEmitter } from 'node:events';
import type { ChildProcess } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  checkIfName,
  checkRouteArgs,
  checkTestAddress,
  CommandError,
  namespaceName,
  nextPrefix,
  parseTestCidr,
  Topology,
  type CommandRunner,
  type ExecResult,
  type ProcessSpawner,
} from '../../harness/netns.js';

const OK: ExecResult = { code: 0, signal: null, stdout: '', stderr: '' };

/** Records every command; fails the ones `failWhen` picks. */
function fakeRunner(failWhen: (argv: readonly string[]) => boolean = () => false) {
  const calls: string[] = [];
  const runner: CommandRunner = async (argv) => {
    calls.push(argv.join(' '));
    return failWhen(argv) ? { code: 1, signal: null, stdout: '', stderr: 'RTNETLINK answers: File exists' } : OK;
  };
  return { calls, runner };
}

/** A child process stand-in that exits when signalled (unless `stubborn`). */
function fakeSpawner(opts: { stubborn?: boolean } = {}) {
  const signals: string[] = [];
  const argvs: string[] = [];
  let nextPid = 4000;
  const spawner: ProcessSpawner = (argv) => {
    argvs.push(argv.join(' '));
    const child = new EventEmitter() as EventEmitter & { kill: (s: string) => boolean; stdout: EventEmitter; stderr: EventEmitter };
    child.stdout = new EventEmitter();
    child.stderr = new EventEmitter();
    child.kill = (sig: string) => {
      signals.push(sig);
      if (!opts.stubborn || sig === 'SIGKILL') setImmediate(() => child.emit('close', null, sig));
      return true;
    };
    nextPid += 1;
    return { pid: nextPid, child: child as unknown as ChildProcess };
  };
  return { spawner, signals, argvs };
}

describe('naming and address bookkeeping', () => {
  it('prefixes are unique per topology within a process', () => {
    const a = nextPrefix(77);
    const b = nextPrefix(77);
    expect(a).toMatch(/^lk77-\d+$/);
    expect(b).not.toBe(a);
  });

  it('namespace names join prefix and a short lowercase local name', () => {
    expect(namespaceName('lk1-1', 'director')).toBe('lk1-1-director');
    expect(() => namespaceName('lk1-1', 'Director')).toThrow(/lowercase/);
    expect(() => namespaceName('lk1-1', '../etc')).toThrow();
    expect(() => namespaceName('lk1-1', 'a'.repeat(17))).toThrow();
  });

  it('interface names respect IFNAMSIZ and refuse separators', () => {
    expect(checkIfName('eth0')).toBe('eth0');
    expect(checkIfName('a'.repeat(15))).toBe('a'.repeat(15));
    expect(() => checkIfName('a'.repeat(16))).toThrow(/1-15/);
    expect(() => checkIfName('eth0:1')).toThrow();
    expect(() => checkIfName('eth 0')).toThrow();
  });

  it('accepts only the documentation ranges and loopback', () => {
    expect(parseTestCidr('203.0.113.10/24')).toEqual({ address: '203.0.113.10', prefixLength: 24 });
    expect(parseTestCidr('198.51.100.1/32').prefixLength).toBe(32);
    expect(checkTestAddress('192.0.2.255')).toBe('192.0.2.255');
    expect(checkTestAddress('127.0.0.2')).toBe('127.0.0.2');
    expect(() => parseTestCidr('10.0.0.1/8')).toThrow(/outside the test ranges/);
    expect(() => parseTestCidr('203.0.114.1/24')).toThrow(/outside/);
    expect(() => parseTestCidr('203.0.113.1')).toThrow(/a\.b\.c\.d\/len/);
    expect(() => parseTestCidr('203.0.113.1/40')).toThrow(/prefix length/);
  });

  it('routes may only name test addresses', () => {
    expect(checkRouteArgs(['default', 'via', '198.51.100.1'])).toEqual(['default', 'via', '198.51.100.1']);
    expect(() => checkRouteArgs(['0.0.0.0/0', 'via', '8.8.8.8'])).toThrow(/8\.8\.8\.8/);
    expect(() => checkRouteArgs(['2001:db8::/32', 'dev', 'eth0'])).toThrow(/IPv6/);
    expect(() => checkRouteArgs([])).toThrow(/empty/);
  });
});

describe('Topology commands (fake runner)', () => {
  it('builds namespaces, a bridge in the switch namespace and plugged ports with ip -n only', async () => {
    const { calls, runner } = fakeRunner();
    const topo = new Topology({ prefix: 'lk9-1', runner });
    await topo.namespace('a');
    await topo.bridge('lan');
    await topo.plug({ ns: 'a', ifname: 'eth0', addresses: ['192.0.2.1/24'] }, 'lan');
    expect(calls).toEqual([
      'ip netns add lk9-1-a',
      'ip -n lk9-1-a link set lo up',
      'ip netns add lk9-1-sw',
      'ip -n lk9-1-sw link set lo up',
      'ip -n lk9-1-sw link add lan type bridge mcast_snooping 0',
      'ip -n lk9-1-sw link set lan up',
      'ip -n lk9-1-a link add eth0 type veth peer name lanp1 netns lk9-1-sw',
      'ip -n lk9-1-sw link set lanp1 master lan',
      'ip -n lk9-1-sw link set lanp1 up',
      'ip -n lk9-1-a addr add 192.0.2.1/24 dev eth0',
      'ip -n lk9-1-a link set eth0 up',
    ]);
    // Every command addresses a namespace of this topology: nothing runs against the host's own stack.
    for (const c of calls) expect(c).toMatch(/^ip (netns add lk9-1-|-n lk9-1-)/);
    expect(topo.namespaceNames()).toEqual(['lk9-1-a', 'lk9-1-sw']);
  });

  it('links two namespaces directly, sets sysctls and routes inside them', async () => {
    const { calls, runner } = fakeRunner();
    const topo = new Topology({ prefix: 'p', runner });
    await topo.namespace('x');
    await topo.namespace('y');
    calls.length = 0;
    await topo.link({ ns: 'x', ifname: 'e0', addresses: ['203.0.113.1/24'] }, { ns: 'y', ifname: 'e1' });
    await topo.sysctl('x', 'net.ipv4.ip_forward', '1');
    await topo.route('y', ['default', 'via', '203.0.113.1']);
    expect(calls).toEqual([
      'ip -n p-x link add e0 type veth peer name e1 netns p-y',
      'ip -n p-x addr add 203.0.113.1/24 dev e0',
      'ip -n p-x link set e0 up',
      'ip -n p-y link set e1 up',
      'ip netns exec p-x sysctl -q -w net.ipv4.ip_forward=1',
      'ip -n p-y route add default via 203.0.113.1',
    ]);
  });

  it('refuses unknown namespaces and bridges, host-wide sysctls and foreign addresses before running anything', async () => {
    const { calls, runner } = fakeRunner();
    const topo = new Topology({ prefix: 'p', runner });
    await topo.namespace('x');
    calls.length = 0;
    await expect(topo.exec('nope', ['true'])).rejects.toThrow(/was not created/);
    await expect(topo.plug({ ns: 'x', ifname: 'eth0' }, 'lan')).rejects.toThrow(/bridge\(\) first/);
    await expect(topo.sysctl('x', 'kernel.panic', '1')).rejects.toThrow(/net\.\*/);
    await expect(topo.addAddress('x', 'eth0', '10.1.1.1/24')).rejects.toThrow(/outside/);
    await expect(topo.namespace('sw')).rejects.toThrow(/reserved/);
    await expect(topo.namespace('x')).rejects.toThrow(/already exists/);
    expect(calls).toEqual([]);
  });

  it('reports a failed command with its argv and stderr', async () => {
    const { runner } = fakeRunner((argv) => argv.includes('add') && argv.includes('veth'));
    const topo = new Topology({ prefix: 'p', runner });
    await topo.namespace('x');
    await topo.namespace('y');
    const err = await topo.link({ ns: 'x', ifname: 'e0' }, { ns: 'y', ifname: 'e1' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommandError);
    expect((err as Error).message).toMatch(/exit 1.*ip -n p-x link add e0 type veth[\s\S]*File exists/);
  });

  it('exec with check=false returns the failure instead of throwing', async () => {
    const { runner } = fakeRunner((argv) => argv.includes('false'));
    const topo = new Topology({ prefix: 'p', runner });
    await topo.namespace('x');
    expect((await topo.exec('x', ['false'], { check: false })).code).toBe(1);
  });

  it('destroy() stops processes, deletes namespaces newest first, keeps going past failures and reports them', async () => {
    const { calls, runner } = fakeRunner((argv) => argv.join(' ') === 'ip netns del p-b');
    const { spawner, signals, argvs } = fakeSpawner();
    const topo = new Topology({ prefix: 'p', runner, spawner });
    for (const n of ['a', 'b', 'c']) await topo.namespace(n);
    const proc = topo.spawn('a', ['node', 'server.mjs']);
    expect(argvs).toEqual(['ip netns exec p-a node server.mjs']);
    expect(proc.running()).toBe(true);
    calls.length = 0;

    const err = await topo.destroy().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AggregateError);
    expect((err as AggregateError).errors).toHaveLength(1);
    expect(signals).toEqual(['SIGTERM']);
    expect(proc.running()).toBe(false);
    expect(calls).toEqual(['ip netns del p-c', 'ip netns del p-b', 'ip netns del p-a']);
    expect(topo.namespaceNames()).toEqual(['p-b']);
    await expect(topo.namespace('d')).rejects.toThrow(/already destroyed/);
  });

  it('a process that ignores SIGTERM gets SIGKILL after the grace period', async () => {
    const { runner } = fakeRunner();
    const { spawner, signals } = fakeSpawner({ stubborn: true });
    const topo = new Topology({ prefix: 'p', runner, spawner });
    await topo.namespace('a');
    const proc = topo.spawn('a', ['sleep', '100']);
    await proc.stop(20);
    expect(signals).toEqual(['SIGTERM', 'SIGKILL']);
    expect(proc.running()).toBe(false);
  });

  it('waitForOutput resolves on a match and rejects with the output when the process exits first', async () => {
    const { runner } = fakeRunner();
    const { spawner } = fakeSpawner();
    const topo = new Topology({ prefix: 'p', runner, spawner });
    await topo.namespace('a');
    const proc = topo.spawn('a', ['server']);
    const child = (proc as unknown as { proc: { child: EventEmitter & { stdout: EventEmitter } } }).proc.child;
    setTimeout(() => child.stdout.emit('data', Buffer.from('listening 192.0.2.1:80\n')), 5);
    await expect(proc.waitForOutput(/listening (\S+)/, 1000)).resolves.toMatchObject({ 1: '192.0.2.1:80' });

    const other = topo.spawn('a', ['crash']);
    const otherChild = (other as unknown as { proc: { child: EventEmitter & { stderr: EventEmitter } } }).proc.child;
    otherChild.stderr.emit('data', 'EADDRINUSE\n');
    otherChild.emit('close', 1, null);
    await expect(other.waitForOutput(/listening/, 1000)).rejects.toThrow(/exited[\s\S]*EADDRINUSE/);
    await expect(topo.spawn('a', ['quiet']).waitForOutput(/never/, 30)).rejects.toThrow(/within 30 ms/);
  });
});
