// `lvskeep realserver ...` for the lab's DR real servers while that command is not yet registered in the main
// CLI (src/cli/program.ts): a program with just the realserver commands from src/realserver/cli.ts.
import { Command } from 'commander';
import { registerRealserver } from '../realserver/cli.js';

const program = new Command('lvskeep');
registerRealserver(program);
program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`lvskeep: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
