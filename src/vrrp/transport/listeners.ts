/** Listener bookkeeping shared by the transports: a throwing listener is counted and logged, never fatal. */
import type { Logger } from '../../log/logger.js';
import { errorMessage } from '../../util/errors.js';
import type { PacketListener, ReceivedVrrpPacket, TransportStats } from './types.js';

export class PacketListeners {
  private readonly listeners = new Set<PacketListener>();

  constructor(
    private readonly stats: TransportStats,
    private readonly logger: Logger,
  ) {}

  add(listener: PacketListener): () => void {
    // Wrap so the same function registered twice gets two independent subscriptions.
    const entry: PacketListener = (p) => listener(p);
    this.listeners.add(entry);
    return () => {
      this.listeners.delete(entry);
    };
  }

  deliver(packet: ReceivedVrrpPacket): void {
    this.stats.delivered++;
    for (const listener of [...this.listeners]) {
      try {
        listener(packet);
      } catch (err) {
        this.stats.dropped['listener-error']++;
        this.logger.error({ err: errorMessage(err), src: packet.src }, 'VRRP packet listener threw');
      }
    }
  }

  clear(): void {
    this.listeners.clear();
  }
}
