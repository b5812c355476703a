// Which platforms RUN can run on this machine: native (its architecture, 386 on amd64) or through
// a binfmt_misc handler, matched as the kernel matches it (magic and mask at an offset of an ELF
// header of the architecture) and usable only when enabled with the F flag. Handlers are read from
// a directory laid out as /proc/sys/fs/binfmt_misc with the entries Debian's qemu-user-static
// registers (written by the test into a temp dir; the machine's own binfmt_misc is never written).
// The ELF header caisson makes for amd64 agrees with a real amd64 executable's (/bin/busybox).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { checkRunner, elfHeader, handlerMatches, parseBinfmtHandler, platformRunner } from '../../src/build/binfmt.js';
import { CaissonError } from '../../src/errors.js';

/** The entries Debian's qemu-user-static (binfmt-support) registers, as the kernel shows them. */
const QEMU_AARCH64 = 'enabled\ninterpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\nflags: POCF\noffset 0\nmagic 7f454c460201010000000000000000000200b700\nmask ffffffffffffff00fffffffffffffffffeffffff\n';
const QEMU_ARM = 'enabled\ninterpreter /usr/libexec/qemu-binfmt/arm-binfmt-P\nflags: POCF\noffset 0\nmagic 7f454c4601010100000000000000000002002800\nmask ffffffffffffff00fffffffffffffffffeffffff\n';
const QEMU_S390X = 'enabled\ninterpreter /usr/libexec/qemu-binfmt/s390x-binfmt-P\nflags: POCF\noffset 0\nmagic 7f454c4602020100000000000000000000020016\nmask ffffffffffffff00fffffffffffffffffffeffff\n';
const AMD64 = { os: 'linux', architecture: 'amd64' } as const;
const ARM64 = { os: 'linux', architecture: 'arm64' } as const;

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'caisson-binfmt-test-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function binfmtDir(name: string, entries: Readonly<Record<string, string>>, status = 'enabled'): string {
  const path = join(dir, name);
  mkdirSync(path);
  writeFileSync(join(path, 'status'), `${status}\n`);
  writeFileSync(join(path, 'register'), '');
  for (const [entry, text] of Object.entries(entries)) writeFileSync(join(path, entry), text);
  return path;
}

describe('binfmt_misc', () => {
  test("qemu-user-static's handlers match their architecture's ELF header and no other", () => {
    const aarch64 = parseBinfmtHandler({ name: 'qemu-aarch64', text: QEMU_AARCH64 });
    const arm = parseBinfmtHandler({ name: 'qemu-arm', text: QEMU_ARM });
    const s390x = parseBinfmtHandler({ name: 'qemu-s390x', text: QEMU_S390X });
    assert.ok(aarch64 !== undefined && arm !== undefined && s390x !== undefined);
    assert.equal(aarch64.flags, 'POCF');
    assert.ok(aarch64.enabled);
    for (const [handler, architecture] of [[aarch64, 'arm64'], [arm, 'arm'], [s390x, 's390x']] as const) {
      for (const other of ['amd64', 'arm64', 'arm', 's390x', 'riscv64']) {
        assert.equal(handlerMatches({ handler, header: elfHeader(other) as Buffer }), other === architecture, `${handler.name} on ${other}`);
      }
    }
    assert.equal(parseBinfmtHandler({ name: 'jar', text: 'enabled\ninterpreter /usr/bin/jexec\nflags: \nextension .jar\n' }), undefined, 'extension handlers are not ELF handlers');
    assert.equal(elfHeader('z80'), undefined);
  });

  test('the amd64 ELF header agrees with a real amd64 executable', (t) => {
    if (!existsSync('/bin/busybox') || process.arch !== 'x64') {
      t.skip('needs /bin/busybox on an x86-64 machine');
      return;
    }
    const real = readFileSync('/bin/busybox').subarray(0, 20);
    const made = elfHeader('amd64') as Buffer;
    assert.deepEqual(made.subarray(0, 7), real.subarray(0, 7), 'magic, class, data, version');
    assert.deepEqual(made.subarray(18, 20), real.subarray(18, 20), 'e_machine');
  });

  test('native platforms need no handler; others need an enabled handler with the F flag', async () => {
    assert.deepEqual(await platformRunner({ platform: AMD64, host: AMD64, binfmtDir: join(dir, 'none') }), { kind: 'native' });
    assert.deepEqual(await platformRunner({ platform: { os: 'linux', architecture: '386' }, host: AMD64, binfmtDir: join(dir, 'none') }), { kind: 'native' });
    const none = await platformRunner({ platform: ARM64, host: AMD64, binfmtDir: join(dir, 'none') });
    assert.deepEqual(none, { kind: 'none', reason: 'no binfmt_misc handler for arm64 executables is registered' });
    const good = await platformRunner({ platform: ARM64, host: AMD64, binfmtDir: binfmtDir('good', { 'qemu-aarch64': QEMU_AARCH64, 'qemu-arm': QEMU_ARM }) });
    assert.equal(good.kind, 'emulated');
    assert.equal(good.kind === 'emulated' ? good.handler.name : '', 'qemu-aarch64');
    const noF = await platformRunner({ platform: ARM64, host: AMD64, binfmtDir: binfmtDir('no-f', { 'qemu-aarch64': QEMU_AARCH64.replace('POCF', 'OC') }) });
    assert.equal(noF.kind, 'none');
    assert.match(noF.kind === 'none' ? noF.reason : '', /qemu-aarch64 lacks the F \(fix-binary\) flag, so its interpreter \/usr\/libexec\/qemu-binfmt\/aarch64-binfmt-P would have to be inside the build's root/);
    const disabled = await platformRunner({ platform: ARM64, host: AMD64, binfmtDir: binfmtDir('disabled', { 'qemu-aarch64': QEMU_AARCH64.replace('enabled', 'disabled') }) });
    assert.deepEqual(disabled, { kind: 'none', reason: 'the binfmt_misc handler qemu-aarch64 is disabled' });
    const off = await platformRunner({ platform: ARM64, host: AMD64, binfmtDir: binfmtDir('off', { 'qemu-aarch64': QEMU_AARCH64 }, 'disabled') });
    assert.equal(off.kind, 'none', 'binfmt_misc switched off as a whole');
    const windows = await platformRunner({ platform: { os: 'windows', architecture: 'amd64' }, host: AMD64, binfmtDir: join(dir, 'none') });
    assert.deepEqual(windows, { kind: 'none', reason: 'it is a windows platform and this machine runs linux' });
  });

  test('checkRunner: ERR_BUILD_STEP naming the platform, with the qemu-user-static hint', () => {
    assert.doesNotThrow(() => checkRunner({ platform: AMD64, runner: { kind: 'native' } }));
    try {
      checkRunner({ platform: ARM64, runner: { kind: 'none', reason: 'no binfmt_misc handler for arm64 executables is registered' } });
      assert.fail('expected an error');
    } catch (error) {
      assert.ok(error instanceof CaissonError);
      assert.equal(error.code, 'ERR_BUILD_STEP');
      assert.match(error.message, /^RUN for linux\/arm64 cannot run on this .* machine: no binfmt_misc handler for arm64 executables is registered$/);
      assert.match(error.hint ?? '', /apt-get install qemu-user-static binfmt-support/);
    }
  });
});
