// Network topologies for net and kernel tests: named namespaces, veth pairs, bridges in a dedicated
// "switch" namespace, addresses, routes, commands and long-running processes inside a namespace, and a
// destroy() that removes all of it. Every command is an argv array run through `ip` (never a shell string)
// and every object lives in a namespace this Topology created: nothing touches the host's own interfaces.
// The command runner and process spawner are injectable, so the bookkeeping is unit-tested without root.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { isIP } from 'node:net';

export interface ExecResult {
  /** Exit status, or null when the process ended by a signal (including the timeout's). */
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  timeoutMs?: number;
  /** Throw CommandError on a non-zero exit (default true). */
  check?: boolean;
}

export type CommandRunner = (argv: readonly string[], opts: { timeoutMs: number }) => Promise<ExecResult>;

export interface SpawnedProcess {
  readonly pid: number | undefined;
  readonly child: ChildProcess;
}
export type ProcessSpawner = (argv: readonly string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string }) => SpawnedProcess;

export class CommandError extends Error {
  constructor(
    readonly argv: readonly string[],
    readonly result: ExecResult,
  ) {
    const how = result.code !== null ? `exit ${result.code}` : `signal ${result.signal ?? '?'}`;
    const detail = (result.stderr.trim() || result.stdout.trim()).slice(0, 2000);
    super(`command failed (${how}): ${argv.join(' ')}${detail ? `\n${detail}` : ''}`);
    this.name = 'CommandError';
  }
}

const DEFAULT_TIMEOUT_MS = 30_000;
const OUTPUT_LIMIT = 64 * 1024;

/** Runs argv with execFile: no shell, bounded time and output. Never rejects; failures are in the result. */
export const execFileRunner: CommandRunner = (argv, { timeoutMs }) =>
  new Promise((resolve) => {
    const [file, ...args] = argv;
    if (file === undefined) {
      resolve({ code: 127, signal: null, stdout: '', stderr: 'empty argv' });
      return;
    }
    execFile(file, args, { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (!err) {
        resolve({ code: 0, signal: null, stdout, stderr });
        return;
      }
      const e = err as NodeJS.ErrnoException & { code?: number | string; signal?: NodeJS.Signals | null; killed?: boolean };
      const code = typeof e.code === 'number' ? e.code : null;
      const spawnFailure = typeof e.code === 'string' ? `${file}: ${e.code} ${e.message}` : '';
      const timedOut = e.killed && e.signal === 'SIGKILL' ? `timed out after ${timeoutMs} ms` : '';
      resolve({
        code: spawnFailure ? 127 : code,
        signal: e.signal ?? null,
        stdout: stdout ?? '',
        stderr: [stderr ?? '', spawnFailure, timedOut].filter(Boolean).join('\n'),
      });
    });
  });

export const nodeSpawner: ProcessSpawner = (argv, opts) => {
  const [file, ...args] = argv;
  if (file === undefined) throw new Error('spawn: empty argv');
  const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], env: opts.env, cwd: opts.cwd });
  return { pid: child.pid, child };
};

/**
 * A spawner that follows the stdout of the next process it starts, line by line, as the lines arrive (NsProcess
 * keeps only the last 64 KiB): set `next` before the spawn; it is consumed by that one process.
 */
export class LineTaps {
  next: ((line: string) => void) | undefined;
  readonly spawner: ProcessSpawner = (argv, opts) => {
    const p = nodeSpawner(argv, opts);
    const onLine = this.next;
    this.next = undefined;
    if (onLine) {
      let rest = '';
      p.child.stdout?.on('data', (c: Buffer) => {
        const parts = (rest + c.toString()).split('\n');
        rest = parts.pop() ?? '';
        for (const l of parts) onLine(l);
      });
    }
    return p;
  };
}

// ---- pure bookkeeping -------------------------------------------------------------------------------

let topologySeq = 0;

/** A prefix unique to this process and topology, short enough to leave room in namespace names. */
export function nextPrefix(pid: number = process.pid): string {
  topologySeq += 1;
  return `lk${pid}-${topologySeq}`;
}

const NS_LOCAL_NAME = /^[a-z][a-z0-9]{0,15}$/;
/** Interface names: at most 15 bytes (IFNAMSIZ - 1), no slash, colon or whitespace. */
const IFNAME = /^[A-Za-z][A-Za-z0-9_.-]{0,14}$/;

export function namespaceName(prefix: string, local: string): string {
  if (!NS_LOCAL_NAME.test(local)) throw new Error(`namespace name ${JSON.stringify(local)}: use 1-16 lowercase letters/digits, starting with a letter`);
  return `${prefix}-${local}`;
}

export function checkIfName(name: string): string {
  if (!IFNAME.test(name)) throw new Error(`interface name ${JSON.stringify(name)}: 1-15 characters [A-Za-z0-9_.-], starting with a letter`);
  return name;
}

/** The only IPv4 space tests may use (documentation ranges, RFC 5737) plus loopback. */
const ALLOWED_V4 = [
  { net: [192, 0, 2], name: '192.0.2.0/24' },
  { net: [198, 51, 100], name: '198.51.100.0/24' },
  { net: [203, 0, 113], name: '203.0.113.0/24' },
];

export interface Cidr {
  address: string;
  prefixLength: number;
}

/** Parse `a.b.c.d/len` and refuse anything outside the test ranges, so no test can address a real network. */
export function parseTestCidr(text: string): Cidr {
  const m = /^([0-9.]+)\/(\d{1,2})$/.exec(text);
  if (!m || isIP(m[1] ?? '') !== 4) throw new Error(`address ${JSON.stringify(text)}: expected IPv4 a.b.c.d/len`);
  const address = m[1] as string;
  const prefixLength = Number(m[2]);
  if (prefixLength < 8 || prefixLength > 32) throw new Error(`address ${text}: prefix length must be 8..32`);
  checkTestAddress(address);
  return { address, prefixLength };
}

export function checkTestAddress(address: string): string {
  const octets = address.split('.').map(Number);
  if (isIP(address) !== 4) throw new Error(`address ${JSON.stringify(address)}: not IPv4`);
  if (octets[0] === 127) return address;
  if (ALLOWED_V4.some((r) => r.net.every((o, i) => octets[i] === o))) return address;
  throw new Error(`address ${address} is outside the test ranges (${ALLOWED_V4.map((r) => r.name).join(', ')}, 127.0.0.0/8)`);
}

/** Route argv after `ip route add`: every address-looking word must be a test address (or `default`). */
export function checkRouteArgs(args: readonly string[]): readonly string[] {
  if (args.length === 0) throw new Error('route: empty arguments');
  for (const word of args) {
    if (word === '0.0.0.0/0') continue; // the same as `default`
    const addr = word.split('/')[0] ?? '';
    if (isIP(addr) === 4) checkTestAddress(addr);
    else if (isIP(addr) === 6) throw new Error(`route ${args.join(' ')}: IPv6 is not in the test ranges`);
  }
  return args;
}

export type Endpoint = { ns: string; ifname: string; addresses?: readonly string[] };

// ---- the adapter --------------------------------------------------------------------------------------

export interface TopologyOptions {
  prefix?: string;
  runner?: CommandRunner;
  spawner?: ProcessSpawner;
  /** Per-command limit; default 30 s (process start is slow inside UML). */
  timeoutMs?: number;
  /** Path of the `ip` binary; default `ip` from PATH. */
  ip?: string;
}

export class Topology {
  readonly prefix: string;
  private readonly runner: CommandRunner;
  private readonly spawner: ProcessSpawner;
  private readonly timeoutMs: number;
  private readonly ip: string;
  /** Namespaces this topology created, by local name, in creation order. */
  private readonly namespaces = new Map<string, string>();
  private readonly bridges = new Set<string>();
  private readonly processes: NsProcess[] = [];
  private peerSeq = 0;
  private destroyed = false;

  constructor(opts: TopologyOptions = {}) {
    this.prefix = opts.prefix ?? nextPrefix();
    this.runner = opts.runner ?? execFileRunner;
    this.spawner = opts.spawner ?? nodeSpawner;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.ip = opts.ip ?? 'ip';
  }

  /** Full (kernel-visible) names of the namespaces that exist now, switch included. */
  namespaceNames(): string[] {
    return [...this.namespaces.values()];
  }

  /** Full name of a namespace created with `namespace(local)`. */
  ns(local: string): string {
    const full = this.namespaces.get(local);
    if (!full) throw new Error(`namespace ${JSON.stringify(local)} was not created in topology ${this.prefix}`);
    return full;
  }

  /** Create namespace `<prefix>-<local>` with loopback up; returns its full name. */
  async namespace(local: string): Promise<string> {
    this.assertLive();
    if (local === 'sw') throw new Error('namespace name "sw" is reserved for the bridges\' switch namespace');
    return this.addNamespace(local);
  }

  /** A bridge in the switch namespace (created on first use); multicast snooping off so VRRP adverts flood. */
  async bridge(name: string): Promise<void> {
    this.assertLive();
    checkIfName(name);
    if (this.bridges.has(name)) throw new Error(`bridge ${name} already exists in topology ${this.prefix}`);
    const sw = this.namespaces.get('sw') ?? (await this.addNamespace('sw'));
    await this.run([this.ip, '-n', sw, 'link', 'add', name, 'type', 'bridge', 'mcast_snooping', '0']);
    this.bridges.add(name);
    await this.run([this.ip, '-n', sw, 'link', 'set', name, 'up']);
  }

  /** A veth pair straight between two namespaces, both ends up, with optional addresses. */
  async link(a: Endpoint, b: Endpoint): Promise<void> {
    this.assertLive();
    const nsA = this.ns(a.ns);
    const nsB = this.ns(b.ns);
    checkIfName(a.ifname);
    checkIfName(b.ifname);
    [...(a.addresses ?? []), ...(b.addresses ?? [])].forEach(parseTestCidr);
    await this.run([this.ip, '-n', nsA, 'link', 'add', a.ifname, 'type', 'veth', 'peer', 'name', b.ifname, 'netns', nsB]);
    await this.configureEnd(nsA, a);
    await this.configureEnd(nsB, b);
  }

  /** Plug a namespace into a bridge: a veth whose other end is a port of the bridge in the switch namespace. */
  async plug(end: Endpoint, bridge: string): Promise<void> {
    this.assertLive();
    if (!this.bridges.has(bridge)) throw new Error(`bridge ${bridge} does not exist in topology ${this.prefix}; call bridge() first`);
    const ns = this.ns(end.ns);
    checkIfName(end.ifname);
    (end.addresses ?? []).forEach(parseTestCidr);
    const sw = this.ns('sw');
    this.peerSeq += 1;
    const port = checkIfName(`${bridge.slice(0, 8)}p${this.peerSeq}`);
    await this.run([this.ip, '-n', ns, 'link', 'add', end.ifname, 'type', 'veth', 'peer', 'name', port, 'netns', sw]);
    await this.run([this.ip, '-n', sw, 'link', 'set', port, 'master', bridge]);
    await this.run([this.ip, '-n', sw, 'link', 'set', port, 'up']);
    await this.configureEnd(ns, end);
  }

  async addAddress(local: string, ifname: string, cidr: string): Promise<void> {
    this.assertLive();
    parseTestCidr(cidr);
    await this.run([this.ip, '-n', this.ns(local), 'addr', 'add', cidr, 'dev', checkIfName(ifname)]);
  }

  /** `ip route add ARGS...` inside the namespace, e.g. `['default', 'via', '198.51.100.1']`. */
  async route(local: string, args: readonly string[]): Promise<void> {
    this.assertLive();
    await this.run([this.ip, '-n', this.ns(local), 'route', 'add', ...checkRouteArgs(args)]);
  }

  /** Set a sysctl inside the namespace only (net.* keys are per namespace). */
  async sysctl(local: string, key: string, value: string): Promise<void> {
    this.assertLive();
    if (!/^net\.[A-Za-z0-9_.-]+$/.test(key)) throw new Error(`sysctl ${key}: only per-namespace net.* keys may be set`);
    if (!/^[A-Za-z0-9 _.:-]*$/.test(value)) throw new Error(`sysctl ${key}: unexpected characters in value ${JSON.stringify(value)}`);
    await this.exec(local, ['sysctl', '-q', '-w', `${key}=${value}`]);
  }

  /** Run argv inside the namespace (via `ip netns exec`), bounded in time; throws CommandError unless check=false. */
  async exec(local: string, argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    this.assertLive();
    if (argv.length === 0) throw new Error('exec: empty argv');
    return this.run([this.ip, 'netns', 'exec', this.ns(local), ...argv], opts);
  }

  /** Start a long-running process inside the namespace; destroy() ends it by its PID. */
  spawn(local: string, argv: readonly string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; label?: string } = {}): NsProcess {
    this.assertLive();
    if (argv.length === 0) throw new Error('spawn: empty argv');
    // `ip netns exec` execs the program in place, so the PID we get is the program's own.
    const full = [this.ip, 'netns', 'exec', this.ns(local), ...argv];
    const proc = new NsProcess(opts.label ?? `${local}:${argv[0]}`, this.spawner(full, { env: opts.env, cwd: opts.cwd }));
    this.processes.push(proc);
    return proc;
  }

  /**
   * Remove everything this topology made: processes (SIGTERM, then SIGKILL), then namespaces (which takes
   * their veths and bridges with them). Tries every step, then reports all failures at once.
   */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    const errors: unknown[] = [];
    await Promise.all(
      this.processes.map(async (p) => {
        try {
          await p.stop();
        } catch (err) {
          errors.push(err);
        }
      }),
    );
    for (const [local, full] of [...this.namespaces.entries()].reverse()) {
      const r = await this.runner([this.ip, 'netns', 'del', full], { timeoutMs: this.timeoutMs });
      if (r.code === 0) this.namespaces.delete(local);
      else errors.push(new CommandError([this.ip, 'netns', 'del', full], r));
    }
    if (errors.length > 0) throw new AggregateError(errors, `topology ${this.prefix}: teardown left ${errors.length} problem(s) behind`);
  }

  private async addNamespace(local: string): Promise<string> {
    const full = namespaceName(this.prefix, local);
    if (this.namespaces.has(local)) throw new Error(`namespace ${local} already exists in topology ${this.prefix}`);
    await this.run([this.ip, 'netns', 'add', full]);
    this.namespaces.set(local, full);
    await this.run([this.ip, '-n', full, 'link', 'set', 'lo', 'up']);
    return full;
  }

  private async configureEnd(ns: string, end: Endpoint): Promise<void> {
    for (const cidr of end.addresses ?? []) await this.run([this.ip, '-n', ns, 'addr', 'add', cidr, 'dev', end.ifname]);
    await this.run([this.ip, '-n', ns, 'link', 'set', end.ifname, 'up']);
  }

  private async run(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const result = await this.runner(argv, { timeoutMs: opts.timeoutMs ?? this.timeoutMs });
    if ((opts.check ?? true) && result.code !== 0) throw new CommandError(argv, result);
    return result;
  }

  private assertLive(): void {
    if (this.destroyed) throw new Error(`topology ${this.prefix} was already destroyed`);
  }
}

/** A process started inside a namespace: bounded output capture, readiness wait, stop by PID. */
export class NsProcess {
  private out = '';
  private exitInfo: { code: number | null; signal: string | null } | undefined;
  readonly exited: Promise<{ code: number | null; signal: string | null }>;

  constructor(
    readonly label: string,
    private readonly proc: SpawnedProcess,
  ) {
    const append = (chunk: Buffer | string) => {
      this.out += chunk.toString();
      if (this.out.length > OUTPUT_LIMIT) this.out = this.out.slice(this.out.length - OUTPUT_LIMIT);
    };
    proc.child.stdout?.on('data', append);
    proc.child.stderr?.on('data', append);
    this.exited = new Promise((resolve) => {
      proc.child.once('error', (err) => {
        append(`\n[spawn error] ${err.message}\n`);
        this.exitInfo ??= { code: 127, signal: null };
        resolve(this.exitInfo);
      });
      proc.child.once('close', (code, signal) => {
        this.exitInfo ??= { code, signal };
        resolve(this.exitInfo);
      });
    });
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  /** stdout and stderr so far (last 64 KiB). */
  output(): string {
    return this.out;
  }

  running(): boolean {
    return this.exitInfo === undefined;
  }

  /** Resolve once the output matches; reject when the process exits first or time runs out. */
  async waitForOutput(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = pattern.exec(this.out);
      if (m) return m;
      if (!this.running()) {
        throw new Error(`${this.label} (pid ${this.pid}) exited (${JSON.stringify(this.exitInfo)}) before printing ${pattern}; output:\n${this.out}`);
      }
      if (Date.now() > deadline) throw new Error(`${this.label} (pid ${this.pid}) did not print ${pattern} within ${timeoutMs} ms; output:\n${this.out}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. Only ever signals our own PID. */
  async stop(graceMs = 3_000): Promise<void> {
    if (!this.running() || this.pid === undefined) return;
    this.proc.child.kill('SIGTERM');
    const gone = await Promise.race([this.exited.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), graceMs))]);
    if (gone) return;
    this.proc.child.kill('SIGKILL');
    const killed = await Promise.race([this.exited.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 5_000))]);
    if (!killed) throw new Error(`${this.label} (pid ${this.pid}) survived SIGKILL for 5 s`);
  }
}

/** Namespaces that currently exist (from `ip netns list`), for leak checks. */
export async function listNamespaces(runner: CommandRunner = execFileRunner, ip = 'ip'): Promise<string[]> {
  const r = await runner([ip, 'netns', 'list'], { timeoutMs: DEFAULT_TIMEOUT_MS });
  if (r.code !== 0) throw new CommandError([ip, 'netns', 'list'], r);
  return r.stdout
    .split('\n')
    .map((line) => line.trim().split(/\s+/)[0] ?? '')
    .filter(Boolean);
}
