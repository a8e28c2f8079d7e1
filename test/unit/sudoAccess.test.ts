import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifySudoCheck, classifySudoProbe, sudoCommandLine, sudoRefusedCommand, sudoRefusedMessage } from '../../src/core/ssh/sudoAccess';

// What sudo 1.9.13 (Debian 12) printed for a non-root user without a terminal, recorded by hand:
// `sudo -n true` and `sudo -k -S -p '' -- true` with the password on stdin.
const recorded = {
  passwordRequired: 'sudo: a password is required\n',
  requiretty: 'sudo: sorry, you must have a tty to run sudo\n',
  wrongPassword: 'Sorry, try again.\n\nsudo: no password was provided\nsudo: 1 incorrect password attempt\n',
  emptyStdin: '\nsudo: no password was provided\nsudo: a password is required\n',
  notInSudoers: 'dnlsudoprobe is not in the sudoers file.\n',
  noSudo: 'sh: 1: sudo: not found\n',
};

describe('sudo access decisions', () => {
  it('the probe: exit 0 is NOPASSWD, "must have a tty" is requiretty, "a password is required" asks, anything else is no sudo', () => {
    assert.deepEqual(classifySudoProbe({ code: 0, text: '' }), { verdict: 'ok' });
    assert.deepEqual(classifySudoProbe({ code: 1, text: recorded.requiretty }), { verdict: 'tty' });
    assert.deepEqual(classifySudoProbe({ code: 1, text: recorded.passwordRequired }), { verdict: 'password' });
    assert.deepEqual(classifySudoProbe({ code: 127, text: recorded.noSudo }), { verdict: 'unavailable', reason: 'sh: 1: sudo: not found' });
  });

  it('the password check: refused (wrong or empty), not allowed (right password, no rights), or failed with sudo\'s line', () => {
    assert.deepEqual(classifySudoCheck({ code: 0, text: '' }), { verdict: 'ok' });
    assert.deepEqual(classifySudoCheck({ code: 1, text: recorded.wrongPassword }), { verdict: 'refused' });
    assert.deepEqual(classifySudoCheck({ code: 1, text: recorded.emptyStdin }), { verdict: 'refused' });
    assert.deepEqual(classifySudoCheck({ code: 1, text: recorded.notInSudoers }), { verdict: 'not-allowed' });
    assert.deepEqual(classifySudoCheck({ code: 1, text: recorded.requiretty }), { verdict: 'failed', reason: 'sudo: sorry, you must have a tty to run sudo' });
  });

  it('a command\'s own failure is not taken for a refused password', () => {
    assert.equal(sudoRefusedCommand({ code: 1, text: recorded.wrongPassword }), true);
    assert.equal(sudoRefusedCommand({ code: 1, text: 'iptables: Bad rule (does a matching rule exist in that chain?).\n' }), false);
    assert.equal(sudoRefusedCommand({ code: 2, text: recorded.wrongPassword }), false);
    assert.equal(sudoRefusedCommand({ code: 1, text: 'my log says: sudo: 1 incorrect password attempt was seen' }), false);
  });

  it('command lines: -n without a password, -k -S with one; the command quoted for sh -c; the refusal sentence', () => {
    assert.equal(sudoCommandLine("echo 'a b'", { pty: false, password: false }), "sudo -n -- sh -c 'echo '\\''a b'\\'''");
    assert.equal(sudoCommandLine('id -u', { pty: true, password: true }), "sudo -k -S -p '' -- sh -c 'id -u'");
    assert.equal(sudoRefusedMessage('learner', '10.99.0.11'), 'sudo refused the password for learner@10.99.0.11.');
  });
});
