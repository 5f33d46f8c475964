// Reading the lab's evidence: `ipvsadm -Ln` destinations, the client prober's log, alerts the receiver printed.
// Pure functions over text, so every verdict the lab prints is unit-tested.

export interface Destination {
  /** `ADDR:PORT` as ipvsadm prints it. */
  addr: string;
  forward: string;
  weight: number;
  active: number;
  inactive: number;
}

/** Destinations of the services in `ipvsadm -Ln` output (lines `  -> ADDR:PORT  Masq  1  0  0`). */
export function parseDestinations(listing: string): Destination[] {
  const out: Destination[] = [];
  for (const line of listing.split('\n')) {
    const m = /^\s+->\s+(\d+\.\d+\.\d+\.\d+:\d+)\s+(\w+)\s+(\d+)\s+(\d+)\s+(\d+)\s*$/.exec(line);
    if (m) out.push({ addr: m[1] ?? '', forward: m[2] ?? '', weight: Number(m[3]), active: Number(m[4]), inactive: Number(m[5]) });
  }
  return out;
}

/** Weight of `addr` (`A.B.C.D`, any port) in a listing; undefined when it is not a destination. */
export function weightOf(listing: string, addr: string): number | undefined {
  return parseDestinations(listing).find((d) => d.addr.split(':')[0] === addr)?.weight;
}

export interface Probe {
  /** When the request was started, ms since the prober started. */
  sentMs: number;
  durationMs: number;
  ok: boolean;
  /** First word of the body (the real server's name) or the error code. */
  what: string;
}

/** Lines `<sent> <duration> <1|0> <what>`; malformed lines (a torn last line) are skipped, never thrown on. */
export function parseProbeLog(text: string): Probe[] {
  const out: Probe[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\d+) (\d+) ([01]) (\S+)$/.exec(line.trim());
    if (m) out.push({ sentMs: Number(m[1]), durationMs: Number(m[2]), ok: m[3] === '1', what: m[4] ?? '' });
  }
  return out.sort((a, b) => a.sentMs - b.sentMs);
}

export interface ProbeSummary {
  total: number;
  ok: number;
  failed: number;
  /** Successful answers per real server name. */
  byServer: Record<string, number>;
  /** Failures per error code. */
  errors: Record<string, number>;
  /** Longest time between two answers (successful requests, by the time they completed); 0 with fewer than two. */
  longestGapMs: number;
  /** Start of that gap (the earlier answer), ms since the prober started. */
  gapFromMs: number;
  /** Longest time a successful request took (a retransmitted SYN shows here as about a second). */
  slowestMs: number;
  /** Send times of the first 20 failed requests, ms since the prober started. */
  failedAtMs: number[];
}

/** Summary of probes sent in [fromMs, toMs). */
export function summarizeProbes(probes: readonly Probe[], fromMs = 0, toMs = Number.POSITIVE_INFINITY): ProbeSummary {
  const inWindow = probes.filter((p) => p.sentMs >= fromMs && p.sentMs < toMs);
  const byServer: Record<string, number> = {};
  const errors: Record<string, number> = {};
  let ok = 0;
  let slowestMs = 0;
  const failedAtMs: number[] = [];
  const answeredAt: number[] = [];
  for (const p of inWindow) {
    if (p.ok) {
      ok += 1;
      slowestMs = Math.max(slowestMs, p.durationMs);
      byServer[p.what] = (byServer[p.what] ?? 0) + 1;
      answeredAt.push(p.sentMs + p.durationMs);
    } else {
      errors[p.what] = (errors[p.what] ?? 0) + 1;
      if (failedAtMs.length < 20) failedAtMs.push(p.sentMs);
    }
  }
  // The client's view: the longest time without an answer arriving (a request that waited through an outage
  // and then succeeded still leaves that time without answers).
  answeredAt.sort((a, b) => a - b);
  let longestGapMs = 0;
  let gapFromMs = 0;
  for (let i = 1; i < answeredAt.length; i++) {
    const gap = (answeredAt[i] ?? 0) - (answeredAt[i - 1] ?? 0);
    if (gap > longestGapMs) {
      longestGapMs = gap;
      gapFromMs = answeredAt[i - 1] ?? 0;
    }
  }
  return { total: inWindow.length, ok, failed: inWindow.length - ok, byServer, errors, longestGapMs, gapFromMs, slowestMs, failedAtMs };
}

export interface Alert {
  /** The JSON body lvskeep posted. */
  body: Record<string, unknown>;
  /** One line for people: event type and the most telling fields. */
  text: string;
}

/** Alerts from the receiver's output (`ALERT <json>` lines); unparsable lines are skipped. */
export function parseAlerts(output: string): Alert[] {
  const out: Alert[] = [];
  for (const line of output.split('\n')) {
    if (!line.startsWith('ALERT ')) continue;
    let body: unknown;
    try {
      body = JSON.parse(line.slice(6));
    } catch {
      continue;
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) continue;
    const b = body as Record<string, unknown>;
    const text = typeof b.title === 'string' ? `${typeof b.host === 'string' ? `${b.host}: ` : ''}${b.title}` : line.slice(6, 6 + 400);
    out.push({ body: b, text });
  }
  return out;
}

/** Whether an alert body mentions all of `needles` anywhere (payload shapes differ per event; the text is what a person reads). */
export function alertMentions(alert: Alert, needles: readonly string[]): boolean {
  const text = JSON.stringify(alert.body);
  return needles.every((n) => text.includes(n));
}

/** `web1=10 web2=10 web3=10` in a fixed order, with missing names as 0. */
export function formatCounts(byServer: Record<string, number>, names: readonly string[]): string {
  const extra = Object.keys(byServer).filter((k) => !names.includes(k));
  return [...names, ...extra].map((n) => `${n}=${byServer[n] ?? 0}`).join(' ');
}
