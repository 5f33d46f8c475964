/**
 * VRRP bytes carried in UDP (default port 1112), for lvskeep-to-lvskeep pairs where raw sockets are
 * not allowed (containers without CAP_NET_RAW, clouds that drop protocol 112). Not interoperable
 * with keepalived or routers.
 *
 * What this transport cannot see: Node's dgram exposes neither the TTL / hop limit nor the ingress
 * interface of a datagram, so `ttlOrHopLimit` and `ifindex` are null and the RFC 5798 TTL check
 * cannot be applied; nor can a dgram socket be bound to a device (no SO_BINDTODEVICE), so sockets
 * are bound to addresses instead: the send socket to our source, the receive socket to our source
 * (unicast) or to the group (multicast; IPv6 as ff02::12%ifname). Either way the destination of a
 * received datagram is the bound address, so `dst` is reported.
 */
import dgram from 'node:dgram';

import type { Logger } from '../../log/logger.js';
import { silentLogger } from '../../log/logger.js';
import { errorMessage } from '../../util/errors.js';
import { PacketListeners } from './listeners.js';
import { isLinkLocalV6, resolveTransportOptions, stripScope, VRRP_TTL, type TransportOptions } from './options.js';
import { emptyStats, type PacketListener, type TransportStats, type VrrpTransport } from './types.js';

export interface UdpTransportDeps {
  logger?: Logger;
  /** Upper bound on the wait for bind; a socket that never binds is an error, not a hang. */
  bindTimeoutMs?: number;
}

/** A datagram larger than any VRRP packet (max 20 + 16*255 bytes) is not VRRP. */
const MAX_VRRP_BYTES = 4096;

function bindSocket(socket: dgram.Socket, port: number, address: string, timeoutMs: number, place: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.off('error', onError);
      reject(new Error(`${place}: bind ${address}:${port} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    const onError = (err: Error): void => {
      clearTimeout(timer);
      reject(Object.assign(new Error(`${place}: bind ${address}:${port}: ${err.message}`, { cause: err }), { code: (err as { code?: string }).code }));
    };
    socket.once('error', onError);
    socket.bind({ port, address, exclusive: false }, () => {
      clearTimeout(timer);
      socket.off('error', onError);
      resolve();
    });
  });
}

export async function createUdpTransport(options: TransportOptions, deps: UdpTransportDeps = {}): Promise<VrrpTransport> {
  const opts = resolveTransportOptions(options);
  const logger = deps.logger ?? silentLogger();
  const timeoutMs = deps.bindTimeoutMs ?? 5000;
  const place = `udp VRRP transport on ${opts.interface} (IPv${opts.family}, source ${opts.source}, port ${opts.udpPort})`;
  const type = opts.family === 4 ? 'udp4' : 'udp6';
  // Link-local addresses mean nothing without their interface, written "fe80::1%eth0" for Node.
  const scoped = (address: string): string => (opts.family === 6 && isLinkLocalV6(address) ? `${address}%${opts.interface}` : address);
  const stats = emptyStats();
  const listeners = new PacketListeners(stats, logger);

  const sender = dgram.createSocket({ type, reuseAddr: true });
  const receiver = dgram.createSocket({ type, reuseAddr: true });
  const closeBoth = async (): Promise<void> => {
    await Promise.all(
      [sender, receiver].map(
        (s) =>
          new Promise<void>((resolve) => {
            try {
              s.close(() => resolve());
            } catch {
              resolve(); // already closed or never bound
            }
          }),
      ),
    );
  };

  // Binding to the group (IPv6: with our interface as scope, which also ties the socket to the device)
  // means the socket only receives datagrams addressed to the group, so `dst` is known.
  const receiveAddress = opts.mode === 'unicast' ? scoped(opts.source) : opts.family === 4 ? opts.group : `${opts.group}%${opts.interface}`;
  try {
    await bindSocket(sender, 0, scoped(opts.source), timeoutMs, place);
    sender.setTTL(VRRP_TTL);
    if (opts.mode === 'multicast') {
      sender.setMulticastTTL(VRRP_TTL);
      sender.setMulticastLoopback(false);
      sender.setMulticastInterface(opts.family === 4 ? opts.source : `::%${opts.interface}`);
    }
    await bindSocket(receiver, opts.udpPort, receiveAddress, timeoutMs, place);
    if (opts.mode === 'multicast') {
      receiver.addMembership(opts.group, opts.family === 4 ? opts.source : `::%${opts.interface}`);
    }
  } catch (err) {
    await closeBoth();
    throw err instanceof Error && err.message.startsWith(place) ? err : new Error(`${place}: ${errorMessage(err)}`, { cause: err });
  }

  const allowedSources = opts.mode === 'unicast' ? new Set(opts.destinations) : undefined;
  const knownDst = opts.mode === 'unicast' ? opts.source : opts.group;
  const onError = (err: Error): void => {
    stats.dropped['receive-error']++;
    logger.warn({ err: err.message, interface: opts.interface }, 'udp VRRP socket error');
  };
  sender.on('error', onError);
  receiver.on('error', onError);
  receiver.on('message', (msg, rinfo) => {
    stats.received++;
    const src = stripScope(rinfo.address);
    if (msg.length > MAX_VRRP_BYTES) {
      stats.dropped.truncated++;
      return;
    }
    if (allowedSources !== undefined && !allowedSources.has(src)) {
      stats.dropped['unknown-peer']++;
      return;
    }
    if (src === opts.source) return; // our own multicast, if the kernel looped it back anyway
    listeners.deliver({ bytes: msg, src, dst: knownDst, ttlOrHopLimit: null, ifindex: null });
  });

  let closed = false;
  const sendOne = (payload: Buffer, target: string): Promise<void> =>
    new Promise((resolve, reject) => {
      try {
        sender.send(payload, opts.udpPort, scoped(target), (err) => {
          if (err) {
            stats.sendErrors++;
            reject(Object.assign(new Error(`${place}: send to ${target}: ${err.message}`, { cause: err }), { code: (err as { code?: string }).code }));
          } else {
            stats.sent++;
            resolve();
          }
        });
      } catch (err) {
        stats.sendErrors++;
        reject(new Error(`${place}: send to ${target}: ${errorMessage(err)}`, { cause: err }));
      }
    });

  return {
    kind: 'udp',
    async send(bytes: Uint8Array, dest?: string): Promise<void> {
      if (closed) throw new Error(`${place}: send after close`);
      // A copy: the datagram leaves after this call returns, and the caller may reuse its buffer.
      const payload = Buffer.from(bytes);
      const targets = dest === undefined ? opts.destinations : [dest];
      const results = await Promise.allSettled(targets.map((t) => sendOne(payload, t)));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    },
    onPacket(listener: PacketListener): () => void {
      return listeners.add(listener);
    },
    stats(): TransportStats {
      return structuredClone(stats);
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      listeners.clear();
      await closeBoth();
    },
  };
}
