// USER resolution against BuildKit's semantics (its numeric fast path, then moby/sys/user's
// GetExecUser over /etc/passwd and /etc/group), table-driven.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CaissonError } from '../../src/errors.js';
import { resolveUser, type SandboxUser } from '../../src/exec/index.js';

const passwd = [
  'root:x:0:0:root:/root:/bin/sh',
  '# a comment',
  'daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin',
  '',
  'app:x:1000:1000:App:/home/app:/bin/sh',
  'app:x:1005:1005:shadowed duplicate:/:/bin/sh',
  'nogroups:x:1001:100::/home/n:/bin/sh',
  'broken:x:notanumber:7',
].join('\n');

const group = [
  'root:x:0:',
  'wheel:x:10:root,app',
  'users:x:100:',
  'app:x:1000:',
  'docker:x:999:app',
  'audio:x:29:daemon,app',
].join('\n');

const user = (uid: number, gid: number, additionalGids: number[] = []): SandboxUser => ({ uid, gid, additionalGids });

describe('resolveUser', () => {
  const cases: ReadonlyArray<readonly [string, SandboxUser, { readonly passwd?: boolean; readonly group?: boolean }?]> = [
    ['', user(0, 0)],
    ['root', user(0, 0, [10])],
    ['app', user(1000, 1000, [10, 999, 29])],
    ['1000', user(1000, 1000, [10, 999, 29])],
    ['nogroups', user(1001, 100)],
    ['daemon', user(1, 1, [29])],
    ['broken', user(0, 7)],
    ['4242', user(4242, 0)],
    ['4242', user(4242, 0), { passwd: false, group: false }],
    ['app:docker', user(1000, 999)],
    ['app:5', user(1000, 5)],
    ['1000:users', user(1000, 100)],
    ['4242:docker', user(4242, 999)],
    ['1000:1000', user(1000, 1000)],
    ['0:0', user(0, 0)],
    ['root:0', user(0, 0)],
    ['root:root', user(0, 0)],
    ['4242:4343', user(4242, 4343), { passwd: false, group: false }],
    ['4294967294:1', user(4294967294, 1)],
    [':users', user(0, 100)],
    ['app:', user(1000, 1000, [10, 999, 29])],
    ['app:docker:ignored', user(1000, 999)],
  ];
  for (const [spec, expected, files] of cases) {
    const label = `${JSON.stringify(spec)}${files?.passwd === false ? ' without /etc/passwd' : ''}`;
    test(label, () => {
      const found = resolveUser({
        spec,
        ...(files?.passwd === false ? {} : { passwd }),
        ...(files?.group === false ? {} : { group }),
        what: 'Dockerfile:7',
      });
      assert.deepEqual(found, expected);
    });
  }

  const failures: ReadonlyArray<readonly [string, RegExp, { readonly passwd?: boolean }?]> = [
    ['nobody', /^Dockerfile:7: unable to find user nobody: no matching entries in passwd file$/],
    ['root', /^Dockerfile:7: unable to find user root: no matching entries in passwd file$/, { passwd: false }],
    ['app:nogroup', /^Dockerfile:7: unable to find group nogroup: no matching entries in group file$/],
    ['4242:nogroup', /^Dockerfile:7: unable to find group nogroup: no matching entries in group file$/],
    ['3000000000', /uids and gids must be in range 0-2147483647/],
    ['app:3000000000x', /unable to find group 3000000000x/],
  ];
  for (const [spec, pattern, files] of failures) {
    test(`${JSON.stringify(spec)} fails${files?.passwd === false ? ' without /etc/passwd' : ''}`, () => {
      assert.throws(
        () => resolveUser({ spec, ...(files?.passwd === false ? {} : { passwd }), group, what: 'Dockerfile:7' }),
        (error: unknown) => {
          assert.ok(error instanceof CaissonError);
          assert.equal(error.code, 'ERR_BUILD_USER');
          assert.match(error.message, pattern);
          assert.ok(error.hint !== undefined && error.hint.length > 0);
          return true;
        },
      );
    });
  }
});
