// Suites that need root, namespaces or a kernel with IPVS skip loudly when those are missing on a
// developer machine, and fail under CI (CI=true), where a skipped privileged suite would hide breakage.
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { describe } from 'vitest';

export interface Requirements {
  /** What needs them, for the message: "net", "kernel", a test file's name. */
  label: string;
  root?: boolean;
  /** Executables that must be on PATH (e.g. ip, ipvsadm, unshare). */
  commands?: readonly string[];
  /** The running kernel must have IPVS loaded in this network namespace (/proc/net/ip_vs). */
  ipvs?: boolean;
}

export interface Probe {
  uid: number | undefined;
  hasCommand: (name: string) => boolean;
  hasIpvs: () => boolean;
}

export function commandOnPath(name: string, path: string = process.env.PATH ?? ''): boolean {
  for (const dir of path.split(delimiter).filter(Boolean)) {
    try {
      accessSync(join(dir, name), constants.X_OK);
      return true;
    } catch {
      /* try the next directory */
    }
  }
  return false;
}

export const systemProbe: Probe = {
  uid: process.getuid?.(),
  hasCommand: (name) => commandOnPath(name),
  hasIpvs: () => existsSync('/proc/net/ip_vs'),
};

/** Why the requirements are not met (empty when they are). Pure given the probe. */
export function missingRequirements(req: Requirements, probe: Probe): string[] {
  const missing: string[] = [];
  if (req.root && probe.uid !== 0) missing.push(`needs root (uid is ${probe.uid ?? 'unknown'})`);
  for (const cmd of req.commands ?? []) if (!probe.hasCommand(cmd)) missing.push(`command ${cmd} not on PATH`);
  if (req.ipvs && !probe.hasIpvs()) missing.push('kernel has no IPVS here (/proc/net/ip_vs missing; run through `npm run test:kernel`)');
  return missing;
}

type SuiteFn = (name: string, body: () => void) => void;

/**
 * `describe` when the requirements hold; otherwise `describe.skip` after one loud line on stderr, or an
 * exception when CI=true (the test file then fails instead of passing silently).
 */
export function describeIf(req: Requirements, probe: Probe = systemProbe, env: NodeJS.ProcessEnv = process.env): SuiteFn {
  const missing = missingRequirements(req, probe);
  if (missing.length === 0) return describe;
  const reason = `${req.label}: ${missing.join('; ')}`;
  if (env.CI === 'true') throw new Error(`prerequisites missing under CI=true, refusing to skip: ${reason}`);
  process.stderr.write(`\n!!! SKIPPED ${reason}\n\n`);
  return describe.skip;
}

/** Root plus `ip`: what every namespace-building test needs. */
export function requireRoot(label: string, commands: readonly string[] = ['ip']): SuiteFn {
  return describeIf({ label, root: true, commands });
}

/** Root, `ip`, `ipvsadm` and a kernel with IPVS (the UML guest started by `npm run test:kernel`). */
export function requireKernelIpvs(label: string): SuiteFn {
  return describeIf({ label, root: true, commands: ['ip', 'ipvsadm'], ipvs: true });
}
