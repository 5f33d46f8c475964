import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger } from 'pino';
export type LogFormat = 'json' | 'pretty';

export interface LoggerOptions {
  level?: LevelWithSilent;
  format?: LogFormat;
  /** Where JSON lines go; defaults to stdout. Tests pass a stream to capture output. */
  destination?: NodeJS.WritableStream;
}

/**
 * JSON lines by default (what journald and log shippers want); `pretty` loads pino-pretty on demand
 * because it is a development dependency and may be absent on a production install.
 */
export async function createLogger(opts: LoggerOptions = {}): Promise<Logger> {
  const level = opts.level ?? 'info';
  if (opts.format === 'pretty') {
    let prettyFactory: ((o: object) => NodeJS.WritableStream) | undefined;
    try {
      const mod = (await import('pino-pretty')) as unknown as { default: (o: object) => NodeJS.WritableStream };
      prettyFactory = mod.default;
    } catch {
      prettyFactory = undefined;
    }
    if (prettyFactory) {
      return pino({ level, base: { name: 'lvskeep' } }, prettyFactory({ colorize: process.stderr.isTTY, destination: 2 }));
    }
    const fallback = pino({ level }, process.stderr);
    fallback.warn('pino-pretty is not installed; logging JSON lines instead (npm i pino-pretty)');
    return fallback;
  }
  return pino({ level, base: { name: 'lvskeep' } }, opts.destination ?? process.stdout);
}

/** A logger that drops everything, for unit tests and library use. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
