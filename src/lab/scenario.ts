// The lab's scenario: ordered steps, each acting on the running lab and recording PASS/FAIL checks of real
// state (ipvsadm listings, VIP holders, client answers, alerts received) on the timeline. `lvskeep lab` runs
// them all in the guest; test/kernel/e2e-lab.test.ts runs them one `it` per step.
import { alertMentions, formatCounts, parseDestinations, summarizeProbes, type Alert } from './analysis.js';
import type { Lab } from './lab.js';
import { sleep } from './netns.js';
import { DIRECTORS, GATEWAY_VIP, PROBE_TIMEOUT_MS, SERVICE, VIP, WEB_NAMES, WEBS, type DirectorName } from './plan.js';
import type { Timeline } from './timeline.js';

export interface StepContext {
  lab: Lab;
  tl: Timeline;
}

export interface Step {
  id: string;
  title: string;
  run(ctx: StepContext): Promise<void>;
}

// Bounds, from the lab config (interval 1s, timeout 800ms, fall 2, rise 2, adverts 250ms, reconcile 2s), with
// slack for the UML guest where every process start costs seconds.
const EJECT_BOUND_MS = 2 * 1000 + 800 + 4000;
const RESTORE_BOUND_MS = 2 * 1000 + 4000;
const ALERT_BOUND_MS = 10_000;
const FAILOVER_BOUND_MS = 5_000;
const CLIENT_GAP_BOUND_MS = 3_000;
const REPAIR_BOUND_MS = 2_000 + 6_000;
/** A request sent this long ago has its answer or its timeout in the probe log. */
const RESOLVED_MS = PROBE_TIMEOUT_MS + 100;
/** How long a switchover step watches the client before it sums up (what it sums up ends RESOLVED_MS earlier). */
const SETTLE_MS = 2_000 + RESOLVED_MS;

const secs = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

async function waitAlert(lab: Lab, since: number, needles: string[], timeoutMs: number): Promise<Alert | undefined> {
  let found: Alert | undefined;
  await lab.waitFor(() => {
    found = lab.alerts().slice(since).find((a) => alertMentions(a, needles));
    return found !== undefined;
  }, timeoutMs);
  return found;
}

async function holdersText(lab: Lab): Promise<string> {
  const h = await lab.vipHolders();
  const gw = lab.mode === 'nat' ? `, gateway ${GATEWAY_VIP} on [${h.gateway.join(',')}]` : '';
  return `VIP ${VIP} on [${h.vip.join(',')}]${gw}`;
}

async function masterIs(lab: Lab, d: DirectorName): Promise<boolean> {
  const h = await lab.vipHolders();
  const ok = h.vip.length === 1 && h.vip[0] === d;
  return lab.mode === 'nat' ? ok && h.gateway.length === 1 && h.gateway[0] === d : ok;
}

/** Steps of the scenario for the lab's mode. */
export function scenario(): Step[] {
  return [
    {
      id: 'start',
      title: 'lvskeep starts on both directors; d1 (priority 150) becomes master and programs IPVS',
      async run({ lab, tl }) {
        await lab.startDaemon('d1');
        await lab.startDaemon('d2');
        tl.info('start', `lvskeep running on d1 (pid ${lab.daemon('d1').pid}) and d2 (pid ${lab.daemon('d2').pid})`);
        if (lab.mode === 'dr') {
          // DR real servers hold the VIP on lo and must not answer ARP for it (else they steal the VIP's traffic).
          for (const w of WEB_NAMES) {
            const st = await lab.realServerState(w);
            tl.check(st.vipOnLo && st.arpIgnore === '1' && st.arpAnnounce === '2', 'start', `${w} (${lab.realserverMethod.split(':')[0]}): VIP ${VIP}/32 on lo ${st.vipOnLo ? 'yes' : 'NO'}, arp_ignore ${st.arpIgnore}, arp_announce ${st.arpAnnounce}`);
          }
        }
        const took = await lab.waitFor(() => masterIs(lab, 'd1'), 30_000);
        // Stable, not a moment between two flaps: still d1 alone two seconds later.
        await sleep(2_000);
        const stable = took !== undefined && (await masterIs(lab, 'd1'));
        tl.check(stable, 'start', `d1 is master: ${await holdersText(lab)}${took !== undefined ? ` (after ${secs(took)}, still 2 s later: ${stable})` : ''}`);
        for (const d of ['d1', 'd2'] as const) {
          const ready = await lab.waitFor(async () => {
            for (const w of WEB_NAMES) if ((await lab.weight(d, w)) !== 1) return false;
            return true;
          }, 30_000);
          const listing = await lab.ipvs(d);
          const want = lab.mode === 'nat' ? 'Masq' : 'Route';
          const methods = [...new Set(parseDestinations(listing).map((x) => x.forward))];
          tl.check(ready !== undefined && methods.length === 1 && methods[0] === want, 'start', `${d}: ${SERVICE} has web1..web3 at weight 1, forwarding ${methods.join('/') || 'none'} (want ${want}) (ipvsadm -Ln)`);
          if (ready === undefined || d === 'd1') for (const line of listing.trimEnd().split('\n').slice(-4)) tl.info('start', `  ${d} ipvsadm: ${line.trim()}`);
        }
      },
    },
    {
      id: 'spread',
      title: 'traffic from the client spreads over the three real servers (rr)',
      async run({ lab, tl }) {
        const bodies = await lab.clientGet(30);
        const counts: Record<string, number> = {};
        for (const b of bodies) counts[b] = (counts[b] ?? 0) + 1;
        const even = WEB_NAMES.every((w) => counts[w] === 10);
        tl.check(even, 'spread', `30 requests to http://${VIP}/: ${formatCounts(counts, WEB_NAMES)} (rr: 10 each)`);
      },
    },
    {
      id: 'eject',
      title: 'web2 stops: ejected (weight 0), alert delivered, clients no longer reach it',
      async run({ lab, tl }) {
        await lab.startProber();
        const alertsBefore = lab.alerts().length;
        await lab.stopWeb('web2');
        tl.info('eject', 'web2 http server stopped');
        const took = await lab.waitFor(async () => (await lab.weight('d1', 'web2')) === 0, EJECT_BOUND_MS + 5_000);
        tl.check(took !== undefined && took <= EJECT_BOUND_MS, 'eject', `d1 ipvsadm: ${WEBS.web2}:80 weight ${await lab.weight('d1', 'web2')} after ${took !== undefined ? secs(took) : 'never'} (bound ${secs(EJECT_BOUND_MS)})`);
        const alert = await waitAlert(lab, alertsBefore, ['rs.down', WEBS.web2], ALERT_BOUND_MS);
        tl.check(alert !== undefined, 'eject', alert ? `alert received: ${alert.text}` : `no rs.down alert for ${WEBS.web2} within ${secs(ALERT_BOUND_MS)}`);
        const alertAt = lab.proberTime(Date.now());
        const from = alertAt + 500;
        await sleep(2_500);
        const s = summarizeProbes(lab.probes().probes, from, lab.proberTime(Date.now()));
        // A request the director still sent to the stopped web2 fails at once with a refusal (its kernel answers
        // the SYN with a reset), so refusals and resets are what "reaching web2" looks like. Other failures
        // (ETIMEDOUT, EBUSY: the prober waited over PROBE_TIMEOUT_MS, as when the one-CPU guest stalls) are listed, not counted.
        const refused = (s.errors.ECONNREFUSED ?? 0) + (s.errors.ECONNRESET ?? 0);
        const failures = s.failed ? ` (${JSON.stringify(s.errors)}, sent at ${s.failedAtMs.map((t) => `+${t - alertAt}`).join(',')} ms from the alert)` : '';
        tl.check(s.ok > 0 && (s.byServer.web2 ?? 0) === 0 && refused === 0, 'eject', `client over 2 s after ejection: ${formatCounts(s.byServer, WEB_NAMES)}, ${s.failed} failed${failures}, ${refused} refused or reset`);
      },
    },
    {
      id: 'reload',
      title: 'reload (SIGHUP) with web1 weight 3 keeps health states; a broken config changes nothing',
      async run({ lab, tl }) {
        const d1 = lab.daemon('d1');
        lab.writeConfig('d1', { [WEBS.web1]: 3 });
        d1.signal('SIGHUP');
        const took = await lab.waitFor(async () => (await lab.weight('d1', 'web1')) === 3, 10_000);
        const w2 = await lab.weight('d1', 'web2');
        tl.check(took !== undefined && w2 === 0, 'reload', `SIGHUP with web1 weight 3: web1 ${await lab.weight('d1', 'web1')}, web2 still ${w2} (down stays down), web3 ${await lab.weight('d1', 'web3')}`);
        const before = await lab.ipvs('d1');
        const logBefore = d1.output().length;
        lab.writeConfig('d1', undefined, lab.baseConfig.replace('scheduler: rr', 'scheduler: nonsense'));
        d1.signal('SIGHUP');
        const rejected = await lab.waitFor(() => /reload failed/.test(d1.output().slice(logBefore)), 10_000);
        await sleep(1_000);
        const after = await lab.ipvs('d1');
        const same = before.replace(/\s+\d+\s+\d+\s*$/gm, '') === after.replace(/\s+\d+\s+\d+\s*$/gm, '');
        tl.check(rejected !== undefined && same && d1.running(), 'reload', `SIGHUP with a broken config: ${rejected !== undefined ? 'rejected (logged "reload failed")' : 'no rejection logged'}, table ${same ? 'unchanged' : 'CHANGED'}, daemon ${d1.running() ? 'running' : 'EXITED'}`);
        lab.writeConfig('d1');
        d1.signal('SIGHUP');
        await lab.waitFor(async () => (await lab.weight('d1', 'web1')) === 1, 10_000);
      },
    },
    {
      id: 'return',
      title: 'web2 returns: weight restored, clients reach it again',
      async run({ lab, tl }) {
        await lab.startWeb('web2');
        tl.info('return', 'web2 http server started');
        const took = await lab.waitFor(async () => (await lab.weight('d1', 'web2')) === 1, RESTORE_BOUND_MS + 5_000);
        tl.check(took !== undefined && took <= RESTORE_BOUND_MS, 'return', `d1 ipvsadm: ${WEBS.web2}:80 weight ${await lab.weight('d1', 'web2')} after ${took !== undefined ? secs(took) : 'never'} (bound ${secs(RESTORE_BOUND_MS)})`);
        const from = lab.proberTime(Date.now());
        await sleep(2_000);
        const s = summarizeProbes(lab.probes().probes, from, lab.proberTime(Date.now()));
        tl.check((s.byServer.web2 ?? 0) > 0 && s.failed === 0, 'return', `client over 2 s: ${formatCounts(s.byServer, WEB_NAMES)}, ${s.failed} failed`);
      },
    },
    {
      id: 'repair',
      title: 'a hand-made `ipvsadm -d` of web3 is repaired by the reconciler',
      async run({ lab, tl }) {
        const alertsBefore = lab.alerts().length;
        const t0 = Date.now();
        await lab.net.exec('d1', ['ipvsadm', '-d', '-t', SERVICE, '-r', `${WEBS.web3}:80`]);
        // The reconciler may put it back before we can even look, so the evidence is its drift report.
        const alert = await waitAlert(lab, alertsBefore, ['ipvs.drift_repaired'], REPAIR_BOUND_MS + 5_000);
        const took = Date.now() - t0;
        const w = await lab.weight('d1', 'web3');
        tl.check(alert !== undefined && took <= REPAIR_BOUND_MS && w === 1, 'repair', `ipvsadm -d ${WEBS.web3}:80 on d1: weight ${w} now; ${alert ? `drift repaired within ${secs(took)}: ${alert.text}` : 'no ipvs.drift_repaired alert'} (bound ${secs(REPAIR_BOUND_MS)})`);
      },
    },
    {
      id: 'failover',
      title: 'd1 loses its link: d2 becomes master; the client longest gap is measured',
      async run({ lab, tl }) {
        const alertsBefore = lab.alerts().length;
        const t0 = Date.now();
        await lab.setLink('d1', 'eth0', false);
        tl.info('failover', `d1: ip link set eth0 down`);
        const took = await lab.waitFor(() => masterIs(lab, 'd2'), FAILOVER_BOUND_MS + 10_000);
        tl.check(took !== undefined && took <= FAILOVER_BOUND_MS, 'failover', `d2 is master after ${took !== undefined ? secs(took) : 'never'}: ${await holdersText(lab)} (bound ${secs(FAILOVER_BOUND_MS)})`);
        await sleep(SETTLE_MS);
        const s = summarizeProbes(lab.probes().probes, lab.proberTime(t0) - 1_000, lab.proberTime(Date.now()) - RESOLVED_MS);
        const served = await lab.clientGet(3);
        tl.check(s.longestGapMs <= CLIENT_GAP_BOUND_MS && served.every((b) => !b.startsWith('ERR')), 'failover', `client longest gap ${s.longestGapMs} ms (10 ms probes, bound ${CLIENT_GAP_BOUND_MS} ms), slowest ${s.slowestMs} ms, ${s.failed} failed of ${s.total}; now answered by ${served.join(',')}`);
        for (const line of (await lab.ipvs('d2')).trimEnd().split('\n').slice(-4)) tl.info('failover', `  d2 ipvsadm: ${line.trim()}`);
        const alert = await waitAlert(lab, alertsBefore, ['vrrp.state', 'lab-d2', 'MASTER'], ALERT_BOUND_MS);
        tl.check(alert !== undefined, 'failover', alert ? `alert received: ${alert.text}` : 'no vrrp.state alert from lab-d2 about MASTER');
      },
    },
    {
      id: 'preempt',
      title: 'd1 returns and preempts back; a planned step-down loses no request',
      async run({ lab, tl }) {
        const t0 = Date.now();
        await lab.setLink('d1', 'eth0', true);
        tl.info('preempt', 'd1: ip link set eth0 up');
        const took = await lab.waitFor(() => masterIs(lab, 'd1'), 15_000);
        tl.check(took !== undefined, 'preempt', `d1 is master again after ${took !== undefined ? secs(took) : 'never'}: ${await holdersText(lab)}`);
        await sleep(SETTLE_MS);
        const back = summarizeProbes(lab.probes().probes, lab.proberTime(t0), lab.proberTime(Date.now()) - RESOLVED_MS);
        tl.info('preempt', `client during the preemption: longest gap ${back.longestGapMs} ms, slowest ${back.slowestMs} ms, ${back.failed} failed of ${back.total}`);

        const t1 = Date.now();
        const r = await lab.stepDown('d1');
        tl.info('preempt', `lvskeep step-down on d1: ${r.ok ? r.text.split('\n')[0] : `failed: ${r.text.slice(0, 300)}`}`);
        let how = 'control socket step-down';
        if (!r.ok) {
          // Without the control socket the planned path is a SIGTERM: the master sends priority 0 as it leaves.
          how = 'SIGTERM of lvskeep on d1 (priority 0)';
          await lab.daemon('d1').stop();
        }
        const moved = await lab.waitFor(() => masterIs(lab, 'd2'), 10_000);
        tl.check(moved !== undefined, 'preempt', `${how}: d2 is master after ${moved !== undefined ? secs(moved) : 'never'}: ${await holdersText(lab)}`);
        await sleep(SETTLE_MS);
        const s = summarizeProbes(lab.probes().probes, lab.proberTime(t1) - 500, lab.proberTime(Date.now()) - RESOLVED_MS);
        // Where the failures fall relative to the request tells in-flight losses from a slow guest.
        const rel = s.failedAtMs.map((t) => `${t - lab.proberTime(t1) >= 0 ? '+' : ''}${t - lab.proberTime(t1)}`).join(',');
        // Zero failed requests, asserted. A request whose packets straddle the moment the ARP entries move has
        // its SYN handled by d1 and what follows by d2, or (NAT) its replies sent by the real server through d2:
        // - d1, leaving master, hands its whole connection table to d2's backup sync daemon at once and a few
        //   times more (lvs_sync.handover), so d2 knows the connection within a fraction of a second, not after
        //   the kernel sync's ~2 s batching;
        // - until then d2 drops the reset its own TCP stack would send for an unknown connection (the reset guard,
        //   lvs_sync.reset_grace), and the client or the real server retransmits into a known connection.
        // A retransmission costs the request about a second (PROBE_TIMEOUT_MS allows one); `slowest` shows it.
        const text = `client during the planned switchover: ${s.failed} failed of ${s.total}, longest gap ${s.longestGapMs} ms, slowest ${s.slowestMs} ms${s.failed ? ` (${JSON.stringify(s.errors)}, sent at ${rel} ms from the request)` : ''}`;
        tl.check(s.failed === 0 && s.ok > 0, 'preempt', text);
      },
    },
  ];
}

export const DIRECTOR_ADDRESSES = DIRECTORS;

