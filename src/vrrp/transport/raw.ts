/**
 * VRRP over raw IP protocol 112 through the native addon. Two sockets per instance, as keepalived
 * does: a raw socket bound to an address only receives datagrams addressed to that address, so the
 * send socket (bound to our source, TTL 255, loop off, input discarded) cannot also receive the
 * multicast group; the receive socket stays unbound except to the device.
 */
import type { Logger } from '../../log/logger.js';
import { silentLogger } from '../../log/logger.js';
import { errorMessage } from '../../util/errors.js';
import { PacketListeners } from './listeners.js';
import { loadNativeAddon, type NativeAddon, type NativePacket, type NativeRawSocket } from './native.js';
import { isLinkLocalV6, isMulticast, resolveTransportOptions, VRRP_PROTOCOL, VRRP_TTL, type TransportOptions } from './options.js';
import { filterNativePacket } from './receive-filter.js';
import { emptyStats, type PacketListener, type TransportStats, type VrrpTransport } from './types.js';

export interface RawTransportDeps {
  addon?: NativeAddon;
  logger?: Logger;
}

/** Adds the place to a native error while keeping its errno `code`. */
function annotate(err: unknown, place: string): Error {
  const wrapped = new Error(`${place}: ${errorMessage(err)}`, { cause: err });
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string') Object.assign(wrapped, { code });
  return wrapped;
}

export function createRawTransport(options: TransportOptions, deps: RawTransportDeps = {}): VrrpTransport {
  const opts = resolveTransportOptions(options);
  const addon = deps.addon ?? loadNativeAddon();
  const logger = deps.logger ?? silentLogger();
  const place = `raw VRRP transport on ${opts.interface} (IPv${opts.family}, source ${opts.source})`;
  const stats = emptyStats();
  const listeners = new PacketListeners(stats, logger);

  let ifindex: number;
  try {
    ifindex = addon.interfaceInfo(opts.interface).index;
  } catch (err) {
    throw annotate(err, place);
  }

  const sockets: NativeRawSocket[] = [];
  const closeAll = (): void => {
    for (const s of sockets) s.close();
  };
  let sender: NativeRawSocket;
  let receiver: NativeRawSocket;
  try {
    sender = new addon.RawSocket(opts.family, VRRP_PROTOCOL);
    sockets.push(sender);
    sender.bindToDevice(opts.interface);
    sender.bindAddress(opts.source, opts.family === 6 && isLinkLocalV6(opts.source) ? ifindex : 0);
    sender.setTtl(VRRP_TTL);
    sender.setMulticastLoop(false);
    sender.setMulticastInterface(ifindex);
    sender.dropAllInput();

    receiver = new addon.RawSocket(opts.family, VRRP_PROTOCOL);
    sockets.push(receiver);
    receiver.bindToDevice(opts.interface);
    // Only the groups this socket joined, not every group any process on the host joined.
    receiver.setMulticastAll(false);
    if (opts.mode === 'multicast') receiver.joinGroup(opts.group, ifindex);
  } catch (err) {
    closeAll();
    throw annotate(err, place);
  }

  const allowedSources = opts.mode === 'unicast' ? new Set(opts.destinations) : undefined;
  const onBatch = (err: (Error & { code?: string }) | null, packets: NativePacket[]): void => {
    if (err) {
      stats.dropped['receive-error']++;
      logger.warn({ err: err.message, code: err.code, interface: opts.interface }, 'raw VRRP receive error');
    }
    for (const packet of packets) {
      stats.received++;
      const verdict = filterNativePacket(packet, ifindex, allowedSources);
      if ('drop' in verdict) {
        stats.dropped[verdict.drop]++;
        logger.debug({ reason: verdict.drop, detail: verdict.detail, interface: opts.interface }, 'dropped VRRP datagram');
        continue;
      }
      listeners.deliver(verdict.accept);
    }
  };
  try {
    receiver.startReceiving(onBatch);
  } catch (err) {
    closeAll();
    throw annotate(err, place);
  }

  let closed = false;
  return {
    kind: 'raw',
    send(bytes: Uint8Array, dest?: string): Promise<void> {
      if (closed) return Promise.reject(new Error(`${place}: send after close`));
      const targets = dest === undefined ? opts.destinations : [dest];
      const payload = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      let first: Error | undefined;
      for (const target of targets) {
        // Link-local and multicast IPv6 destinations are only meaningful with our interface as scope.
        const scope = opts.family === 6 && (isLinkLocalV6(target) || isMulticast(target)) ? ifindex : 0;
        try {
          sender.send(payload, target, scope);
          stats.sent++;
        } catch (err) {
          stats.sendErrors++;
          first ??= annotate(err, `${place}: send to ${target}`);
        }
      }
      return first ? Promise.reject(first) : Promise.resolve();
    },
    onPacket(listener: PacketListener): () => void {
      return listeners.add(listener);
    },
    stats(): TransportStats {
      return structuredClone(stats);
    },
    close(): Promise<void> {
      if (!closed) {
        closed = true;
        listeners.clear();
        closeAll();
      }
      return Promise.resolve();
    },
  };
}
