// The running lab inside the UML guest: builds the LAN (client, d1, d2, web1..3, and a router in DR mode),
// starts the real servers, the alert receiver and lvskeep on both directors, and offers the reads and
// actions the scenario needs (ipvsadm listings, VIP holders, client requests, probes, alerts, link and
// process control). Thin adapter: every decision about what the evidence means lives in analysis.ts.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { controlRequest } from '../control/client.js';
import { errorMessage } from '../util/errors.js';
import { parseAlerts, parseProbeLog, weightOf, type Alert, type Probe } from './analysis.js';
import { LabNet, sleep, type LabProcess } from './netns.js';
import {
  ALERT_PORT,
  CLIENT,
  DIRECTORS,
  GATEWAY_VIP,
  PROBE_TIMEOUT_MS,
  ROUTER,
  SERVICE,
  STATE_ROOT,
  VIP,
  WEB_NAMES,
  WEBS,
  controlSocket,
  directorConfig,
  type DirectorName,
  type LabMode,
  type WebName,
} from './plan.js';

const HERE = fileURLToPath(import.meta.url);
/** src/lab/lab.ts and dist/lab/lab.js are both two levels below the repository root. */
export const REPO_ROOT = resolve(dirname(HERE), '..', '..');
/** Run from TypeScript sources (tests, tsx) or from the build: child lvskeep processes follow suit. */
const FROM_SOURCE = HERE.endsWith('.ts');
const SCRIPTS = join(REPO_ROOT, 'src', 'lab', 'tools');

/** argv that runs one of lvskeep's entry points (`cli/main`, `lab/realserver-entry`) the way this module runs. */
export function entryArgv(entry: string): string[] {
  return FROM_SOURCE ? [process.execPath, '--import', 'tsx', join(REPO_ROOT, 'src', `${entry}.ts`)] : [process.execPath, join(REPO_ROOT, 'dist', `${entry}.js`)];
}

export interface LabOptions {
  mode: LabMode;
  /** d1's configuration text; default config/lab.yaml. */
  baseConfig?: string;
  /** Scratch directory for configs and probe logs (the guest's own /tmp). */
  workDir?: string;
  /** Progress lines for people (building, starting). */
  say?: (line: string) => void;
}

export class Lab {
  readonly net = new LabNet(60_000);
  readonly mode: LabMode;
  readonly workDir: string;
  readonly baseConfig: string;
  readonly webs = new Map<WebName, LabProcess>();
  readonly daemons = new Map<DirectorName, LabProcess>();
  receiver: LabProcess | undefined;
  /** How the DR real servers were prepared (the realserver command, or sysctls set by the lab itself). */
  realserverMethod = '';
  private readonly say: (line: string) => void;
  private prober: { proc: LabProcess; startedAt: number; file: string } | undefined;
  private probeSeq = 0;

  constructor(opts: LabOptions) {
    this.mode = opts.mode;
    this.workDir = opts.workDir ?? '/tmp/lvskeep-lab';
    this.baseConfig = opts.baseConfig ?? readFileSync(join(REPO_ROOT, 'config', 'lab.yaml'), 'utf8');
    this.say = opts.say ?? (() => undefined);
  }

  configPath(d: DirectorName): string {
    return join(this.workDir, `${d}.yaml`);
  }

  /** Write `d`'s config (optionally with weight overrides, or raw text for broken-config tests). */
  writeConfig(d: DirectorName, weights?: Readonly<Record<string, number>>, rawText?: string): void {
    writeFileSync(this.configPath(d), rawText ?? directorConfig(this.baseConfig, { director: d, mode: this.mode, ...(weights ? { weights } : {}) }));
  }

  async build(): Promise<void> {
    mkdirSync(this.workDir, { recursive: true });
    // The directors persist health and operator states in their state directories: a lab built earlier in the
    // same guest (the e2e suite plays NAT, then DR) must not hand its states to this one.
    rmSync(STATE_ROOT, { recursive: true, force: true });
    const n = this.net;
    const names = ['sw', 'client', 'd1', 'd2', ...WEB_NAMES, ...(this.mode === 'dr' ? ['rtr'] : [])];
    for (const name of names) await n.namespace(name);
    await n.bridge('ext');
    await n.bridge('int');
    await n.plug('client', 'eth0', 'ext', [`${CLIENT}/24`]);
    for (const d of ['d1', 'd2'] as const) {
      await n.plug(d, 'eth0', 'ext', [`${DIRECTORS[d].ext}/24`]);
      await n.plug(d, 'eth1', 'int', [`${DIRECTORS[d].int}/24`]);
      await n.sysctl(d, 'net.ipv4.ip_forward', '1');
      // A NAT director must not tell real servers about the shorter path to the client.
      await n.sysctl(d, 'net.ipv4.conf.all.send_redirects', '0');
      await n.sysctl(d, 'net.ipv4.conf.eth1.send_redirects', '0');
    }
    for (const w of WEB_NAMES) await n.plug(w, 'eth0', 'int', [`${WEBS[w]}/24`]);
    if (this.mode === 'nat') {
      for (const w of WEB_NAMES) await n.exec(w, ['ip', 'route', 'add', 'default', 'via', GATEWAY_VIP]);
    } else {
      await n.plug('rtr', 'eth0', 'ext', [`${ROUTER.ext}/24`]);
      await n.plug('rtr', 'eth1', 'int', [`${ROUTER.int}/24`]);
      await n.sysctl('rtr', 'net.ipv4.ip_forward', '1');
      // DR replies come from the VIP (an ext address) on the int side: strict reverse-path checks would drop them.
      for (const dev of ['all', 'default', 'eth0', 'eth1']) await n.sysctl('rtr', `net.ipv4.conf.${dev}.rp_filter`, '0');
      for (const w of WEB_NAMES) await n.exec(w, ['ip', 'route', 'add', 'default', 'via', ROUTER.int]);
      await this.prepareDrRealServers();
    }
    this.say(`network built (${this.mode}): client ${CLIENT}, d1 ${DIRECTORS.d1.ext}/${DIRECTORS.d1.int}, d2 ${DIRECTORS.d2.ext}/${DIRECTORS.d2.int}, ${WEB_NAMES.map((w) => `${w} ${WEBS[w]}`).join(', ')}`);

    this.receiver = n.spawn('client', [process.execPath, join(SCRIPTS, 'alert-receiver.mjs'), CLIENT, String(ALERT_PORT)], 'alert receiver');
    await Promise.all([this.receiver.waitForOutput(/listening/, 60_000), ...WEB_NAMES.map((w) => this.startWeb(w))]);
    this.say(`real servers and the alert receiver (http://${CLIENT}:${ALERT_PORT}/alerts) are listening`);
  }

  /** `lvskeep realserver up --vip VIP --mode dr` in each real server; the lab's own sysctls if the command is absent. */
  private async prepareDrRealServers(): Promise<void> {
    const entry = join(REPO_ROOT, FROM_SOURCE ? 'src' : 'dist', 'realserver', FROM_SOURCE ? 'cli.ts' : 'cli.js');
    let usedCommand = false;
    try {
      readFileSync(entry);
      usedCommand = true;
    } catch {
      usedCommand = false;
    }
    for (const w of WEB_NAMES) {
      if (usedCommand) {
        await this.net.exec(w, [...entryArgv('lab/realserver-entry'), 'realserver', 'up', '--vip', VIP, '--mode', 'dr', '--state-dir', join(this.workDir, `rs-${w}`)], true, 120_000);
      } else {
        await this.net.exec(w, ['ip', 'addr', 'add', `${VIP}/32`, 'dev', 'lo', 'label', 'lo:0']);
        for (const dev of ['all', 'eth0']) {
          await this.net.sysctl(w, `net.ipv4.conf.${dev}.arp_ignore`, '1');
          await this.net.sysctl(w, `net.ipv4.conf.${dev}.arp_announce`, '2');
        }
      }
    }
    this.realserverMethod = usedCommand ? 'lvskeep realserver up --vip 203.0.113.10 --mode dr' : 'lvskeep realserver is not in this build: the lab set lo:0 and arp_ignore=1/arp_announce=2 itself';
    this.say(`real servers prepared for DR: ${this.realserverMethod}`);
  }

  async startWeb(w: WebName): Promise<void> {
    const proc = this.net.spawn(w, [process.execPath, join(SCRIPTS, 'name-server.mjs'), '0.0.0.0', '80', w], `${w} http`);
    this.webs.set(w, proc);
    await proc.waitForOutput(/listening/, 60_000);
  }

  async stopWeb(w: WebName): Promise<void> {
    await this.webs.get(w)?.stop();
    this.webs.delete(w);
  }

  async startDaemon(d: DirectorName): Promise<LabProcess> {
    mkdirSync(join(STATE_ROOT, d), { recursive: true });
    if (!this.daemons.has(d)) this.writeConfig(d);
    const proc = this.net.spawn(d, [...entryArgv('cli/main'), 'run', '-c', this.configPath(d), '--log-format', 'json'], `lvskeep ${d}`, {
      cwd: REPO_ROOT,
      env: { ...process.env, NO_COLOR: '1' },
    });
    this.daemons.set(d, proc);
    await proc.waitForOutput(/lvskeep started/, 120_000);
    return proc;
  }

  daemon(d: DirectorName): LabProcess {
    const p = this.daemons.get(d);
    if (!p) throw new Error(`lvskeep on ${d} was not started`);
    return p;
  }

  async ipvs(d: DirectorName): Promise<string> {
    return (await this.net.exec(d, ['ipvsadm', '-Ln'], true, 20_000)).stdout;
  }

  async weight(d: DirectorName, w: WebName): Promise<number | undefined> {
    return weightOf(await this.ipvs(d), WEBS[w]);
  }

  /** Whether `d` has `address` on any interface (`ip -o addr`). */
  async holds(d: DirectorName, address: string): Promise<boolean> {
    const r = await this.net.exec(d, ['ip', '-o', '-4', 'addr', 'show'], true, 20_000);
    return r.stdout.split('\n').some((l) => l.includes(` ${address}/`));
  }

  /** Directors holding the public VIP (and, in NAT mode, whether each also holds the gateway VIP). */
  async vipHolders(): Promise<{ vip: DirectorName[]; gateway: DirectorName[] }> {
    const vip: DirectorName[] = [];
    const gateway: DirectorName[] = [];
    for (const d of ['d1', 'd2'] as const) {
      if (await this.holds(d, VIP)) vip.push(d);
      if (this.mode === 'nat' && (await this.holds(d, GATEWAY_VIP))) gateway.push(d);
    }
    return { vip, gateway };
  }

  /** A DR real server's preparation as the kernel has it: the VIP on lo, and the ARP sysctls of conf/all. */
  async realServerState(w: WebName): Promise<{ vipOnLo: boolean; arpIgnore: string; arpAnnounce: string }> {
    const addrs = await this.net.exec(w, ['ip', '-o', '-4', 'addr', 'show', 'dev', 'lo'], true, 20_000);
    const read = async (key: string): Promise<string> => (await this.net.exec(w, ['sysctl', '-n', key], true, 20_000)).stdout.trim();
    return {
      vipOnLo: addrs.stdout.includes(` ${VIP}/32 `),
      arpIgnore: await read('net.ipv4.conf.all.arp_ignore'),
      arpAnnounce: await read('net.ipv4.conf.all.arp_announce'),
    };
  }

  async setLink(d: DirectorName, ifname: string, up: boolean): Promise<void> {
    await this.net.exec(d, ['ip', 'link', 'set', ifname, up ? 'up' : 'down']);
  }

  /** `n` sequential requests from the client to the VIP: the answering real servers' names or `ERR:<code>`. */
  async clientGet(n: number): Promise<string[]> {
    const r = await this.net.exec('client', [process.execPath, join(SCRIPTS, 'get.mjs'), `http://${VIP}/`, String(n), '2000'], true, 60_000 + n * 2000);
    const parsed: unknown = JSON.parse(r.stdout);
    if (!Array.isArray(parsed)) throw new Error(`get.mjs printed ${r.stdout.slice(0, 200)}`);
    return parsed.map(String);
  }

  /** Start the client's 10 ms prober; returns the epoch ms its log counts from. */
  async startProber(): Promise<number> {
    if (this.prober) return this.prober.startedAt;
    const file = join(this.workDir, `probe-${++this.probeSeq}.log`);
    const proc = this.net.spawn('client', [process.execPath, join(SCRIPTS, 'prober.mjs'), `http://${VIP}/`, file, '10', String(PROBE_TIMEOUT_MS)], 'client prober');
    await proc.waitForOutput(/probing since \d+/, 60_000);
    const startedAt = Number(/probing since (\d+)/.exec(proc.output())?.[1]);
    this.prober = { proc, startedAt, file };
    return startedAt;
  }

  /** Stop the client's prober (a kept lab should not carry its background traffic). */
  async stopProber(): Promise<void> {
    await this.prober?.proc.stop();
    this.prober = undefined;
  }

  /** Everything the prober has logged so far (it flushes every 100 ms), times relative to its start. */
  probes(): { startedAt: number; probes: Probe[] } {
    if (!this.prober) throw new Error('the client prober is not running');
    let text = '';
    try {
      text = readFileSync(this.prober.file, 'utf8');
    } catch {
      /* not written yet */
    }
    return { startedAt: this.prober.startedAt, probes: parseProbeLog(text) };
  }

  /** Prober time (ms since it started) of an epoch timestamp. */
  proberTime(epochMs: number): number {
    return epochMs - (this.prober?.startedAt ?? epochMs);
  }

  alerts(): Alert[] {
    return parseAlerts(this.receiver?.output() ?? '');
  }

  /** Wait (polling every 200 ms, bounded) until `test` holds; returns the ms it took, or undefined on timeout. */
  async waitFor(test: () => Promise<boolean> | boolean, timeoutMs: number): Promise<number | undefined> {
    const start = Date.now();
    for (;;) {
      try {
        if (await test()) return Date.now() - start;
      } catch {
        /* a failed read counts as "not yet" */
      }
      if (Date.now() - start > timeoutMs) return undefined;
      await sleep(200);
    }
  }

  /**
   * A step-down request on d's control socket (what `lvskeep step-down` sends). Sent from this process, not by
   * starting the CLI: a Unix socket path is reachable from any network namespace, and a process start costs
   * seconds of CPU in the guest, which would disturb the very switchover being measured.
   */
  async stepDown(d: DirectorName): Promise<{ ok: boolean; text: string }> {
    try {
      const r = await controlRequest(controlSocket(d), 'step-down', {}, { timeoutMs: 30_000 });
      return { ok: true, text: `stepping down: ${r.steppedDown.join(', ') || 'nothing was master'}` };
    } catch (err) {
      return { ok: false, text: errorMessage(err) };
    }
  }

  /**
   * The last lines of every daemon's log, for a failure report. Late-timer warnings are counted, not listed:
   * on a loaded guest they would push the state changes that explain a failure out of the tail.
   */
  daemonTails(lines = 40): string {
    return [...this.daemons.entries()]
      .map(([d, p]) => {
        const all = p.output().trimEnd().split('\n');
        const late = all.filter((l) => l.includes('fired late'));
        const kept = all.filter((l) => !l.includes('fired late')).slice(-lines);
        return `--- lvskeep ${d} (last ${lines} lines; ${late.length} late-timer warnings left out) ---\n${kept.join('\n')}`;
      })
      .join('\n');
  }

  async destroy(): Promise<void> {
    await this.net.destroy();
  }
}

export { SERVICE };
