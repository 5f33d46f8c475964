import { prefixToIpv4Mask } from '../../../src/ipvs/addr.js';
import type { IpvsOp } from '../../../src/ipvs/backend.js';
import { MemoryBackend } from '../../../src/ipvs/memory-backend.js';
import { endpointText, type DestState, type ServiceState } from '../../../src/ipvs/model.js';
import type { CommandResult, CommandRunner, RunOptions } from '../../../src/ipvs/run-command.js';
import { formatState, parseSaveLine } from '../../../src/ipvs/save-format.js';

/**
 * A stand-in for the ipvsadm program over a MemoryBackend, behaving as ipvsadm v1.31 was seen to behave in
 * the UML lab: -R runs line by line, prints one message per failed line (no line number), stops at a line it
 * cannot parse, and exits with the status of the last line; -Ln prints the column layouts of the fixtures.
 */

const MESSAGES: Record<string, Record<string, string>> = {
  'add-service': { EEXIST: 'Service already exists', ENOENT: 'Scheduler or persistence engine not found' },
  'edit-service': { ESRCH: 'No such service', ENOENT: 'Scheduler or persistence engine not found' },
  'del-service': { ESRCH: 'No such service' },
  'add-dest': { ESRCH: 'Service not defined', EEXIST: 'Destination already exists' },
  'edit-dest': { ESRCH: 'Service not defined', ENOENT: 'No such destination' },
  'del-dest': { ESRCH: 'Service not defined', ENOENT: 'No such destination' },
};

export interface FakeCall {
  file: string;
  args: readonly string[];
  input?: string;
}

export class FakeIpvsadm {
  readonly kernel: MemoryBackend;
  readonly calls: FakeCall[] = [];
  /** Changes made behind ipvsadm's back right after an op took (to test the read-back verification). */
  sabotage?: (op: IpvsOp) => IpvsOp[];
  hang = false;

  constructor(kernel = new MemoryBackend()) {
    this.kernel = kernel;
  }

  readonly run: CommandRunner = async (file: string, args: readonly string[], opts: RunOptions): Promise<CommandResult> => {
    this.calls.push(opts.input === undefined ? { file, args } : { file, args, input: opts.input });
    const i = args.indexOf('ipvsadm');
    const a = file === 'ipvsadm' ? args : i >= 0 ? args.slice(i + 1) : args;
    if (this.hang) return new Promise(() => undefined);
    if (a[0] === '-R') return this.restore(opts.input ?? '');
    if (a[0] === '-S') {
      // -Sn never prints thresholds.
      const table = (await this.kernel.dump()).map((s) => ({ ...s, dests: s.dests.map((d) => ({ ...d, upperThreshold: 0, lowerThreshold: 0 })) }));
      return { code: 0, stdout: formatState(table), stderr: '' };
    }
    if (a[0] === '-L') return { code: 0, stdout: await this.listing(a.slice(1)), stderr: '' };
    if (a[0] === '-C') {
      await this.kernel.flush();
      return { code: 0, stdout: '', stderr: '' };
    }
    return { code: 2, stdout: '', stderr: `fake ipvsadm: unsupported ${a.join(' ')}\n` };
  };

  private async restore(input: string): Promise<CommandResult> {
    let stderr = '';
    let code = 0;
    for (const line of input.split('\n')) {
      if (line.trim() === '') continue;
      let cmd;
      try {
        cmd = parseSaveLine(line);
      } catch {
        return { code: 255, stdout: '', stderr: `${stderr}Try \`ipvsadm -h' or 'ipvsadm --help' for more information.\n` };
      }
      if (!cmd || cmd.op === 'flush') continue;
      const r = await this.kernel.apply([cmd]);
      const failed = r.failed[0];
      if (failed) {
        stderr += `${MESSAGES[cmd.op]?.[failed.error.errno] ?? 'Invalid operation.  Possibly wrong module version, address not unicast, ...'}\n`;
        code = 255;
      } else {
        code = 0;
        const undo = this.sabotage?.(cmd) ?? [];
        if (undo.length > 0) await this.kernel.apply(undo);
      }
    }
    return { code, stdout: '', stderr };
  }

  private async listing(options: readonly string[]): Promise<string> {
    const table = await this.kernel.dump({ stats: true });
    const out = ['IP Virtual Server version 1.2.1 (size=4096)'];
    const col = (s: string, w: number) => s.padEnd(w);
    if (options.includes('--thresholds')) {
      out.push('Prot LocalAddress:Port            Uthreshold Lthreshold ActiveConn InActConn ', '  -> RemoteAddress:Port');
      for (const s of table) {
        out.push(serviceLine(s));
        for (const d of s.dests) out.push(`  -> ${col(endpointText(d.family, d.address, d.port), 30)}${col(String(d.upperThreshold), 11)}${col(String(d.lowerThreshold), 11)}${col(String(d.activeConns), 11)}${col(String(d.inactiveConns), 10)}`);
      }
    } else if (options.includes('--persistent-conn')) {
      out.push('Prot LocalAddress:Port            Weight    PersistConn ActiveConn InActConn ', '  -> RemoteAddress:Port');
      for (const s of table) {
        out.push(serviceLine(s));
        for (const d of s.dests) out.push(`  -> ${col(endpointText(d.family, d.address, d.port), 30)}${col(String(d.weight), 10)}${col(String(d.persistConns), 12)}${col(String(d.activeConns), 11)}${col(String(d.inactiveConns), 10)}`);
      }
    } else if (options.includes('--stats') || options.includes('--rate')) {
      const rate = options.includes('--rate');
      out.push(rate ? 'Prot LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS' : 'Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes', '  -> RemoteAddress:Port');
      const nums = (st: DestState['stats']) =>
        (rate ? [st?.cps, st?.inPps, st?.outPps, st?.inBps, st?.outBps] : [st?.conns, st?.inPackets, st?.outPackets, st?.inBytes, st?.outBytes]).map((n) => String(n ?? 0).padStart(9)).join('');
      for (const s of table) {
        out.push(`${col(serviceKeyText(s), 33)}${nums(s.stats)}`);
        for (const d of s.dests) out.push(`  -> ${col(endpointText(d.family, d.address, d.port), 30)}${nums(d.stats)}`);
      }
    } else {
      out.push('Prot LocalAddress:Port Scheduler Flags', '  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn');
      for (const s of table) {
        out.push(serviceLine(s));
        for (const d of s.dests) out.push(`  -> ${col(endpointText(d.family, d.address, d.port), 30)}${col(forwardWord(d), 8)}${col(tunnelInfo(d), 14)}${col(String(d.weight), 7)}${col(String(d.activeConns), 11)}${col(String(d.inactiveConns), 10)}`);
      }
    }
    return out.join('\n') + '\n';
  }
}

function serviceKeyText(s: ServiceState): string {
  const k = s.key;
  if (k.kind === 'fwmark') return k.family === 6 ? `FWM  ${k.fwmark} IPv6` : `FWM  ${k.fwmark}`;
  return `${k.protocol.toUpperCase().padEnd(4)} ${endpointText(k.family, k.address, k.port)}`;
}

function serviceLine(s: ServiceState): string {
  let line = `${serviceKeyText(s)} ${s.scheduler}`;
  if (s.schedulerFlags.length > 0) line += ` (${s.schedulerFlags.join(',')})`;
  if (s.persistence) {
    line += ` persistent ${s.persistence.timeout}`;
    const full = s.key.family === 6 ? 128 : 32;
    if (s.persistence.netmaskPrefix !== full) line += ` mask ${s.key.family === 6 ? s.persistence.netmaskPrefix : prefixToIpv4Mask(s.persistence.netmaskPrefix)}`;
  }
  if (s.onePacket) line += ' ops';
  return line;
}

function forwardWord(d: DestState): string {
  return { masq: 'Masq', route: 'Route', tunnel: 'Tunnel', local: 'Local' }[d.forwarding];
}

function tunnelInfo(d: DestState): string {
  if (d.forwarding !== 'tunnel') return 'n/a';
  const c = { nocsum: '-c', csum: '+c', remcsum: 'r+c' }[d.tunnelChecksum ?? 'nocsum'];
  if ((d.tunnelType ?? 'ipip') === 'ipip') return 'ipip';
  return d.tunnelType === 'gue' ? `gue:${d.tunnelPort ?? 0}:${c}` : `gre:${c}`;
}
