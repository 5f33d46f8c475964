import { createHash } from 'node:crypto';

/**
 * The key an incident API (PagerDuty dedup_key, Opsgenie alias) uses for an event. Prefixed with the host:
 * both directors check the same real servers and run VRRP instances of the same name, and one director's
 * recovery must not close the other's problem. Over-long keys are hashed to stay within the API limit while
 * keeping the readable prefix.
 */
export function incidentKey(host: string, dedupKey: string, maxLength: number): string {
  const key = `lvskeep:${host}:${dedupKey}`;
  if (key.length <= maxLength) return key;
  const digest = createHash('sha256').update(key).digest('hex');
  return `${key.slice(0, Math.max(0, maxLength - digest.length - 1))}#${digest}`.slice(0, maxLength);
}
