import { readFileSync } from 'node:fs';
import { errorMessage } from '../util/errors.js';

/** A secret could not be resolved; names the sink and field, never the value. */
export class SecretError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretError';
  }
}

const ENV_REF = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/;

/**
 * A secret is given inline, as `${ENV_NAME}`, or as a file path (trailing newline dropped, as editors and
 * `echo` add one). Exactly one source may be set. Returns undefined when none is.
 */
export function resolveSecret(
  where: string,
  value: string | undefined,
  file: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  if (value !== undefined && file !== undefined) {
    throw new SecretError(`${where}: set the secret inline/\${ENV} or as a file, not both`);
  }
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new SecretError(`${where}: cannot read secret file ${file}: ${errorMessage(err)}`);
    }
    const secret = text.replace(/\r?\n$/, '');
    if (secret === '') throw new SecretError(`${where}: secret file ${file} is empty`);
    return secret;
  }
  if (value === undefined) return undefined;
  const ref = ENV_REF.exec(value);
  if (ref) {
    const name = ref[1] as string;
    const fromEnv = env[name];
    if (fromEnv === undefined || fromEnv === '') {
      throw new SecretError(`${where}: environment variable ${name} is not set`);
    }
    return fromEnv;
  }
  return value;
}

/**
 * A URL safe to log. Chat webhook URLs carry their token in the path (Slack `/services/T../B../token`, Teams
 * workflow `sig=` query), so only scheme, host and port are shown.
 */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    const path = u.pathname === '/' && !u.search ? '' : '/…';
    return `${u.protocol}//${u.host}${path}`;
  } catch {
    return '<invalid url>';
  }
}

/** Replace every occurrence of the given secrets in a text (error messages may echo request details). */
export function redactText(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const s of secrets) {
    if (s && s.length >= 4) out = out.split(s).join('<redacted>');
  }
  return out;
}
