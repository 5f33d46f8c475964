/**
 * The commands that talk to the running daemon over its control socket: status, step-down, drain, maintenance,
 * enable, reload. The socket is `--socket`, else `control.socket` of the `-c` config, else the default path.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { errorMessage } from '../util/errors.js';
import { ControlClientError, controlRequest, type ControlRequestOptions, type ResultOutput } from './client.js';
import type { ArgsOf, CommandName } from './protocol.js';
import { formatStatus, type StatusKind } from './status-format.js';

export const DEFAULT_SOCKET = '/run/lvskeep/lvskeep.sock';
/** `lvskeep status` exit code when the daemon is not running (as LSB init scripts' status uses 3). */
export const EXIT_NOT_RUNNING = 3;

interface SocketOpts {
  socket?: string;
  config?: string;
  timeout?: string;
}

/**
 * `control.socket` from config text. Only this key is read (not the whole config validated), so a config with
 * an unrelated problem, or secrets missing from this shell's environment, does not lock the operator out.
 */
export function socketFromConfigText(text: string, file: string): string {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new Error(`cannot read ${file}: ${errorMessage(err)}`);
  }
  const control = typeof doc === 'object' && doc !== null ? (doc as { control?: unknown }).control : undefined;
  const socket = typeof control === 'object' && control !== null ? (control as { socket?: unknown }).socket : undefined;
  if (socket === undefined) return DEFAULT_SOCKET;
  if (typeof socket !== 'string' || !socket.startsWith('/')) throw new Error(`${file}: control.socket must be an absolute path`);
  return socket;
}

export async function resolveSocketPath(opts: SocketOpts): Promise<string> {
  if (opts.socket !== undefined) return opts.socket;
  if (opts.config === undefined) return DEFAULT_SOCKET;
  let text: string;
  try {
    text = await readFile(opts.config, 'utf8');
  } catch (err) {
    throw new Error(`cannot read ${opts.config}: ${errorMessage(err)}`);
  }
  return socketFromConfigText(text, opts.config);
}

function withSocketOptions(cmd: Command): Command {
  return cmd
    .option('--socket <path>', `control socket of the daemon (default: control.socket of -c, else ${DEFAULT_SOCKET})`)
    .option('-c, --config <file>', 'take the control socket path from this configuration')
    .option('--timeout <ms>', 'how long to wait for the daemon', '35000');
}

function requestOptions(opts: SocketOpts): ControlRequestOptions {
  const ms = Number(opts.timeout);
  if (!Number.isInteger(ms) || ms <= 0) throw new Error(`--timeout must be a positive number of milliseconds, got "${opts.timeout}"`);
  return { timeoutMs: ms };
}

function report(err: unknown, notRunningCode = 1): void {
  process.stderr.write(`lvskeep: ${errorMessage(err)}\n`);
  process.exitCode = err instanceof ControlClientError && err.code === 'not-running' ? notRunningCode : 1;
}

async function call<C extends CommandName>(cmd: C, args: ArgsOf<C>, opts: SocketOpts, print: (result: ResultOutput<C>) => string): Promise<void> {
  try {
    const path = await resolveSocketPath(opts);
    const result = await controlRequest(path, cmd, args, requestOptions(opts));
    process.stdout.write(print(result));
  } catch (err) {
    report(err);
  }
}

export function registerControlCommands(program: Command): void {
  withSocketOptions(program.command('status'))
    .description('state of the running daemon: VRRP instances, VIPs and pools (ipvsadm -Ln layout)')
    .option('--json', 'the full status as JSON')
    .option('--stats', 'packet and byte counters instead of connections')
    .option('--rate', 'rates per second instead of connections')
    .action(async (opts: SocketOpts & { json?: boolean; stats?: boolean; rate?: boolean }) => {
      const kind: StatusKind = opts.rate ? 'rate' : opts.stats ? 'stats' : 'plain';
      try {
        const path = await resolveSocketPath(opts);
        const status = await controlRequest(path, 'status', { stats: kind !== 'plain' || opts.json === true }, requestOptions(opts));
        process.stdout.write(opts.json ? `${JSON.stringify(status, null, 2)}\n` : formatStatus(status, kind));
      } catch (err) {
        report(err, EXIT_NOT_RUNNING);
      }
    });

  withSocketOptions(program.command('step-down'))
    .description('make a master VRRP instance (or every master) hand over to its backup, make-before-break')
    .argument('[instance]', 'VRRP instance name (default: every instance that is master)')
    .action(async (instance: string | undefined, opts: SocketOpts) => {
      await call('step-down', instance === undefined ? {} : { instance }, opts, ({ steppedDown }) => {
        return steppedDown.length === 0 ? 'no instance was master; nothing to step down\n' : `stepping down: ${steppedDown.join(', ')}\n`;
      });
    });

  const manual = (name: 'drain' | 'maintenance' | 'enable', description: string, verb: string): void => {
    withSocketOptions(program.command(name))
      .description(description)
      .argument('<vs>', 'virtual server (configured name, or e.g. "tcp 203.0.113.1:80")')
      .argument('<rs>', 'real server (address:port as configured)')
      .action(async (vs: string, rs: string, opts: SocketOpts) => {
        await call(name, { vs, rs }, opts, ({ virtualServer, realServers }) => `${verb} ${realServers.join(', ')} in ${virtualServer}\n`);
      });
  };
  manual('drain', 'stop sending new connections to a real server; existing ones finish (weight 0 until enable)', 'draining');
  manual('maintenance', 'take a real server out of service until enable, whatever its health checks say', 'maintenance on');
  manual('enable', 'end drain or maintenance of a real server: its health checks decide again', 'enabled');

  withSocketOptions(program.command('reload'))
    .description('make the daemon re-read its configuration (like SIGHUP, but waits and reports the outcome)')
    .action(async (opts: SocketOpts) => {
      await call('reload', {}, opts, ({ summary }) => `reloaded: ${summary}\n`);
    });
}
