/**
 * Interfaces a real server needs to exist and be up: lo (always there) or tunl0 (the ipip module's fallback
 * device, which decapsulates IPIP packets addressed to any local address). Thin adapter over `ip` and
 * `modprobe`, argv arrays only, every call bounded in time.
 */
import { execFileRunner, type CommandRunner } from '../vip/iproute2.js';

export interface LinkInfo {
  exists: boolean;
  up: boolean;
}

export interface LinkControl {
  info(dev: string): Promise<LinkInfo>;
  setUp(dev: string, up: boolean): Promise<void>;
  /** Make the ipip fallback device appear; returns how (already there, module loaded, created) or throws why not. */
  ensureTunnel(dev: string): Promise<'present' | 'loaded' | 'created'>;
  remove(dev: string): Promise<void>;
}

/** Pure: parse `ip -o link show dev X` (one line, flags in <...>). */
export function parseLinkLine(stdout: string): LinkInfo {
  const flags = /<([^>]*)>/.exec(stdout)?.[1]?.split(',') ?? [];
  return { exists: stdout.trim() !== '', up: flags.includes('UP') };
}

export interface IpLinkOptions {
  runner?: CommandRunner;
  ip?: string;
  modprobe?: string;
  timeoutMs?: number;
}

export function ipLinkControl(opts: IpLinkOptions = {}): LinkControl {
  const run = opts.runner ?? execFileRunner;
  const ip = opts.ip ?? 'ip';
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const failure = (argv: readonly string[], r: { code: number | null; stderr: string; stdout: string }): string =>
    `${argv.join(' ')} failed (exit ${r.code ?? 'none'}): ${r.stderr.trim() || r.stdout.trim() || 'no output'}`;

  const info = async (dev: string): Promise<LinkInfo> => {
    const argv = [ip, '-o', 'link', 'show', 'dev', dev];
    const r = await run(argv, timeoutMs);
    if (r.code === 0) return parseLinkLine(r.stdout);
    if (/does not exist|Cannot find device/i.test(r.stderr)) return { exists: false, up: false };
    throw new Error(failure(argv, r));
  };

  return {
    info,
    async setUp(dev, up) {
      const argv = [ip, 'link', 'set', 'dev', dev, up ? 'up' : 'down'];
      const r = await run(argv, timeoutMs);
      if (r.code !== 0) throw new Error(`device ${dev}: ${failure(argv, r)}`);
    },
    async ensureTunnel(dev) {
      if ((await info(dev)).exists) return 'present';
      // Loading ipip creates the fallback tunl0 in every namespace (unless fb_tunnels_only_for_init_net is set).
      const probe = [opts.modprobe ?? 'modprobe', 'ipip'];
      const loaded = await run(probe, timeoutMs);
      if ((await info(dev)).exists) return 'loaded';
      const add = [ip, 'link', 'add', 'name', dev, 'type', 'ipip'];
      const created = await run(add, timeoutMs);
      if ((await info(dev)).exists) return created.code === 0 ? 'created' : 'loaded';
      throw new Error(
        `device ${dev} is missing and could not be made: the ipip tunnel driver is not available in this kernel ` +
          `(${loaded.code === 0 ? `${probe.join(' ')} succeeded` : failure(probe, loaded)}; ${failure(add, created)})`,
      );
    },
    async remove(dev) {
      const argv = [ip, 'link', 'del', 'dev', dev];
      const r = await run(argv, timeoutMs);
      if (r.code !== 0 && !/does not exist|Cannot find device/i.test(r.stderr)) throw new Error(`device ${dev}: ${failure(argv, r)}`);
    },
  };
}
