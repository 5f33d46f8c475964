/** Adapter from the validated configuration (src/config) to the alerting module's own settings type. */
import type { AlertSinkConfig } from '../config/types.js';
import type { SinkSettings } from './types.js';

export function sinkSettingsFromConfig(c: AlertSinkConfig): SinkSettings {
  return {
    name: c.name,
    type: c.type,
    ...(c.url !== undefined ? { url: c.url } : {}),
    ...(c.headers !== undefined ? { headers: c.headers } : {}),
    ...(c.secret !== undefined ? { secret: c.secret } : {}),
    ...(c.secret_file !== undefined ? { secretFile: c.secret_file } : {}),
    ...(c.routing_key !== undefined ? { routingKey: c.routing_key } : {}),
    ...(c.routing_key_file !== undefined ? { routingKeyFile: c.routing_key_file } : {}),
    ...(c.api_key !== undefined ? { apiKey: c.api_key } : {}),
    ...(c.api_key_file !== undefined ? { apiKeyFile: c.api_key_file } : {}),
    ...(c.teams_format !== undefined ? { teamsFormat: c.teams_format } : {}),
    ...(c.command !== undefined ? { command: [...c.command] } : {}),
    ...(c.user !== undefined ? { user: { uid: c.user.uid, gid: c.user.gid } } : {}),
    events: [...c.events],
    minSeverity: c.min_severity,
    timeoutMs: c.timeout,
    queueSize: c.queue_size,
    retries: c.retries,
    groupWindowMs: c.group_window,
    dedupWindowMs: c.dedup_window,
    repeatMs: c.repeat ?? 0,
  };
}
