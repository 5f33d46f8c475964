// `--keep`: the UML guest has no console to log into, so a kept lab is reached through a directory both sides
// see (hostfs): the host writes `cmd-<id>.json` ({ns, argv}), the guest runs it in that namespace and writes
// `cmd-<id>.out.json` ({code, stdout, stderr}); a `stop` file ends the lab. Pure naming and parsing here; the
// polling loop lives in guest.ts and the host half in host.ts.
import { z } from 'zod';

export const KEEP_STOP_FILE = 'stop';
export const KEEP_READY_LINE = 'LAB KEPT';
/** The guest halts on its own after this long, so a forgotten lab cannot run forever. */
export const KEEP_MAX_MS = 60 * 60_000;

export const keepCommandSchema = z.strictObject({
  ns: z.string().regex(/^[a-z][a-z0-9]{0,15}$/),
  argv: z.array(z.string().max(4096)).min(1).max(256),
});
export type KeepCommand = z.infer<typeof keepCommandSchema>;

export const keepResultSchema = z.strictObject({ code: z.number().int().nullable(), stdout: z.string(), stderr: z.string() });
export type KeepResult = z.infer<typeof keepResultSchema>;

export function commandFile(id: string): string {
  return `cmd-${id}.json`;
}

export function resultFile(id: string): string {
  return `cmd-${id}.out.json`;
}

/** The id of a pending command file name, or undefined for anything else in the directory. */
export function pendingCommandId(fileName: string): string | undefined {
  return /^cmd-([A-Za-z0-9_-]{1,64})\.json$/.exec(fileName)?.[1];
}

/** A command file's text, validated; the error names the file and field. */
export function parseKeepCommand(text: string, file: string): KeepCommand {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file}: not JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  const r = keepCommandSchema.safeParse(raw);
  if (!r.success) throw new Error(`${file}: ${r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  return r.data;
}
