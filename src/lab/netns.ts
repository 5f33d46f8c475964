// The lab's network plumbing inside the UML guest: namespaces named `lvslab-<name>`, bridges in a switch
// namespace, veth plugs, commands and long-running processes inside a namespace, and teardown. Every command
// is an argv array (no shell) with a deadline; only namespaces this object created are touched, and only
// processes it started are signalled, by their own PID.
import { execFile, spawn, type ChildProcess } from 'node:child_process';

export interface ExecResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

const OUTPUT_LIMIT = 1024 * 1024;
const PREFIX = 'lvslab';

/** Runs argv without a shell, bounded in time and output; never rejects (failures are in the result). */
export function runArgv(argv: readonly string[], timeoutMs: number): Promise<ExecResult> {
  return new Promise((resolve) => {
    const [file, ...args] = argv;
    if (file === undefined) {
      resolve({ code: 127, stdout: '', stderr: 'empty argv' });
      return;
    }
    execFile(file, args, { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: OUTPUT_LIMIT, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (!err) return resolve({ code: 0, stdout, stderr });
      const e = err as NodeJS.ErrnoException & { code?: number | string; killed?: boolean };
      const extra = typeof e.code === 'string' ? `${file}: ${e.code}` : e.killed ? `timed out after ${timeoutMs} ms` : '';
      resolve({ code: typeof e.code === 'number' ? e.code : 127, stdout: stdout ?? '', stderr: [stderr ?? '', extra].filter(Boolean).join('\n') });
    });
  });
}

export class LabProcess {
  private out = '';
  private exitInfo: { code: number | null; signal: string | null } | undefined;
  readonly exited: Promise<{ code: number | null; signal: string | null }>;

  constructor(
    readonly label: string,
    private readonly child: ChildProcess,
  ) {
    const append = (chunk: Buffer | string): void => {
      this.out += chunk.toString();
      if (this.out.length > OUTPUT_LIMIT) this.out = this.out.slice(this.out.length - OUTPUT_LIMIT);
    };
    child.stdout?.on('data', append);
    child.stderr?.on('data', append);
    this.exited = new Promise((resolve) => {
      child.once('error', (err) => {
        append(`\n[spawn error] ${err.message}\n`);
        this.exitInfo ??= { code: 127, signal: null };
        resolve(this.exitInfo);
      });
      child.once('close', (code, signal) => {
        this.exitInfo ??= { code, signal };
        resolve(this.exitInfo);
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  output(): string {
    return this.out;
  }

  running(): boolean {
    return this.exitInfo === undefined;
  }

  signal(sig: NodeJS.Signals): void {
    if (this.running()) this.child.kill(sig);
  }

  async waitForOutput(pattern: RegExp, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (pattern.test(this.out)) return;
      if (!this.running()) throw new Error(`${this.label} (pid ${this.pid}) exited ${JSON.stringify(this.exitInfo)} before printing ${pattern}; output:\n${this.out.slice(-3000)}`);
      if (Date.now() > deadline) throw new Error(`${this.label} (pid ${this.pid}) did not print ${pattern} within ${timeoutMs} ms; output:\n${this.out.slice(-3000)}`);
      await sleep(50);
    }
  }

  /** SIGTERM, then SIGKILL after graceMs; resolves when gone (or 5 s after SIGKILL). */
  async stop(graceMs = 5_000): Promise<void> {
    if (!this.running()) return;
    this.child.kill('SIGTERM');
    if (await raceTimeout(this.exited, graceMs)) return;
    this.child.kill('SIGKILL');
    await raceTimeout(this.exited, 5_000);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function raceTimeout(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const done = await Promise.race([p.then(() => true), new Promise<false>((r) => (timer = setTimeout(() => r(false), ms)))]);
  clearTimeout(timer);
  return done;
}

export class LabNet {
  private readonly namespaces: string[] = [];
  private readonly processes: LabProcess[] = [];
  private plugSeq = 0;

  constructor(private readonly timeoutMs = 60_000) {}

  static ns(name: string): string {
    return `${PREFIX}-${name}`;
  }

  async run(argv: readonly string[], check = true, timeoutMs = this.timeoutMs): Promise<ExecResult> {
    const r = await runArgv(argv, timeoutMs);
    if (check && r.code !== 0) throw new Error(`command failed (exit ${r.code}): ${argv.join(' ')}\n${(r.stderr || r.stdout).trim().slice(0, 2000)}`);
    return r;
  }

  async namespace(name: string): Promise<void> {
    const full = LabNet.ns(name);
    // A namespace left by an interrupted earlier lab in this same guest would make `add` fail; it is ours by name.
    await this.run(['ip', 'netns', 'del', full], false);
    await this.run(['ip', 'netns', 'add', full]);
    this.namespaces.push(full);
    await this.run(['ip', '-n', full, 'link', 'set', 'lo', 'up']);
  }

  /** A bridge in namespace `sw` (created first by the caller), multicast snooping off so VRRP and sync traffic flood. */
  async bridge(name: string): Promise<void> {
    const sw = LabNet.ns('sw');
    await this.run(['ip', '-n', sw, 'link', 'add', name, 'type', 'bridge', 'mcast_snooping', '0']);
    await this.run(['ip', '-n', sw, 'link', 'set', name, 'up']);
  }

  /** A veth from namespace `name` (as `ifname`, with `cidrs`) to a port of `bridge`. Returns the port name. */
  async plug(name: string, ifname: string, bridge: string, cidrs: readonly string[]): Promise<string> {
    const ns = LabNet.ns(name);
    const sw = LabNet.ns('sw');
    const port = `${bridge}p${++this.plugSeq}`;
    await this.run(['ip', '-n', ns, 'link', 'add', ifname, 'type', 'veth', 'peer', 'name', port, 'netns', sw]);
    await this.run(['ip', '-n', sw, 'link', 'set', port, 'master', bridge]);
    await this.run(['ip', '-n', sw, 'link', 'set', port, 'up']);
    for (const c of cidrs) await this.run(['ip', '-n', ns, 'addr', 'add', c, 'dev', ifname]);
    await this.run(['ip', '-n', ns, 'link', 'set', ifname, 'up']);
    return port;
  }

  exec(name: string, argv: readonly string[], check = true, timeoutMs = this.timeoutMs): Promise<ExecResult> {
    return this.run(['ip', 'netns', 'exec', LabNet.ns(name), ...argv], check, timeoutMs);
  }

  /** A per-namespace net.* sysctl (never the guest's or host's own). */
  async sysctl(name: string, key: string, value: string): Promise<void> {
    if (!key.startsWith('net.')) throw new Error(`sysctl ${key}: only per-namespace net.* keys`);
    await this.exec(name, ['sysctl', '-q', '-w', `${key}=${value}`]);
  }

  spawn(name: string, argv: readonly string[], label: string, opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): LabProcess {
    const [ip, ...rest] = ['ip', 'netns', 'exec', LabNet.ns(name), ...argv];
    // `ip netns exec` execs the program in place, so the PID is the program's own.
    const child = spawn(ip as string, rest, { stdio: ['ignore', 'pipe', 'pipe'], env: opts.env ?? process.env, cwd: opts.cwd });
    const p = new LabProcess(label, child);
    this.processes.push(p);
    return p;
  }

  /** Stop every process (in parallel), then delete the namespaces; reports every failure at once. */
  async destroy(): Promise<void> {
    const errors: string[] = [];
    await Promise.all(this.processes.map((p) => p.stop().catch((e: unknown) => errors.push(String(e)))));
    for (const ns of this.namespaces.reverse()) {
      const r = await this.run(['ip', 'netns', 'del', ns], false);
      if (r.code !== 0) errors.push(`ip netns del ${ns}: ${r.stderr.trim()}`);
    }
    this.namespaces.length = 0;
    if (errors.length > 0) throw new Error(`lab teardown: ${errors.join('; ')}`);
  }
}
