/**
 * Input types of the health checkers. They are lvskeep's own, independent of the config layer's schema: an
 * adapter maps parsed configuration onto them. All durations are milliseconds.
 */

export type HealthStatus = 'up' | 'down';
export type CheckType = 'http' | 'https' | 'tcp' | 'script' | 'dns';

/** The real server a check belongs to, and the virtual service it serves (for logs and script env). */
export interface CheckTarget {
  /** Canonical address text (IPv6 compressed, no brackets). */
  address: string;
  port: number;
  /** Stable id of the virtual service, e.g. `tcp 203.0.113.1:80`. */
  virtualServer: string;
}

/** Where a probe connects when it is not the real server itself (DR/TUN services listening on the VIP). */
export interface Endpoint {
  address: string;
  port: number;
}

export interface CommonCheckSpec {
  intervalMs: number;
  /** Per-attempt deadline: connect + request + response, enforced even against a trickling server. */
  timeoutMs: number;
  /** Consecutive successes that turn a down server up. */
  rise: number;
  /** Consecutive failures that turn an up server down. */
  fall: number;
  /** Extra attempts inside one check before it counts as a failure. */
  retries: number;
  retryDelayMs: number;
  /** State before the first verdict. */
  assume: HealthStatus;
  /** Each interval is stretched or shrunk by up to this percent, so thousands of checks drift apart. */
  jitterPercent: number;
  connect?: Endpoint;
  /** Source address to bind before connecting. */
  bindAddress?: string;
}

/** `[from, to]` inclusive, e.g. `[200, 299]`; a single status is `[204, 204]`. */
export type StatusRange = readonly [number, number];

export type DigestAlgorithm = 'md5' | 'sha256';

export interface HttpExpect {
  status: StatusRange[];
  /** JavaScript regular expression source, matched against the (size-capped) body as UTF-8. */
  bodyRegex?: string;
  digest?: { algorithm: DigestAlgorithm; hex: string };
}

export interface TlsOptions {
  /** Server name sent in the TLS ClientHello; defaults to the Host header when that is a name. */
  sni?: string;
  /** PEM text of the trusted CA(s); read from the configured file by the adapter. */
  ca?: string;
  verify: boolean;
}

export interface HttpCheckSpec extends CommonCheckSpec {
  type: 'http' | 'https';
  method: string;
  path: string;
  /** Host header (virtualhost); defaults to the connect address. */
  host?: string;
  expect: HttpExpect;
  tls?: TlsOptions;
  headers: Record<string, string>;
  /** Connect deadline, at most timeoutMs. */
  connectTimeoutMs?: number;
  /** Bytes of body read at most; a digest check fails on a larger body. */
  maxBodyBytes?: number;
  /**
   * Keep one keep-alive connection per real server and reuse it (Envoy's way) instead of a fresh connection per
   * probe (keepalived's). A failure or timeout closes it; a reused connection the server closed is retried once.
   */
  reuseConnection?: boolean;
}

export interface TcpCheckSpec extends CommonCheckSpec {
  type: 'tcp';
  send?: Buffer;
  /** Bytes that must appear in what the server sends back. */
  expect?: Buffer;
  maxReadBytes?: number;
}

export interface ScriptCheckSpec extends CommonCheckSpec {
  type: 'script';
  /** argv: program and arguments, never passed through a shell. */
  command: string[];
  /** keepalived misc_dynamic: exit 2..255 means up with weight exit-2. */
  dynamicWeight: boolean;
  /** Numeric ids; resolving a user name is the adapter's job. */
  user?: { uid: number; gid: number };
}

export type DnsRecordType = 'A' | 'NS' | 'CNAME' | 'SOA' | 'PTR' | 'MX' | 'TXT' | 'AAAA' | 'SRV' | 'ANY';

export interface DnsCheckSpec extends CommonCheckSpec {
  type: 'dns';
  name: string;
  recordType: DnsRecordType;
}

export type CheckSpec = HttpCheckSpec | TcpCheckSpec | ScriptCheckSpec | DnsCheckSpec;

/** What every probe attempt (and every check, after retries) returns. */
export interface ProbeResult {
  ok: boolean;
  latencyMs: number;
  /** Human text: `HTTP 503`, `connect timeout after 1000 ms`, `connection refused`, ... */
  reason: string;
  /** Dynamic weight reported by a script check (misc_dynamic), when it reported one. */
  weight?: number;
}

/** A prepared probe for one real server. `close` releases its sockets/agents; it is idempotent. */
export interface Prober {
  probe(signal?: AbortSignal): Promise<ProbeResult>;
  close(): Promise<void>;
}
