import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Three suites: unit (pure, fast), net (root + namespaces), kernel (run inside the UML guest with real IPVS).
// The TUN real-server test also runs in the kernel suite: the host kernel has no ipip, the UML guest does.
// `forks` everywhere: native addons (netlink, raw sockets) misbehave under worker threads.
// This file lives in test/; paths below are relative to the repository root.
export default defineConfig({
  root: fileURLToPath(new URL('..', import.meta.url)),
  test: {
    pool: 'forks',
    projects: [
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'], pool: 'forks' } },
      { test: { name: 'net', include: ['test/net/**/*.test.ts'], pool: 'forks', testTimeout: 60_000, hookTimeout: 60_000, poolOptions: { forks: { singleFork: true } } } },
      { test: { name: 'kernel', include: ['test/kernel/**/*.test.ts', 'test/net/realserver/tun.test.ts'], pool: 'forks', testTimeout: 300_000, hookTimeout: 120_000, poolOptions: { forks: { singleFork: true } } } },
    ],
  },
});
