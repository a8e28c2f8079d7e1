import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Cmd } from './labHelpers';
import { labUnavailable, nodeNames, repoRoot, sh, stateDir } from './labHelpers';

// A wrong sudo password during `diagnose --state` is an error for that node, with a clear sentence and a
// non-zero exit, never "no known problem". The lab logs in as root, so this test makes a real non-root user
// with a real sudo (the lab's legacy nodes share this machine's /etc/passwd and /usr), logs in to
// docker-node1 as that user with the lab key (the nodes' sshd takes its one authorized_keys file for every
// user), through a nodes file of its own with `sudo: true`. The user and its sudoers entry are removed after.

const user = 'dnlsudotest';
const password = 'Right-pw-4711';
const sudoers = `/etc/sudoers.d/${user}`;
const skip = labUnavailable()
  ?? (!fs.existsSync('/usr/bin/sudo') ? 'needs sudo on this machine (apt-get install sudo): the legacy lab nodes use the host\'s /usr' : undefined)
  ?? (spawnSync('sh', ['-c', 'command -v useradd && command -v chpasswd']).status !== 0 ? 'needs useradd and chpasswd' : undefined)
  ?? (spawnSync('id', [user]).status === 0 ? `a user ${user} exists already: not touching it` : undefined);
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'dnl-sudo-'));
const nodesFile = path.join(work, 'nodes.json');
const [node1] = nodeNames;

function diagnoseState(sudoPassword: string): Cmd {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [path.join(repoRoot, 'bin', 'docker-net-lab.js'), 'diagnose', '--state', '--nodes', nodesFile], {
    encoding: 'utf8', timeout: 120_000, env: { ...process.env, DOCKER_NET_LAB_SUDO_PASSWORD: sudoPassword, DOCKER_NET_LAB_SECRETS_FOR: node1, DOCKER_NET_LAB_PROGRESS: path.join(work, 'progress.json') },
  });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr, ms: Date.now() - t0 };
}

describe('diagnose --state with a real sudo on a lab node', { skip }, () => {
  let created = false;
  before(() => {
    const add = sh('useradd', ['-M', '-d', '/tmp', '-s', '/bin/sh', user]);
    assert.equal(add.code, 0, add.err);
    created = true;
    const pw = spawnSync('chpasswd', [], { input: `${user}:${password}\n`, encoding: 'utf8' });
    assert.equal(pw.status, 0, pw.stderr);
    fs.writeFileSync(sudoers, `${user} ALL=(ALL) ALL\n`, { mode: 0o440 });
    const lab = JSON.parse(fs.readFileSync(path.join(stateDir, 'nodes.json'), 'utf8')) as { version: number; nodes: { name: string; docker?: unknown; facts?: unknown }[] };
    const n1 = lab.nodes.find((n) => n.name === node1);
    assert.ok(n1 !== undefined);
    const { facts: _facts, ...entry } = n1;
    fs.writeFileSync(nodesFile, JSON.stringify({ version: lab.version, source: 'user', nodes: [{ ...entry, user, sudo: true }] }, null, 2));
  });
  after(() => {
    try {
      fs.rmSync(sudoers, { force: true });
      if (created) { sh('userdel', [user]); }
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  });

  it('a wrong sudo password is an error for the node (SudoFailed, exit 1), not "no known problem"', () => {
    const r = diagnoseState('wrong-password');
    const all = `${r.out}\n${r.err}`;
    assert.equal(r.code, 1, all);
    assert.match(r.out, new RegExp(`${node1}: error \\(SudoFailed\\): sudo refused the password for ${user}@`), all);
    assert.doesNotMatch(r.out, /^lab state: no known problem found/m, all);
    assert.match(r.err, /1 node\(s\) could not be checked/, all);
  });

  it('the right sudo password reads the node\'s facts as root (exit 0)', () => {
    const r = diagnoseState(password);
    const all = `${r.out}\n${r.err}`;
    assert.equal(r.code, 0, all);
    assert.match(r.out, new RegExp(`${node1}: Docker 20\\.10`), all);
  });

  it('a user sudo refuses (no sudoers entry) is an error too', () => {
    fs.rmSync(sudoers, { force: true });
    const r = diagnoseState(password);
    assert.equal(r.code, 1, `${r.out}\n${r.err}`);
    assert.match(r.out, /error \(SudoFailed\)/, `${r.out}\n${r.err}`);
  });
});
