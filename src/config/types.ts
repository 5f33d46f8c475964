/** Types of the validated configuration, as the rest of lvskeep consumes it (durations in ms). */
import type { z } from 'zod';
import type { configSchema } from './schema.js';
import type { checkSchema } from './check-schema.js';
import type { vrrpInstanceSchema, syncGroupSchema } from './vrrp-schema.js';
import type { alertSinkSchema } from './alerts-schema.js';
import type { scheduleSchema } from './schedule-schema.js';

export type LvskeepConfig = z.output<typeof configSchema>;

export type GlobalConfig = LvskeepConfig['global'];
export type DirectorConfig = LvskeepConfig['director'];
export type VrrpConfig = LvskeepConfig['vrrp'];
export type VrrpInstanceConfig = z.output<typeof vrrpInstanceSchema>;
export type VirtualIpConfig = VrrpInstanceConfig['virtual_ips'][number];
export type TrackConfig = VrrpInstanceConfig['track'];
export type TrackScriptConfig = TrackConfig['scripts'][number];
export type VrrpAuthConfig = VrrpInstanceConfig['auth'];
export type GarpConfig = VrrpInstanceConfig['garp'];
export type SyncGroupConfig = z.output<typeof syncGroupSchema>;

export type { VirtualServerConfig, RealServerConfig, ForwardingMethod } from './virtual-server-schema.js';
export type CheckConfig = z.output<typeof checkSchema>;
export type HttpCheckConfig = Extract<CheckConfig, { type: 'http' | 'https' }>;
export type TcpCheckConfig = Extract<CheckConfig, { type: 'tcp' }>;
export type ScriptCheckConfig = Extract<CheckConfig, { type: 'script' }>;
export type DnsCheckConfig = Extract<CheckConfig, { type: 'dns' }>;
export type { StatusRange, Digest } from './check-schema.js';

export type IpvsConfig = LvskeepConfig['ipvs'];
export type BackendConfig = LvskeepConfig['backend'];
export type AlertsConfig = LvskeepConfig['alerts'];
export type AlertSinkConfig = z.output<typeof alertSinkSchema>;
export type { EventType as AlertEventType } from '../events/types.js';
export type ScheduleConfig = z.output<typeof scheduleSchema>;
export type ControlConfig = LvskeepConfig['control'];
export type MetricsConfig = LvskeepConfig['metrics'];
export type LogConfig = LvskeepConfig['log'];

export type { Endpoint, Cidr, Address, Family } from './address.js';
