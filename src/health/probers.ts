/** One prober per (check spec, real server): the only place that knows which checker implements which type. */
import { createDnsProber } from './dns.js';
import { createHttpProber } from './http.js';
import { createScriptProber } from './script.js';
import { createTcpProber } from './tcp.js';
import type { CheckSpec, CheckTarget, Prober } from './types.js';

export function createProber(spec: CheckSpec, target: CheckTarget): Prober {
  switch (spec.type) {
    case 'http':
    case 'https':
      return createHttpProber(spec, target);
    case 'tcp':
      return createTcpProber(spec, target);
    case 'script':
      return createScriptProber(spec, target);
    case 'dns':
      return createDnsProber(spec, target);
  }
}
