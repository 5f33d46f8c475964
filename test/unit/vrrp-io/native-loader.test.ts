import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadNativeAddon, NATIVE_NOT_BUILT_MESSAGE, NativeAddonUnavailableError, tryLoadNativeAddon } from '../../../src/vrrp/transport/native.js';

const dir = mkdtempSync(join(tmpdir(), 'lvskeep-native-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('native addon loader', () => {
  it('throws the build instruction when the addon file is missing', () => {
    const missing = join(dir, 'nope.node');
    let caught: unknown;
    try {
      loadNativeAddon(missing);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(NativeAddonUnavailableError);
    expect((caught as Error).message).toBe('lvskeep native addon not built or not loadable: build it with `npm run build:native` (needs the Debian packages python3, make and g++)');
    expect((caught as NativeAddonUnavailableError).addonPath).toBe(missing);
    expect((caught as Error).cause).toBeInstanceOf(Error);
    expect(tryLoadNativeAddon(missing)).toBeUndefined();
  });

  it('refuses a file that loads but is not this addon (wrong or stale build)', () => {
    // A CommonJS module stands in for a stale build: it loads, but exports another abiVersion.
    const stale = join(dir, 'stale.cjs');
    writeFileSync(stale, 'module.exports = { abiVersion: 0 };');
    expect(() => loadNativeAddon(stale)).toThrow(NATIVE_NOT_BUILT_MESSAGE);
    try {
      loadNativeAddon(stale);
    } catch (err) {
      expect(String((err as Error).cause)).toMatch(/abiVersion 0, expected 1/);
    }
  });

  it('rejects a corrupt binary as not built rather than crashing', () => {
    const corrupt = join(dir, 'corrupt.node');
    writeFileSync(corrupt, 'not an ELF file');
    expect(() => loadNativeAddon(corrupt)).toThrow(NativeAddonUnavailableError);
  });
});
