import { execFile, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import type { Connection } from 'ssh2';
import { Server } from 'ssh2';
import { anchorPid } from '../../lab/labNodeControl';
import { labNodes, labPaths, nodePaths } from '../../lab/labLayout';
import { describeError, isLabError } from '../../src/core/errors';
import type { Logger } from '../../src/core/logger';
import type { NodeConfig } from '../../src/core/nodes/nodeConfig';
import { formatNodesFile } from '../../src/core/nodes/nodesFile';
import type { SecretProvider } from '../../src/core/ssh/nodeSession';
import { fingerprintOfKey } from '../../src/core/ssh/hostKeys';
import { NodeSession } from '../../src/core/ssh/nodeSession';
import { repoRoot } from './labHelpers';

// No secret may leak: a test-owned sshd runs inside node1's namespaces on port 2222 with password login
// for a test user, and NodeSession logs in with the password from a SecretProvider and runs commands,
// one of them through sudo. Every logger line, error message, command output and CLI output is then
// searched for the password, the sudo password, a key passphrase and private-key material.
//
// Least invasive setup: the host's /etc/passwd, /etc/shadow and /etc/group are NOT changed. The test sshd
// runs in its own private mount namespace (unshare -m, inside node1's namespaces) where copies of those
// three files with one extra user are bind-mounted; the namespace, and with it the user, disappears when
// that sshd (stopped by its pid) exits. sudo is not installed on this machine kind, so the stdin path is
// tested with a FAKE sudo: a script named `sudo` first on the PATH of the test sshd's sessions that reads
// the password from stdin exactly like `sudo -S -p ''`, checks it against a hash and runs the command.

const user = 'dnlsecret';
const uid = 60123;
const port = 2222;
const password = `Pw-${randomBytes(9).toString('base64url')}-7q!`;
const sudoPassword = `Sudo-${randomBytes(9).toString('base64url')}-3x#`;
const passphrase = `Pp-${randomBytes(9).toString('base64url')}-1z%`;
let tmp = '';
let sshdPid: number | undefined;
let skipReason: string | undefined;
let fingerprint = '';
const node1 = labNodes[0]!;

function captureLogger(lines: string[]): Logger {
  const w = (m: string): void => { lines.push(m); };
  return { trace: w, debug: w, info: w, warn: w, error: w };
}

function banner(host: string, p: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port: p });
    const done = (ok: boolean): void => { s.destroy(); resolve(ok); };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('data', (d) => done(d.toString().startsWith('SSH-')));
    s.once('error', () => done(false));
  });
}

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

/** Private key material that must never show up: PEM armour and the base64 body lines of the keys used. */
function keyMaterial(): string[] {
  const out = ['PRIVATE KEY-----'];
  for (const f of [path.join(tmp, 'host_key'), path.join(tmp, 'id_pp'), labPaths().keyFile, nodePaths(labPaths(), node1).hostKey]) {
    if (!fs.existsSync(f)) { continue; }
    for (const l of fs.readFileSync(f, 'utf8').split('\n')) {
      if (l.length >= 40 && !l.startsWith('-----')) { out.push(l.trim()); }
    }
  }
  return out;
}

function cmdlines(): string[] {
  const out: string[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) { continue; }
    try { out.push(fs.readFileSync(`/proc/${d}/cmdline`, 'latin1')); } catch { /* gone */ }
  }
  return out;
}

describe('no secrets leak (password login, sudo, passphrase)', () => {
  before(async () => {
    if (process.getuid?.() !== 0) { skipReason = 'needs root (the test sshd runs inside a lab node)'; return; }
    const anchor = anchorPid(nodePaths(labPaths(), node1));
    if (anchor === undefined) { skipReason = 'the local lab is not up (no node1 anchor; run "docker-net-lab lab up")'; return; }
    for (const tool of ['/usr/sbin/sshd', '/usr/bin/openssl', '/usr/bin/unshare', '/usr/bin/nsenter']) {
      if (!fs.existsSync(tool)) { skipReason = `${tool} is missing`; return; }
    }
    if (fs.readFileSync('/etc/passwd', 'utf8').split('\n').some((l) => l.startsWith(`${user}:`) || l.split(':')[2] === String(uid))) {
      skipReason = `user ${user} or uid ${uid} already exists on this machine`; return;
    }
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dnl-secrets-'));
    fs.chmodSync(tmp, 0o755);
    const home = path.join(tmp, 'home');
    const fakeBin = path.join(tmp, 'fakebin');
    fs.mkdirSync(home, { mode: 0o755 });
    fs.chownSync(home, uid, uid);
    fs.mkdirSync(fakeBin, { mode: 0o755 });
    // the password hash is made from stdin, never from a command line
    const hash = execFileSync('openssl', ['passwd', '-6', '-stdin'], { input: `${password}\n`, encoding: 'utf8' }).trim();
    fs.writeFileSync(path.join(tmp, 'passwd'), `${fs.readFileSync('/etc/passwd', 'utf8').trimEnd()}\n${user}:x:${uid}:${uid}:dnl secrets test:${home}:/bin/sh\n`);
    fs.writeFileSync(path.join(tmp, 'shadow'), `${fs.readFileSync('/etc/shadow', 'utf8').trimEnd()}\n${user}:${hash}:19000:0:99999:7:::\n`, { mode: 0o600 });
    fs.writeFileSync(path.join(tmp, 'group'), `${fs.readFileSync('/etc/group', 'utf8').trimEnd()}\n${user}:x:${uid}:\n`);
    const sudoHash = execFileSync('sha256sum', { input: sudoPassword, encoding: 'utf8' }).split(' ')[0]!;
    fs.writeFileSync(path.join(tmp, 'sudo.sha256'), `${sudoHash}\n`, { mode: 0o644 });
    fs.writeFileSync(path.join(fakeBin, 'sudo'), [
      '#!/bin/sh',
      '# FAKE sudo (test only): a sudo that wants a password. "sudo -n ..." answers as sudo does without one; "sudo -k -S -p \'\' -- cmd"',
      '# reads the password from stdin, checks it and runs the command as the same user.',
      '[ "$1" = -n ] && { echo "sudo: a password is required" >&2; exit 1; }',
      '[ "$1" = -k ] && [ "$2" = -S ] && [ "$3" = -p ] && [ "$4" = "" ] && [ "$5" = -- ] || { echo "fake sudo: unexpected arguments" >&2; exit 64; }',
      'shift 5',
      'IFS= read -r pw || exit 1',
      `h=$(printf '%s' "$pw" | sha256sum | cut -d ' ' -f 1)`,
      `[ "$h" = "$(cat ${path.join(tmp, 'sudo.sha256')})" ] || { echo "Sorry, try again." >&2; exit 1; }`,
      'exec "$@"',
      '',
    ].join('\n'), { mode: 0o755 });
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(tmp, 'host_key')]);
    fingerprint = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', path.join(tmp, 'host_key.pub')], { encoding: 'utf8' }).split(' ')[1]!;
    fs.writeFileSync(path.join(tmp, 'sshd_config'), [
      `ListenAddress ${node1.ip}:${port}`, `HostKey ${path.join(tmp, 'host_key')}`, `PidFile ${path.join(tmp, 'sshd.pid')}`,
      'PasswordAuthentication yes', 'KbdInteractiveAuthentication no', 'PubkeyAuthentication no', 'UsePAM no', 'PermitRootLogin no',
      `AllowUsers ${user}`, 'StrictModes no', 'PrintMotd no', `SetEnv PATH=${fakeBin}:/usr/bin:/bin`, '',
    ].join('\n'));
    const script = 'mount --bind "$1/passwd" /etc/passwd && mount --bind "$1/shadow" /etc/shadow && mount --bind "$1/group" /etc/group && exec /usr/sbin/sshd -D -f "$1/sshd_config" -E "$1/sshd.log"';
    const child = spawn('nsenter', ['-t', String(anchor), '-n', '-m', '-u', '--', 'unshare', '-m', '--propagation', 'private', '--', 'sh', '-c', script, 'sh', tmp],
      { stdio: 'ignore', detached: true });
    child.unref();
    sshdPid = child.pid;
    const t0 = Date.now();
    while (Date.now() - t0 < 10_000 && !(await banner(node1.ip, port, 500))) {
      if (sshdPid === undefined || !alive(sshdPid)) { break; }
      await new Promise((r) => setTimeout(r, 100));
    }
    if (!(await banner(node1.ip, port, 1000))) {
      const log = fs.existsSync(path.join(tmp, 'sshd.log')) ? fs.readFileSync(path.join(tmp, 'sshd.log'), 'utf8') : '';
      throw new Error(`the test sshd did not answer on ${node1.ip}:${port}: ${log}`);
    }
  });

  after(async () => {
    if (sshdPid !== undefined && alive(sshdPid)) {
      process.kill(sshdPid, 'SIGTERM');
      for (let i = 0; i < 50 && alive(sshdPid); i++) { await new Promise((r) => setTimeout(r, 100)); }
      if (alive(sshdPid)) { process.kill(sshdPid, 'SIGKILL'); }
    }
    if (tmp !== '') { fs.rmSync(tmp, { recursive: true, force: true }); }
  });

  it('password login + sudo over NodeSession: nothing shows the secrets, not even /proc/*/cmdline during sudo', async (t) => {
    if (skipReason !== undefined) { t.skip(skipReason); return; }
    const config: NodeConfig = { name: 'secrets-node', host: node1.ip, port, user, auth: 'password', sudo: true, hostKeyFingerprints: [fingerprint] };
    const lines: string[] = [];
    const texts: string[] = [];
    const asked: string[] = [];
    const secrets: SecretProvider = { getSecret: (r) => { asked.push(r.kind); return Promise.resolve(r.kind === 'sudo' ? sudoPassword : password); } };
    const session = new NodeSession(config, { reconnect: false, secrets, logger: captureLogger(lines) });
    const cmdlineHits: string[] = [];
    let scans = 0;
    try {
      const who = await session.exec('id -un; echo "$PATH"', { timeoutMs: 15_000 });
      texts.push(who.stdout, who.stderr);
      assert.equal(who.code, 0, who.stderr);
      assert.equal(who.stdout.split('\n')[0], user);
      assert.ok(who.stdout.includes(path.join(tmp, 'fakebin')), `the fake sudo is first on the PATH: ${who.stdout}`);
      // sudo: the password goes to stdin; scan every process command line while the command runs
      let running = true;
      const scanner = (async (): Promise<void> => {
        while (running) {
          for (const c of cmdlines()) { if (c.includes(password) || c.includes(sudoPassword)) { cmdlineHits.push(c.replace(/\0/g, ' ')); } }
          scans++;
          await new Promise((r) => setTimeout(r, 20));
        }
      })();
      const out: string[] = [];
      const r = await session.exec('echo sudo-start; sleep 1.5; echo sudo-ok; echo warn >&2', { sudo: true, timeoutMs: 20_000, onStdout: (s) => out.push(s), onStderr: (s) => out.push(s) });
      running = false;
      await scanner;
      texts.push(r.stdout, r.stderr, ...out);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'sudo-start\nsudo-ok\n');
      assert.deepEqual(asked, ['password', 'sudo']);
      // a wrong sudo password: refused by the (fake) sudo, and the wrong value shows nowhere either
      const wrong = new NodeSession(config, { reconnect: false, logger: captureLogger(lines),
        secrets: { getSecret: (q) => Promise.resolve(q.kind === 'sudo' ? `${sudoPassword}-wrong` : password) } });
      try {
        await assert.rejects(wrong.exec('echo should-not-run', { sudo: true, timeoutMs: 15_000, onStdout: (s) => out.push(s) }), (e: unknown) => {
          assert.ok(isLabError(e, 'SudoFailed'), String(e));
          assert.match(e.message, /sudo refused the password for dnlsecret@/);
          texts.push(e.message, e.fix ?? '', describeError(e.cause));
          return true;
        });
        assert.ok(!out.join('').includes('should-not-run'), 'the command ran although sudo refused the password');
      } finally { wrong.dispose(); }
      // a wrong login password: AuthFailed, neither password in the error
      const bad = new NodeSession(config, { reconnect: false, logger: captureLogger(lines), secrets: { getSecret: () => Promise.resolve(`${password}-bad`) } });
      await assert.rejects(bad.exec('echo x', { timeoutMs: 15_000 }), (e: unknown) => {
        assert.ok(isLabError(e, 'AuthFailed'), String(e));
        texts.push(e.message, e.fix ?? '', describeError(e.cause));
        return true;
      });
      bad.dispose();
    } finally {
      session.dispose();
    }
    assert.ok(scans >= 10, `scanned /proc ${scans} times during the sudo command`);
    assert.deepEqual(cmdlineHits, [], 'a secret appeared on a process command line');
    assert.ok(lines.length >= 3, 'the session logged');
    const all = [...lines, ...texts];
    for (const secret of [password, sudoPassword, `${password}-bad`, `${sudoPassword}-wrong`, ...keyMaterial()]) {
      for (const l of all) { assert.ok(!l.includes(secret), `leak of ${secret.slice(0, 6)}… in: ${l.slice(0, 300)}`); }
    }
  });

  it('the CLI (nodes, tree, debug log on) with secrets from the environment prints none of them, and gives them only to the nodes named', async (t) => {
    if (skipReason !== undefined) { t.skip(skipReason); return; }
    // a foreign host in the same nodes file: an SSH server of this test on 127.0.0.1 that records every
    // password it is sent; DOCKER_NET_LAB_SECRETS_FOR does not name it, so it must receive none
    const received: string[] = [];
    const foreignKey = path.join(tmp, 'foreign_key');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', foreignKey]);
    const foreign = new Server({ hostKeys: [fs.readFileSync(foreignKey)] }, (c: Connection) => {
      c.on('authentication', (ctx) => { if (ctx.method === 'password') { received.push(ctx.password); } ctx.reject(['password']); });
      c.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => foreign.listen(0, '127.0.0.1', resolve));
    t.after(() => { foreign.close(); });
    const foreignPort = (foreign.address() as AddressInfo).port;
    const foreignFp = fingerprintOfKey(Buffer.from(fs.readFileSync(`${foreignKey}.pub`, 'utf8').split(' ')[1]!, 'base64'));
    // a passphrase-protected copy of the lab key for node1:22 next to the password node on :2222
    const keyCopy = path.join(tmp, 'id_pp');
    const labKey = labPaths().keyFile;
    const nodes: NodeConfig[] = [{ name: 'secrets-node', host: node1.ip, port, user, auth: 'password', sudo: true, hostKeyFingerprints: [fingerprint] }];
    if (fs.existsSync(labKey)) {
      fs.copyFileSync(labKey, keyCopy);
      fs.chmodSync(keyCopy, 0o600);
      execFileSync('ssh-keygen', ['-q', '-p', '-P', '', '-N', passphrase, '-f', keyCopy], { stdio: 'ignore' });
      nodes.push({ name: 'pp-node', host: node1.ip, port: 22, user: 'root', auth: 'key', keyFile: keyCopy });
    }
    const named = nodes.map((n) => `${n.user}@${n.host}:${n.port}`).join(',');
    nodes.push({ name: 'foreign-node', host: '127.0.0.1', port: foreignPort, user, auth: 'password', sudo: true, hostKeyFingerprints: [foreignFp] });
    const file = path.join(tmp, 'nodes.json');
    fs.writeFileSync(file, formatNodesFile({ version: 1, source: 'user', nodes }));
    const env = {
      ...process.env, DOCKER_NET_LAB_PASSWORD: password, DOCKER_NET_LAB_SUDO_PASSWORD: sudoPassword, DOCKER_NET_LAB_PASSPHRASE: passphrase,
      DOCKER_NET_LAB_SECRETS_FOR: named, DOCKER_NET_LAB_DEBUG: '1',
    };
    const outputs: string[] = [];
    for (const args of [['nodes', '--nodes', file], ['nodes', '--json', '--nodes', file], ['tree', '--nodes', file]]) {
      const r = await new Promise<{ code: number; out: string }>((resolve) => {
        execFile(process.execPath, [path.join(repoRoot, 'bin', 'docker-net-lab.js'), ...args], { env, timeout: 60_000 }, (err, stdout, stderr) => {
          resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, out: `${stdout}\n${stderr}` });
        });
      });
      outputs.push(r.out);
    }
    assert.match(outputs[0] ?? '', /secrets-node .*reachable/, 'the password login worked');
    if (nodes.some((n) => n.name === 'pp-node')) { assert.match(outputs[0] ?? '', /pp-node .*reachable/, 'the passphrase-protected key was used'); }
    assert.equal(received.length, 0, `the foreign host in the nodes file received ${received.length} password(s)`);
    assert.match(outputs[0] ?? '', /foreign-node .*UNREACHABLE[\s\S]*not named in DOCKER_NET_LAB_SECRETS_FOR/, 'the foreign node was refused with the reason');
    assert.ok(outputs.some((o) => o.includes('[debug]')), 'the debug log was on');
    for (const secret of [password, sudoPassword, passphrase, ...keyMaterial()]) {
      for (const o of outputs) { assert.ok(!o.includes(secret), `CLI output leaks ${secret.slice(0, 6)}…: ${o.slice(0, 500)}`); }
    }
  });
});
