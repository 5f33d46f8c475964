#!/usr/bin/env node
import { buildProgram } from './program.js';

// Entry point of the `lvskeep` binary. Commands set process.exitCode; nothing here calls process.exit so that
// pending log lines are flushed before Node exits on its own.
buildProgram()
  .parseAsync(process.argv)
  .catch((err: unknown) => {
    process.stderr.write(`lvskeep: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
