/** Pieces the IPVS and alert commands share: the backend option and loading a config with errors on stderr. */
import { Option } from 'commander';
import { formatIssue, loadConfigFile } from '../config/load.js';
import type { LvskeepConfig } from '../config/types.js';
import { BACKEND_NAMES } from '../daemon/ipvs-backend.js';

export function backendOption(): Option {
  return new Option('--backend <name>', 'IPVS backend (default: backend.ipvs of the config)').choices([...BACKEND_NAMES]);
}

/** The validated config, or undefined after printing every error (exit code 1). */
export async function loadConfigOrReport(path: string): Promise<LvskeepConfig | undefined> {
  const result = await loadConfigFile(path);
  if (result.ok) return result.config;
  for (const issue of result.errors) process.stderr.write(`${formatIssue(issue)}\n`);
  process.stderr.write(`${result.errors.length} error${result.errors.length === 1 ? '' : 's'} in ${path}\n`);
  process.exitCode = 1;
  return undefined;
}

export function fail(message: string): void {
  process.stderr.write(`lvskeep: ${message}\n`);
  process.exitCode = 1;
}
