import type { LvsEvent, Severity } from '../events/types.js';
import type { AlertMessage } from './types.js';

/** Human text for one event, shared by every chat-like sink so all channels say the same thing. */
export interface EventText {
  /** One line, e.g. `Real server 198.51.100.11:80 DOWN on tcp 203.0.113.1:80: HTTP 503`. */
  summary: string;
  fields: [string, string][];
}

function ms(v: number | undefined): string {
  return v === undefined ? '' : ` (${Math.round(v)} ms)`;
}

export function describeEvent(e: LvsEvent): EventText {
  switch (e.type) {
    case 'vrrp.state':
      return {
        summary: `VRRP ${e.instance}: ${e.from} -> ${e.to} (${e.reason})`,
        fields: [['instance', e.instance], ['state', `${e.from} -> ${e.to}`], ['priority', String(e.priority)], ['reason', e.reason]],
      };
    case 'vrrp.split_brain':
      return {
        summary: e.cleared ? `VRRP ${e.instance}: split brain over, single master again` : `VRRP ${e.instance}: split brain, ${e.peer} is master too`,
        fields: [['instance', e.instance], ['peer', e.peer]],
      };
    case 'vrrp.process':
      return {
        summary: e.status === 'exited' ? `VRRP process died: ${e.reason}; restarting it` : `VRRP process running again (${e.reason}, restart ${e.restarts})`,
        fields: [['status', e.status], ['reason', e.reason], ['restarts', String(e.restarts)]],
      };
    case 'rs.down':
      return {
        summary: `Real server ${e.realServer} DOWN on ${e.virtualServer}: ${e.reason}${ms(e.latencyMs)}`,
        fields: rsFields(e, [['reason', e.reason], ...latency(e.latencyMs)]),
      };
    case 'rs.up':
      return {
        summary: `Real server ${e.realServer} UP on ${e.virtualServer}: ${e.reason}${ms(e.latencyMs)}${e.downForMs === undefined ? '' : `, was out ${humanDuration(e.downForMs)}`}`,
        fields: rsFields(e, [['reason', e.reason], ...latency(e.latencyMs), ...(e.downForMs === undefined ? [] : [['was out', humanDuration(e.downForMs)] as [string, string]])]),
      };
    case 'rs.flapping':
      return {
        summary: `Real server ${e.realServer} flapping on ${e.virtualServer}: ${e.reason}${e.transitions !== undefined && e.windowMs !== undefined ? ` (${e.transitions} changes in ${humanDuration(e.windowMs)})` : ''}`,
        fields: rsFields(e, [['reason', e.reason], ...(e.transitions === undefined ? [] : [['transitions', String(e.transitions)] as [string, string]])]),
      };
    case 'rs.drained':
      return { summary: `Real server ${e.realServer} drained on ${e.virtualServer}: ${e.reason}`, fields: rsFields(e, [['reason', e.reason]]) };
    case 'rs.maintenance':
      return {
        summary: `Real server ${e.realServer} on ${e.virtualServer}: maintenance ${e.on ? 'on' : 'off'} (${e.reason})`,
        fields: rsFields(e, [['maintenance', e.on ? 'on' : 'off'], ['reason', e.reason]]),
      };
    case 'quorum.lost':
      return { summary: `Quorum lost on ${e.virtualServer}: ${e.reason}`, fields: vsFields(e.virtualServer, e.reason, [['up', e.up], ['quorum', e.quorum]]) };
    case 'quorum.regained':
      return { summary: `Quorum regained on ${e.virtualServer}: ${e.reason}`, fields: vsFields(e.virtualServer, e.reason, [['up', e.up], ['quorum', e.quorum]]) };
    case 'sorry.on':
      return { summary: `Sorry server ${e.sorryServer} ON for ${e.virtualServer}`, fields: [['virtual server', e.virtualServer], ['sorry server', e.sorryServer]] };
    case 'sorry.off':
      return { summary: `Sorry server ${e.sorryServer} OFF for ${e.virtualServer}`, fields: [['virtual server', e.virtualServer], ['sorry server', e.sorryServer]] };
    case 'panic.entered':
      return { summary: `Panic mode on ${e.virtualServer}, sending to all real servers: ${e.reason}`, fields: vsFields(e.virtualServer, e.reason, [['up', e.up], ['total', e.total]]) };
    case 'panic.left':
      return { summary: `Panic mode over on ${e.virtualServer}: ${e.reason}`, fields: vsFields(e.virtualServer, e.reason, [['up', e.up], ['total', e.total]]) };
    case 'ipvs.drift_repaired':
      return { summary: `IPVS table drift repaired: ${e.changes} changes (${e.detail})`, fields: [['changes', String(e.changes)], ['detail', e.detail]] };
    case 'ipvs.error':
      return { summary: `IPVS ${e.operation} ${e.object} failed: ${e.error}`, fields: [['operation', e.operation], ['object', e.object], ['error', e.error]] };
    case 'vip.error':
      return {
        summary: `VIP ${e.address} on ${e.interface} (${e.instance}) failed: ${e.error}`,
        fields: [['instance', e.instance], ['address', e.address], ['interface', e.interface], ['error', e.error]],
      };
    case 'daemon.started':
      return { summary: `lvskeep ${e.version} started`, fields: [['version', e.version]] };
    case 'daemon.stopped':
      return { summary: `lvskeep stopped: ${e.reason}`, fields: [['reason', e.reason]] };
    case 'daemon.reloaded':
      return { summary: `Configuration reloaded from ${e.source}`, fields: [['source', e.source]] };
    case 'daemon.reload_failed':
      return { summary: `Configuration reload from ${e.source} failed: ${e.error}`, fields: [['source', e.source], ['error', e.error]] };
    case 'alert.delivery_failing':
      return { summary: `Alerts to ${e.sink} failing: ${e.error} (${e.dropped} dropped)`, fields: [['sink', e.sink], ['error', e.error], ['dropped', String(e.dropped)]] };
    case 'alert.delivery_recovered':
      return { summary: `Alerts to ${e.sink} delivered again`, fields: [['sink', e.sink]] };
    case 'alert.test':
      return { summary: `lvskeep test alert: ${e.note}`, fields: [['note', e.note]] };
  }
}

function rsFields(e: { virtualServer: string; realServer: string }, extra: [string, string][]): [string, string][] {
  return [['virtual server', e.virtualServer], ['real server', e.realServer], ...extra];
}

function latency(v: number | undefined): [string, string][] {
  return v === undefined ? [] : [['latency', `${Math.round(v)} ms`]];
}

function vsFields(vs: string, reason: string, counts: [string, number | undefined][]): [string, string][] {
  const known = counts.filter((c): c is [string, number] => c[1] !== undefined).map(([k, v]): [string, string] => [k, String(v)]);
  return [['virtual server', vs], ['reason', reason], ...known];
}

/** `45 s`, `12 min`, `3 h`: enough precision for a chat line. */
export function humanDuration(msValue: number): string {
  const s = Math.max(0, Math.round(msValue / 1000));
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${Math.round(s / 3600)} h`;
}

/** What a chat message shows: a headline, body lines and key/value facts. */
export interface MessageText {
  title: string;
  lines: string[];
  fields: [string, string][];
  severity: Severity;
  /** Every event in the message resolves an incident (shown green). */
  resolved: boolean;
  time: number;
}

const MAX_LINES = 20;

export function describeMessage(m: AlertMessage, host: string): MessageText {
  if (m.kind === 'digest') {
    return { title: m.title, lines: m.text.split('\n'), fields: m.fields, severity: 'info', resolved: false, time: m.time };
  }
  const events = m.events;
  const first = events[0] as LvsEvent; // every non-digest message carries at least one event (tuple types)
  const severity = events.reduce<Severity>((s, e) => (rank(e.severity) > rank(s) ? e.severity : s), 'info');
  const resolved = events.every((e) => e.resolves);
  const tag = resolved ? 'RESOLVED' : severity.toUpperCase();
  if (m.kind === 'group') {
    const lines = events.slice(0, MAX_LINES).map((e) => describeEvent(e).summary);
    if (events.length > MAX_LINES) lines.push(`… and ${events.length - MAX_LINES} more`);
    return {
      title: `[${tag}] ${events.length} × ${first.type} on ${host}`,
      lines,
      fields: [['host', host], ['events', String(events.length)]],
      severity,
      resolved,
      time: first.time,
    };
  }
  const text = describeEvent(first);
  const prefix = m.kind === 'reminder' ? 'Still open: ' : m.kind === 'test' ? 'Test: ' : '';
  const lines = [text.summary];
  if (m.kind === 'reminder') lines.push(`open since ${new Date(m.openSince).toISOString()}`);
  return {
    title: `[${tag}] ${prefix}${text.summary}`,
    lines,
    fields: [['host', host], ...text.fields],
    severity,
    resolved,
    time: first.time,
  };
}

function rank(s: Severity): number {
  return s === 'critical' ? 2 : s === 'warning' ? 1 : 0;
}

/** Cut to `max` characters (code points would be nicer; APIs count UTF-16 units, so this is what they measure). */
export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(0, max - 1))}…`;
}
