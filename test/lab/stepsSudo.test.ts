import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { Cmd } from './labHelpers';
import { ensureLabUp, labUnavailable, nodeIps, nodeNames, repoRoot, sh, ssh, stateDir } from './labHelpers';

// Chapter 4's root steps on a node logged in as a non-root user with a real sudo (as diagnosticsSudo.test.ts
// does: the legacy lab nodes share this machine's /etc/passwd, /etc/sudoers.d and /usr, and take the lab key
// for every user). docker-node1 is that user with `sudo: true`; docker-node2 stays root. A DROP rule for port 9
// (discard) in docker-node1's own namespace makes its firewall "iptables", so ch4-firewall lists the rules
// (`iptables -S INPUT`: only root sees "-P INPUT"), inserts the lab's ACCEPT rules and checks them with
// `iptables -C` — all marked sudo, none of which works for a plain user. The user, every sudoers file and
// every rule the test makes are removed after.

const user = 'dnlsudosteps';
const password = 'Steps-pw-0815';
const sudoers = `/etc/sudoers.d/${user}`;
const ttyRule = `/etc/sudoers.d/${user}-tty`;
const skip = labUnavailable()
  ?? (!fs.existsSync('/usr/bin/sudo') ? 'needs sudo on this machine (apt-get install sudo): the legacy lab nodes use the host\'s /usr' : undefined)
  ?? (spawnSync('sh', ['-c', 'command -v useradd && command -v chpasswd']).status !== 0 ? 'needs useradd and chpasswd' : undefined)
  ?? (spawnSync('id', [user]).status === 0 ? `a user ${user} exists already: not touching it` : undefined);
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'dnl-sudo-steps-'));
const nodesFile = path.join(work, 'nodes.json');
const [node1] = nodeNames;
const refusal = `sudo refused the password for ${user}@${nodeIps[0]}`;

const rootNodesFile = path.join(work, 'root-nodes.json');

/** `docker-net-lab run <step> --yes` with the test's nodes file; `sudoPassword` undefined = not set at all. */
function run(step: string, sudoPassword: string | undefined, nodes = nodesFile): Cmd {
  const t0 = Date.now();
  const env: NodeJS.ProcessEnv = { ...process.env, DOCKER_NET_LAB_SECRETS_FOR: node1, DOCKER_NET_LAB_PROGRESS: path.join(work, 'progress.json') };
  delete env['DOCKER_NET_LAB_SUDO_PASSWORD'];
  if (sudoPassword !== undefined) { env['DOCKER_NET_LAB_SUDO_PASSWORD'] = sudoPassword; }
  const r = spawnSync(process.execPath, [path.join(repoRoot, 'bin', 'docker-net-lab.js'), 'run', step, '--yes', '--nodes', nodes], { encoding: 'utf8', timeout: 180_000, env });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr, ms: Date.now() - t0 };
}

const dropRule = '-p tcp --dport 9 -m comment --comment dnl-sudo-steps -j DROP';

/** Removes the lab's ACCEPT rules from docker-node1 (as root, like ch4-firewall's cleanup), so the next run inserts them again. */
function removeAcceptRules(): void {
  const r = ssh(nodeIps[0], 'while iptables -D INPUT -p tcp -m multiport --dports 2375,2377,2379,2380,7946 -m comment --comment docker-net-lab -j ACCEPT 2>/dev/null; do :; done; '
    + 'while iptables -D INPUT -p udp -m multiport --dports 4789,7946 -m comment --comment docker-net-lab -j ACCEPT 2>/dev/null; do :; done');
  assert.equal(r.code, 0, r.err);
}

function writeSudoers(file: string, line: string): void {
  fs.writeFileSync(file, `${line}\n`, { mode: 0o440 });
  const c = sh('visudo', ['-cf', file]);
  assert.equal(c.code, 0, `${c.out}${c.err}`);
}

/** ch4-firewall listed, inserted and checked the iptables rules on node1 as root, and passed. */
function assertRootStepPassed(r: Cmd): void {
  const all = `${r.out}\n${r.err}`;
  assert.equal(r.code, 0, all);
  assert.match(r.out, new RegExp(`^\\[${node1}\\]# iptables -S INPUT$`, 'm'), all);
  assert.match(r.out, new RegExp(`^\\[${node1}\\] -P INPUT `, 'm'), `iptables -S INPUT did not run as root on ${node1}:\n${all}`);
  assert.match(r.out, new RegExp(`^\\[${node1}\\]# iptables -I INPUT -p tcp`, 'm'), all);
  assert.match(r.out, new RegExp(`\\[${node1}\\] ok: iptables accepts the lab's ports`), all);
  assert.match(r.out, /^-> PASSED ch4-firewall/m, all);
  assert.ok(!all.includes(password), 'the sudo password shows in the output');
}

describe('chapter 4 root steps through a real sudo on a lab node', { skip }, () => {
  let created = false;
  before(() => {
    ensureLabUp();
    const add = sh('useradd', ['-M', '-d', '/tmp', '-s', '/bin/sh', user]);
    assert.equal(add.code, 0, add.err);
    created = true;
    const pw = spawnSync('chpasswd', [], { input: `${user}:${password}\n`, encoding: 'utf8' });
    assert.equal(pw.status, 0, pw.stderr);
    writeSudoers(sudoers, `${user} ALL=(ALL) ALL`);
    const labNodes = JSON.parse(fs.readFileSync(path.join(stateDir, 'nodes.json'), 'utf8')) as { version: number; nodes: { name: string; facts?: unknown }[] };
    const nodes = labNodes.nodes.map(({ facts: _facts, ...entry }) => (entry.name === node1 ? { ...entry, user, sudo: true } : entry));
    fs.writeFileSync(nodesFile, JSON.stringify({ version: labNodes.version, source: 'user', nodes }, null, 2));
    fs.writeFileSync(rootNodesFile, JSON.stringify({ version: labNodes.version, source: 'user', nodes: labNodes.nodes.map(({ facts: _facts, ...entry }) => entry) }, null, 2));
    // ch4-firewall needs ch4-hostnames, run as root (the same hosts share one progress record): the lab nodes'
    // namespaces keep net.ipv4.ping_group_range at "1 0", so a non-root user cannot ping there
    const h = run('ch4-hostnames', undefined, rootNodesFile);
    assert.equal(h.code, 0, `${h.out}\n${h.err}`);
    const d = ssh(nodeIps[0], `iptables -A INPUT ${dropRule}`);
    assert.equal(d.code, 0, d.err);
  });
  beforeEach(() => { if (created) { removeAcceptRules(); } });
  after(() => {
    try {
      removeAcceptRules();
      ssh(nodeIps[0], `while iptables -D INPUT ${dropRule} 2>/dev/null; do :; done`);
      fs.rmSync(ttyRule, { force: true });
      fs.rmSync(sudoers, { force: true });
      if (created) { sh('userdel', [user]); }
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  });

  it('the right password: the root check runs through sudo and the step verifies', () => {
    const r = run('ch4-firewall', password);
    assertRootStepPassed(r);
    console.log(`# ch4-firewall as ${user} through sudo (password): ${r.ms} ms for the CLI run`);
  });

  it('a wrong password stops with "sudo refused the password for user@host" and exit 1', () => {
    const r = run('ch4-firewall', 'wrong-password');
    const all = `${r.out}\n${r.err}`;
    assert.equal(r.code, 1, all);
    assert.ok(all.includes(`${refusal}.`), all);
    assert.doesNotMatch(r.out, /^-> PASSED/m, all);
  });

  it('no password at all stops with the refusal and says what to set', () => {
    const r = run('ch4-firewall', undefined);
    const all = `${r.out}\n${r.err}`;
    assert.equal(r.code, 1, all);
    assert.ok(all.includes(`${refusal}: no password was given (set DOCKER_NET_LAB_SUDO_PASSWORD).`), all);
  });

  it('NOPASSWD: runs through sudo without any password', () => {
    writeSudoers(sudoers, `${user} ALL=(ALL) NOPASSWD: ALL`);
    try {
      const r = run('ch4-firewall', undefined);
      assertRootStepPassed(r);
    } finally {
      writeSudoers(sudoers, `${user} ALL=(ALL) ALL`);
    }
  });

  it('requiretty: sudo runs in a pseudo-terminal, the password is neither echoed nor shown', () => {
    writeSudoers(ttyRule, `Defaults:${user} requiretty`);
    try {
      const r = run('ch4-firewall', password);
      assertRootStepPassed(r);
    } finally {
      fs.rmSync(ttyRule, { force: true });
    }
  });
});
