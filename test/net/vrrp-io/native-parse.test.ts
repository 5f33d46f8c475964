// Builds test/native/recv_parse_test.c with AddressSanitizer + UBSan and runs it: the datagram and
// control-message parser of the addon on malformed input that a real kernel never delivers. Lives
// with the net suite because it needs a C compiler, like the addon build itself.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';
import { describeIf } from '../../harness/privileges.js';
import { REPO_ROOT } from '../../harness/uml.js';

const run = promisify(execFile);
const NATIVE_C = join(REPO_ROOT, 'src', 'native', 'c');

describeIf({ label: 'net/vrrp-io/native-parse', commands: ['gcc'] })('native recv_parse under sanitizers', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lkio-parse-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('parses IPv4 headers and cmsgs within bounds and flags malformed datagrams', async () => {
    const exe = join(dir, 'recv_parse_test');
    await run(
      'gcc',
      ['-std=gnu11', '-D_GNU_SOURCE', '-Wall', '-Wextra', '-Werror', '-g', '-fsanitize=address,undefined', '-fno-sanitize-recover=all', '-o', exe,
        '-I', NATIVE_C, join(REPO_ROOT, 'test', 'native', 'recv_parse_test.c'), join(NATIVE_C, 'recv_parse.c'), join(NATIVE_C, 'addresses.c')],
      { timeout: 60_000 },
    );
    const { stdout } = await run(exe, [], { timeout: 30_000 });
    expect(stdout).toContain('recv_parse: all checks passed');
  });
});
