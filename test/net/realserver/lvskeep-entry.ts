// The realserver and director commands as the lvskeep binary will carry them (registered like
// src/cli/program.ts does), for net tests that run them inside a namespace: node --import tsx THIS ARGS...
import { Command } from 'commander';
import { registerDirector } from '../../../src/director/cli.js';
import { registerRealserver } from '../../../src/realserver/cli.js';

const program = new Command('lvskeep').exitOverride();
registerRealserver(program);
registerDirector(program);
program.parseAsync(process.argv).catch((err: unknown) => {
  const code = (err as { exitCode?: unknown }).exitCode;
  if (typeof code !== 'number') process.stderr.write(`lvskeep: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = typeof code === 'number' ? code : 1;
});
