// Short builders for IPVS service and destination specs, shared by the unit and kernel tests.
import type { DestSpec, ServiceKey, ServiceSpec } from '../../src/ipvs/model.js';

export const tcp = (address: string, port: number): ServiceKey => ({ kind: 'addr', family: 4, protocol: 'tcp', address, port });

export const svc = (key: ServiceKey, scheduler: string, extra: Partial<ServiceSpec> = {}): ServiceSpec => ({ key, scheduler, schedulerFlags: [], onePacket: false, ...extra });

export const dest = (address: string, port: number, forwarding: DestSpec['forwarding'], weight: number, extra: Partial<DestSpec> = {}): DestSpec => ({
  family: address.includes(':') ? 6 : 4,
  address,
  port,
  forwarding,
  weight,
  upperThreshold: 0,
  lowerThreshold: 0,
  ...extra,
});
