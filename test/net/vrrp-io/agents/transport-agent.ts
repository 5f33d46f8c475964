// Runs inside a test namespace (`ip netns exec NS node --import tsx transport-agent.ts '<json>'`):
// sockets can only be opened in a namespace by a process that lives there. Prints one JSON line per
// event on stdout and exits by itself: after `count` packets, or at `timeoutMs` with exit status 3.
import { loadNativeAddon } from '../../../../src/vrrp/transport/native.js';
import { createRawTransport } from '../../../../src/vrrp/transport/raw.js';
import { createUdpTransport } from '../../../../src/vrrp/transport/udp.js';
import type { VrrpTransport } from '../../../../src/vrrp/transport/types.js';

interface AgentArgs {
  /** recv: print received packets; send: send through the transport; send-plain: a bare addon socket with `ttl`. */
  role: 'recv' | 'send' | 'send-plain';
  kind: 'raw' | 'udp';
  family: 4 | 6;
  interface: string;
  source: string;
  peers?: string[];
  udpPort?: number;
  dest?: string;
  ttl?: number;
  count: number;
  intervalMs?: number;
  payloadHex: string;
  timeoutMs: number;
  /** recv: close the transport synchronously inside the listener of the last expected packet. */
  closeInListener?: boolean;
  /** recv: print only a summary, not one line per packet (floods). */
  quiet?: boolean;
}

const args = JSON.parse(process.argv[2] ?? '{}') as AgentArgs;
const emit = (event: object): void => {
  process.stdout.write(`${JSON.stringify(event)}\n`);
};
const hardStop = setTimeout(() => {
  emit({ event: 'timeout' });
  process.exit(3);
}, args.timeoutMs);

async function open(): Promise<VrrpTransport> {
  const options = { family: args.family, interface: args.interface, source: args.source, peers: args.peers, udpPort: args.udpPort };
  return args.kind === 'raw' ? createRawTransport(options) : createUdpTransport(options);
}

async function main(): Promise<void> {
  const payload = Buffer.from(args.payloadHex, 'hex');
  const pause = (): Promise<void> => new Promise((r) => setTimeout(r, args.intervalMs ?? 50));
  if (args.role === 'send-plain') {
    const addon = loadNativeAddon();
    const ifindex = addon.interfaceInfo(args.interface).index;
    const sock = new addon.RawSocket(args.family, 112);
    sock.bindToDevice(args.interface);
    sock.setTtl(args.ttl ?? 64);
    sock.setMulticastInterface(ifindex);
    sock.dropAllInput();
    for (let i = 0; i < args.count; i++) {
      sock.send(payload, args.dest ?? '', args.family === 6 ? ifindex : 0);
      await pause();
    }
    sock.close();
    emit({ event: 'sent', count: args.count });
    return;
  }
  const transport = await open();
  if (args.role === 'send') {
    emit({ event: 'sending' });
    for (let i = 0; i < args.count; i++) {
      await transport.send(payload, args.dest);
      await pause();
    }
    emit({ event: 'sent', count: args.count, stats: transport.stats() });
    await transport.close();
    return;
  }
  let seen = 0;
  await new Promise<void>((resolve) => {
    transport.onPacket((p) => {
      if (!args.quiet) emit({ event: 'packet', hex: p.bytes.toString('hex'), src: p.src, dst: p.dst, ttl: p.ttlOrHopLimit, ifindex: p.ifindex });
      seen += 1;
      if (seen >= args.count) {
        // Closing from inside the native receive callback must neither crash nor deliver more packets.
        if (args.closeInListener) void transport.close();
        resolve();
      }
    });
    emit({ event: 'ready' });
  });
  emit({ event: 'done', seen, stats: transport.stats() });
  await transport.close();
}

main().then(
  () => {
    clearTimeout(hardStop);
  },
  (err: unknown) => {
    emit({ event: 'error', message: err instanceof Error ? err.message : String(err), code: (err as { code?: unknown }).code });
    process.exit(2);
  },
);
