// The sandbox session's process handling, with a shell standing in for util-linux unshare: a
// killed session drops unshare's complaint about the SIGKILL of its child (util-linux#2614), even
// when it comes in several writes, and keeps what else the command printed.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Session } from '../../src/exec/session.js';

describe('Session', () => {
  test("a killed session drops unshare's sigprocmask complaint, written in pieces, and nothing else", async () => {
    const output: string[] = [];
    // Like unshare --fork: a child to be killed, then, when it dies, err()'s three writes, apart.
    const script = [
      'echo run >&3',
      'echo started >&2',
      'sleep 1000 & wait',
      'printf "unshare: " >&2; sleep 0.1',
      'printf "sigprocmask unblock failed" >&2; sleep 0.1',
      'printf ": Invalid argument\\n" >&2',
      'echo "the command\'s last words" >&2',
    ].join('\n');
    const session = new Session({ command: 'sh', args: ['-c', script], env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, onOutput: (chunk) => output.push(chunk.toString('utf8')) });
    assert.deepEqual(await session.next(), { kind: 'line', text: 'run' });
    const started = Date.now();
    while (!output.join('').includes('started\n')) {
      assert.ok(Date.now() - started < 10_000, 'the script started');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    // The shell's child: `sleep`, once it runs.
    await new Promise((resolve) => setTimeout(resolve, 200));
    session.kill();
    await session.wait();
    assert.equal(output.join(''), "started\nthe command's last words\n");
  });
});
