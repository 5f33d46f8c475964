/** Things that are valid but probably not what the operator wants. Never fatal. */
import type { PathIssue } from './issues.js';
import type { LvskeepConfig } from './types.js';

export function collectWarnings(c: LvskeepConfig): PathIssue[] {
  const out: PathIssue[] = [];
  c.vrrp.instances.forEach((inst, n) => {
    const secret = inst.auth.secret;
    if (inst.auth.type === 'hmac' && secret !== undefined && Buffer.byteLength(secret) < 16) {
      out.push({ path: ['vrrp', 'instances', n, 'auth', 'secret'], message: 'hmac secret is shorter than 16 bytes; use a longer random secret' });
    }
    if (inst.priority === 255) {
      const weighted = [...inst.track.interfaces, ...inst.track.checks, ...inst.track.scripts].some((t) => t.weight !== 0);
      if (weighted) out.push({ path: ['vrrp', 'instances', n, 'priority'], message: 'priority 255 (address owner) is never changed by tracking: non-zero track weights are ignored' });
    }
    if (inst.auth.type === 'pass') {
      out.push({ path: ['vrrp', 'instances', n, 'auth', 'type'], message: 'auth type pass sends the password in clear text in every advertisement; it only guards against misconfiguration' });
    }
  });
  c.virtual_servers.forEach((vs, n) => {
    if (vs.real_servers.length === 0) out.push({ path: ['virtual_servers', n], message: `virtual server "${vs.name}" has no real servers` });
    const insecure = (chk: typeof vs.check): boolean => chk?.type === 'https' && !chk.tls.verify;
    if (insecure(vs.check)) out.push({ path: ['virtual_servers', n, 'check', 'tls', 'verify'], message: 'https check with tls.verify: false accepts any certificate' });
    vs.real_servers.forEach((rs, k) => {
      // Real servers without their own check share the virtual server's check object: warned about above.
      if (rs.check !== vs.check && insecure(rs.check)) {
        out.push({ path: ['virtual_servers', n, 'real_servers', k, 'check'], message: 'https check with tls.verify: false accepts any certificate' });
      }
    });
  });
  // The socket's mode is the control socket's whole access control (src/control/server.ts).
  if ((c.control.mode & 0o006) !== 0) {
    const mode = `0${c.control.mode.toString(8).padStart(3, '0')}`;
    out.push({ path: ['control', 'mode'], message: `mode ${mode} lets every local user control lvskeep (step-down, drain, maintenance, reload) if they can reach the socket's directory; use '0600' and sudo for operators` });
  }
  c.alerts.sinks.forEach((s, n) => {
    if (s.secret !== undefined && Buffer.byteLength(s.secret) < 16) {
      out.push({ path: ['alerts', 'sinks', n, 'secret'], message: 'signing secret is shorter than 16 bytes; use a longer random secret' });
    }
  });
  return out;
}
