/**
 * Secrets in files other users can read. The configuration may hold VRRP passwords and HMAC keys, chat webhook
 * URLs (their token is in the URL), PagerDuty routing keys, Opsgenie API keys, webhook signing secrets and
 * credentials in HTTP headers. Written as `${ENV}` they live in the service's environment instead, and the
 * file's mode does not matter; written literally in a group- or world-readable file, every local user can read
 * them. So when the file is readable beyond its owner and holds a literal secret, each such key is warned about,
 * with the fix. Secret files (`secret_file`, `routing_key_file`, `api_key_file`) are checked the same way.
 *
 * Also warned: a configuration file writable by others, since whoever can write it chooses the commands lvskeep
 * runs as root.
 */
import type { PathIssue, PathSegment } from './issues.js';
import type { LvskeepConfig } from './types.js';

export interface SecretField {
  path: PathSegment[];
  /** What it is, for the message: "VRRP auth secret", "Slack webhook URL". */
  what: string;
}

/** Header names that carry credentials (`Authorization`, `X-Api-Key`, `X-Auth-Token`, `Cookie`, ...). */
const SECRET_HEADER = /auth|token|key|secret|pass|cookie|session|signature|credential/i;

function headerFields(base: PathSegment[], headers: Record<string, string> | undefined): SecretField[] {
  return Object.keys(headers ?? {})
    .filter((h) => SECRET_HEADER.test(h))
    .map((h) => ({ path: [...base, 'headers', h], what: `HTTP header ${h}` }));
}

/**
 * A URL that carries credentials in itself: user:password@, a query string (`?token=`, `?sig=`, Google Chat's
 * `?key=&token=`), or a token-like path segment (Discord `/api/webhooks/ID/TOKEN`, Mattermost `/hooks/ID`):
 * 20 or more URL-safe characters mixing letters and digits.
 */
export function urlHasCredentials(url: string): boolean {
  try {
    const u = new URL(url);
    if (u.username !== '' || u.password !== '' || u.search !== '') return true;
    return u.pathname.split('/').some((seg) => /^[A-Za-z0-9_\-.~]{20,}$/.test(seg) && /\d/.test(seg) && /[A-Za-z]/.test(seg));
  } catch {
    return false;
  }
}

/** Every secret-bearing value set in the configuration, literal or from the environment. Pure. */
export function secretFields(c: LvskeepConfig): SecretField[] {
  const out: SecretField[] = [];
  c.vrrp.instances.forEach((inst, n) => {
    if (inst.auth.secret !== undefined) out.push({ path: ['vrrp', 'instances', n, 'auth', 'secret'], what: `VRRP ${inst.auth.type} secret` });
  });
  c.virtual_servers.forEach((vs, n) => {
    const check = vs.check;
    if (check?.type === 'http' || check?.type === 'https') out.push(...headerFields(['virtual_servers', n, 'check'], check.headers));
    vs.real_servers.forEach((rs, k) => {
      const own = rs.check;
      // A real server's check includes the service's headers; only headers written at the real server count here.
      if (own !== check && (own?.type === 'http' || own?.type === 'https')) out.push(...headerFields(['virtual_servers', n, 'real_servers', k, 'check'], own.headers));
    });
  });
  c.alerts.sinks.forEach((s, n) => {
    const at = (key: PathSegment): PathSegment[] => ['alerts', 'sinks', n, key];
    if (s.url !== undefined) {
      // Slack and Teams incoming webhooks are authenticated by the URL alone; other URLs when they carry a token.
      if (s.type === 'slack' || s.type === 'teams') out.push({ path: at('url'), what: `${s.type} webhook URL (the URL is the credential)` });
      else if (urlHasCredentials(s.url)) out.push({ path: at('url'), what: `${s.type} URL with a token or credentials in it` });
    }
    if (s.secret !== undefined) out.push({ path: at('secret'), what: 'webhook signing secret' });
    if (s.routing_key !== undefined) out.push({ path: at('routing_key'), what: 'PagerDuty routing key' });
    if (s.api_key !== undefined) out.push({ path: at('api_key'), what: 'Opsgenie API key' });
    out.push(...headerFields(['alerts', 'sinks', n], s.headers));
  });
  return out;
}

/** Files that hold one secret each (`secret_file`, `routing_key_file`, `api_key_file`). Pure. */
export function secretFiles(c: LvskeepConfig): { path: PathSegment[]; file: string }[] {
  const out: { path: PathSegment[]; file: string }[] = [];
  c.alerts.sinks.forEach((s, n) => {
    for (const key of ['secret_file', 'routing_key_file', 'api_key_file'] as const) {
      const file = s[key];
      if (file !== undefined) out.push({ path: ['alerts', 'sinks', n, key], file });
    }
  });
  return out;
}

/** `0644`. */
export function octalMode(mode: number): string {
  return `0${(mode & 0o777).toString(8).padStart(3, '0')}`;
}

/** "its group", "others", "its group and others", or undefined when only the owner can read. */
function readers(mode: number): string | undefined {
  const g = (mode & 0o040) !== 0;
  const o = (mode & 0o004) !== 0;
  if (g && o) return 'its group and others';
  if (g) return 'its group';
  if (o) return 'others';
  return undefined;
}

export interface FileAccess {
  /** Mode of the configuration file itself. */
  mode: number;
  /** Mode of another file, or undefined when it cannot be stat'ed (reported elsewhere, when the sink is built). */
  modeOf(path: string): number | undefined;
  /** False when the value at `path` was written as `${ENV}` (wholly or partly): the file does not hold it. */
  isLiteral(path: PathSegment[]): boolean;
}

export function exposureWarnings(c: LvskeepConfig, file: string, access: FileAccess): PathIssue[] {
  const out: PathIssue[] = [];
  const who = readers(access.mode);
  if (who !== undefined) {
    for (const f of secretFields(c)) {
      if (!access.isLiteral(f.path)) continue;
      out.push({
        path: f.path,
        message: `${f.what} written in a file readable by ${who} (mode ${octalMode(access.mode)}): chmod 600 ${file}, or set it from the environment with \${NAME}`,
      });
    }
  }
  for (const s of secretFiles(c)) {
    const mode = access.modeOf(s.file);
    const fileWho = mode === undefined ? undefined : readers(mode);
    if (mode !== undefined && fileWho !== undefined) {
      out.push({ path: s.path, message: `secret file ${s.file} is readable by ${fileWho} (mode ${octalMode(mode)}): chmod 600 ${s.file}` });
    }
  }
  if ((access.mode & 0o022) !== 0) {
    const writers = (access.mode & 0o002) !== 0 ? 'others' : 'its group';
    out.push({ path: [], message: `${file} is writable by ${writers} (mode ${octalMode(access.mode)}), who can then choose the commands lvskeep runs: chmod 600 ${file}` });
  }
  return out;
}
