import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import type { Connection, ServerChannel } from 'ssh2';
import { Server } from 'ssh2';
import { isLabError } from '../../src/core/errors';
import type { Logger } from '../../src/core/logger';
import type { NodeConfig } from '../../src/core/nodes/nodeConfig';
import { fingerprintOfKey } from '../../src/core/ssh/hostKeys';
import type { SecretProvider, SecretRequest } from '../../src/core/ssh/nodeSession';
import { NodeSession } from '../../src/core/ssh/nodeSession';
import type { NodesSettingInspection } from '../../src/vscode/nodes/nodeSettings';
import { nodesSettingValue, readNodesConfiguration } from '../../src/vscode/nodes/nodeSettings';

// An in-process ssh2 server on 127.0.0.1 with password auth: exercises the client's host-key check,
// authentication, exec streaming, sudo-through-stdin, timeout and cancel without any real node.
const PASSWORD = 'Pw-secret-7731';
let dir = '';
let port = 0;
let hostBlob = Buffer.alloc(0);
let server: Server;
const seen = { auth: 0, stdins: [] as string[], commands: [] as string[], ptys: [] as string[] };
/** How the fake server's `sudo` behaves (see {@link fakeSudo}). */
const sudoers = { password: PASSWORD, nopasswd: false, requiretty: false };

function captureLogger(lines: string[]): Logger {
  const w = (m: string): void => { lines.push(m); };
  return { trace: w, debug: w, info: w, warn: w, error: w };
}

function node(extra: Partial<NodeConfig> = {}): NodeConfig {
  return { name: 'fake1', host: '127.0.0.1', port, user: 'learner', auth: 'password', hostKeyFingerprints: [fingerprintOfKey(hostBlob)], ...extra };
}

const secrets = (pw: string, asked: string[] = []): SecretProvider => ({
  getSecret: (r) => { asked.push(r.kind); return Promise.resolve(pw); },
});

/**
 * Answers the commands NodeSession sends to sudo as sudo 1.9 does (its real messages), by {@link sudoers}:
 * `sudo -n true`, `sudo -k -S -p '' -- true|sh -c …` (the password is the first line of stdin) and `sudo -n -- sh -c …`.
 * Returns false for any other command. In a pseudo-terminal the input never ends: it answers after the first line.
 */
function fakeSudo(ch: ServerChannel, command: string, pty: boolean): boolean {
  const m = /^sudo (-n|-k -S -p '') (?:-- )?(true|sh -c (.*))$/s.exec(command);
  if (m === null) { return false; }
  const end = (out: string, err: string, code: number): void => {
    if (out !== '') { ch.write(out); }
    if (err !== '') { (pty ? ch : ch.stderr).write(err); }
    ch.exit(code);
    ch.end();
  };
  const answer = (input: string): void => {
    seen.stdins.push(input);
    if (sudoers.requiretty && !pty) { end('', 'sudo: sorry, you must have a tty to run sudo\n', 1); return; }
    const nl = input.indexOf('\n');
    if (m[1] === '-n') {
      if (!sudoers.nopasswd) { end('', 'sudo: a password is required\n', 1); return; }
    } else if (input.slice(0, nl < 0 ? input.length : nl) !== sudoers.password) {
      end('', nl < 0 ? 'sudo: no password was provided\nsudo: a password is required\n' : 'Sorry, try again.\nsudo: no password was provided\nsudo: 1 incorrect password attempt\n', 1);
      return;
    }
    const rest = m[1] === '-n' ? input : input.slice(nl + 1);
    end(m[2] === 'true' ? '' : `root ran: ${m[3] ?? ''}\nstdin: ${rest}\n`, '', 0);
  };
  let input = '';
  let answered = false;
  const once = (): void => { if (!answered) { answered = true; answer(input); } };
  ch.on('data', (d: Buffer) => { input += d.toString('utf8'); if (pty && input.includes('\n')) { once(); } });
  ch.on('end', once);
  // sudo -n reads nothing: in a terminal it answers at once
  if (pty && m[1] === '-n') { setImmediate(once); }
  return true;
}

function handleExec(ch: ServerChannel, command: string, pty = false): void {
  seen.commands.push(command);
  if (pty) { seen.ptys.push(command); }
  if (fakeSudo(ch, command, pty)) { return; }
  let input = '';
  ch.on('data', (d: Buffer) => { input += d.toString('utf8'); });
  const reply = (): void => {
    seen.stdins.push(input);
    if (command === 'greet') {
      ch.write('h\u00e9llo\n');
      ch.stderr.write('a warning\n');
      ch.exit(3);
      ch.end();
    } else if (command === 'echo-secret-split') {
      // the password in two packets on stdout and on stderr, as a command that echoes it might send it
      const half = Math.floor(PASSWORD.length / 2);
      ch.write(`pw=${PASSWORD.slice(0, half)}`);
      ch.stderr.write(`err ${PASSWORD.slice(0, half)}`);
      setTimeout(() => {
        ch.write(`${PASSWORD.slice(half)} end\n`);
        ch.stderr.write(`${PASSWORD.slice(half)}\n`);
        ch.exit(0);
        ch.end();
      }, 50);
    } else if (command !== 'hang') {
      ch.write(`ran: ${command}\n`);
      ch.exit(0);
      ch.end();
    }
  };
  ch.on('end', reply);
}

describe('NodeSession against an in-process SSH server', () => {
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dnl-session-'));
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, 'host')]);
    hostBlob = Buffer.from(fs.readFileSync(path.join(dir, 'host.pub'), 'utf8').split(' ')[1]!, 'base64');
    server = new Server({ hostKeys: [fs.readFileSync(path.join(dir, 'host'))] }, (client: Connection) => {
      client.on('authentication', (ctx) => {
        seen.auth++;
        if (ctx.username === 'pamuser') {
          // a PAM-style server: password only through keyboard-interactive
          if (ctx.method === 'keyboard-interactive') {
            ctx.prompt([{ prompt: 'Password: ', echo: false }], (answers) => { if (answers[0] === PASSWORD) { ctx.accept(); } else { ctx.reject(); } });
          } else { ctx.reject(['keyboard-interactive']); }
          return;
        }
        if (ctx.method === 'password' && ctx.username === 'learner' && ctx.password === PASSWORD) { ctx.accept(); } else { ctx.reject(['password']); }
      });
      client.on('ready', () => {
        client.on('session', (accept) => {
          const session = accept();
          let pty = false;
          session.on('pty', (acc) => { pty = true; acc(); });
          session.on('exec', (acc, _rej, info) => { handleExec(acc(), info.command, pty); });
        });
      });
      client.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(() => {
    server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('runs a command: streamed UTF-8 stdout/stderr and the exit code; the password never reaches a log', async () => {
    const lines: string[] = [];
    const s = new NodeSession(node(), { secrets: secrets(PASSWORD), logger: captureLogger(lines), reconnect: false });
    const states: string[] = [];
    s.onStateChange((st) => states.push(st));
    try {
      const chunks: string[] = [];
      const r = await s.exec('greet', { onStdout: (c) => chunks.push(c) });
      assert.equal(r.code, 3);
      assert.equal(r.stdout, 'h\u00e9llo\n');
      assert.equal(r.stderr, 'a warning\n');
      assert.equal(chunks.join(''), 'h\u00e9llo\n');
      assert.deepEqual(states, ['connecting', 'online']);
      assert.ok(lines.length > 0);
      assert.ok(lines.every((l) => !l.includes(PASSWORD)));
    } finally { s.dispose(); }
  });

  it('redacts stdout and stderr as whole streams: a password split across two packets is masked in the chunks and the result', async () => {
    const s = new NodeSession(node(), { secrets: secrets(PASSWORD), reconnect: false });
    try {
      const out: string[] = [];
      const err: string[] = [];
      const r = await s.exec('echo-secret-split', { onStdout: (c) => out.push(c), onStderr: (c) => err.push(c) });
      assert.equal(r.code, 0);
      assert.equal(r.stdout, 'pw=*** end\n');
      assert.equal(r.stderr, 'err ***\n');
      assert.equal(out.join(''), r.stdout);
      assert.equal(err.join(''), r.stderr);
      for (const c of [...out, ...err]) { assert.ok(!c.includes(PASSWORD.slice(0, 4)), `a chunk shows part of the password: ${c}`); }
    } finally { s.dispose(); }
  });

  it('asks for secrets bound to the target: user, host, port and the fingerprint of the accepted host key (login and sudo)', async () => {
    const requests: SecretRequest[] = [];
    const s = new NodeSession(node({ sudo: true }), { secrets: { getSecret: (r) => { requests.push(r); return Promise.resolve(PASSWORD); } }, reconnect: false });
    try {
      assert.equal((await s.exec('x', { sudo: true })).code, 0);
    } finally { s.dispose(); }
    assert.deepEqual(requests.map((r) => [r.kind, r.user, r.host, r.port, r.hostKeyFingerprint]), [
      ['password', 'learner', '127.0.0.1', port, fingerprintOfKey(hostBlob)],
      ['sudo', 'learner', '127.0.0.1', port, fingerprintOfKey(hostBlob)],
    ]);
  });

  it('a hostKeyFingerprints pin from the workspace settings does not make the key accepted without the prompt; the same pin in user settings does', async () => {
    const entry = { name: 'pinned', host: '127.0.0.1', port, user: 'learner', auth: 'password', hostKeyFingerprints: [fingerprintOfKey(hostBlob)] };
    const configOf = (inspected: NodesSettingInspection, trusted: boolean): NodeConfig => {
      const { value, scope } = nodesSettingValue(inspected, trusted);
      const c = readNodesConfiguration(value, undefined, scope).nodes[0]?.config;
      assert.ok(c !== undefined);
      return c;
    };
    const connect = async (config: NodeConfig): Promise<{ prompts: number; asked: string[]; error?: unknown }> => {
      let prompts = 0;
      const asked: string[] = [];
      const s = new NodeSession(config, {
        secrets: secrets(PASSWORD, asked), knownHostsFiles: [path.join(dir, 'none')], reconnect: false,
        hostKeyPrompt: () => { prompts++; return Promise.resolve(false); },
      });
      try { await s.exec('x'); return { prompts, asked }; } catch (error) { return { prompts, asked, error }; } finally { s.dispose(); }
    };
    const fromWorkspace = await connect(configOf({ globalValue: [], workspaceValue: [entry] }, true));
    assert.equal(fromWorkspace.prompts, 1, 'the workspace pin accepted the key without asking');
    assert.ok(isLabError(fromWorkspace.error, 'HostKeyRejected'), String(fromWorkspace.error));
    assert.deepEqual(fromWorkspace.asked, [], 'a secret was asked for a key the user refused');
    const fromFolder = await connect(configOf({ globalValue: [entry], workspaceFolderValue: [entry] }, true));
    assert.equal(fromFolder.prompts, 1, 'the folder pin accepted the key without asking');
    const fromUser = await connect(configOf({ globalValue: [entry] }, true));
    assert.equal(fromUser.prompts, 0, 'the user pin was not trusted');
    assert.equal(fromUser.error, undefined);
    // an untrusted workspace's own value is not read at all: the user's node is the one in effect
    assert.deepEqual(nodesSettingValue({ globalValue: [entry], workspaceValue: [{ ...entry, host: 'evil' }] }, false), { value: [entry], scope: 'user' });
  });

  it('refuses an unknown host key before authenticating, naming the fingerprint', async () => {
    const before = seen.auth;
    const asked: string[] = [];
    const s = new NodeSession(node({ hostKeyFingerprints: undefined }), { secrets: secrets(PASSWORD, asked), knownHostsFiles: [path.join(dir, 'none')], reconnect: false });
    await assert.rejects(s.exec('greet'), (e: unknown) => {
      assert.ok(isLabError(e, 'HostKeyUnknown'));
      assert.ok(e.message.includes(fingerprintOfKey(hostBlob)));
      return true;
    });
    assert.equal(seen.auth, before, 'no authentication attempt reached the server');
    assert.deepEqual(asked, [], 'no password was asked for an unverified host');
    s.dispose();
  });

  it('asks the prompt about an unknown key and saves it to known_hosts when accepted', async () => {
    const kh = path.join(dir, 'known_hosts');
    const asked: string[] = [];
    const s = new NodeSession(node({ hostKeyFingerprints: undefined }), {
      secrets: secrets(PASSWORD), knownHostsFiles: [kh], saveAcceptedKeysTo: kh, reconnect: false,
      hostKeyPrompt: (info) => { asked.push(info.fingerprint); return Promise.resolve(true); },
    });
    try {
      const r = await s.exec('x');
      assert.equal(r.code, 0);
      assert.deepEqual(asked, [fingerprintOfKey(hostBlob)]);
      assert.match(fs.readFileSync(kh, 'utf8'), new RegExp(`^\\[127\\.0\\.0\\.1\\]:${port} ssh-ed25519 `));
    } finally { s.dispose(); }
    // the next session trusts it without asking
    const s2 = new NodeSession(node({ hostKeyFingerprints: undefined }), { secrets: secrets(PASSWORD), knownHostsFiles: [kh], reconnect: false,
      hostKeyPrompt: () => Promise.reject(new Error('must not ask')) });
    try { assert.equal((await s2.exec('y')).code, 0); } finally { s2.dispose(); }
  });

  it('refuses a changed host key with the file, line and the ssh-keygen -R fix', async () => {
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, 'other')]);
    const other = fs.readFileSync(path.join(dir, 'other.pub'), 'utf8').split(' ');
    const kh = path.join(dir, 'known_hosts_changed');
    fs.writeFileSync(kh, `# first line\n[127.0.0.1]:${port} ${other[0]} ${other[1]}\n`);
    const before = seen.auth;
    const s = new NodeSession(node({ hostKeyFingerprints: undefined }), { secrets: secrets(PASSWORD), knownHostsFiles: [kh], reconnect: false });
    await assert.rejects(s.connect(), (e: unknown) => {
      assert.ok(isLabError(e, 'HostKeyChanged'));
      assert.ok(e.message.includes(`${kh} line 2`));
      assert.ok(e.message.includes(fingerprintOfKey(hostBlob)));
      assert.ok(e.fix?.includes(`ssh-keygen -R [127.0.0.1]:${port} -f ${kh}`));
      return true;
    });
    assert.equal(seen.auth, before);
    assert.equal(s.state, 'offline');
    s.dispose();
  });

  it('reports a wrong password as AuthFailed naming user@host, without the password', async () => {
    const lines: string[] = [];
    const wrong = 'Wrong-pass-9911';
    const s = new NodeSession(node(), { secrets: secrets(wrong), logger: captureLogger(lines), reconnect: false });
    await assert.rejects(s.connect(), (e: unknown) => {
      assert.ok(isLabError(e, 'AuthFailed'));
      assert.ok(e.message.includes('learner@127.0.0.1'));
      assert.ok(!e.message.includes(wrong) && !(e.fix ?? '').includes(wrong));
      return true;
    });
    assert.ok(lines.every((l) => !l.includes(wrong)));
    s.dispose();
  });

  describe('sudo', () => {
    const reset = (extra: Partial<typeof sudoers> = {}): void => {
      Object.assign(sudoers, { password: PASSWORD, nopasswd: false, requiretty: false }, extra);
      seen.commands.length = 0;
      seen.ptys.length = 0;
    };
    const provider = (list: SecretRequest[], answers: (string | undefined)[]): SecretProvider => ({
      getSecret: (r) => { list.push(r); return Promise.resolve(r.kind === 'password' ? PASSWORD : answers.shift()); },
    });
    const sudoRetries = (list: SecretRequest[]): (boolean | undefined)[] => list.filter((r) => r.kind === 'sudo').map((r) => r.retry);
    const quoted = "'docker ps --format '\\''{{.Names}}'\\'''";

    it('without a tty: asks once, checks the password, then writes it to stdin, never onto the command line', async () => {
      reset();
      const asked: SecretRequest[] = [];
      const s = new NodeSession(node({ sudo: true }), { secrets: provider(asked, [PASSWORD]), reconnect: false });
      try {
        const r = await s.exec("docker ps --format '{{.Names}}'", { sudo: true, stdin: 'payload' });
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout, `root ran: ${quoted}\nstdin: payload\n`);
        assert.deepEqual(seen.commands, ['sudo -n true', "sudo -k -S -p '' -- true", `sudo -k -S -p '' -- sh -c ${quoted}`]);
        assert.ok(seen.commands.every((c) => !c.includes(PASSWORD)));
        assert.equal(seen.stdins.at(-1), `${PASSWORD}\npayload`);
        assert.equal((await s.exec('id -u', { sudo: true })).code, 0);
        assert.equal(seen.commands.length, 4, 'the second command neither probes nor checks again');
        assert.deepEqual(sudoRetries(asked), [undefined]);
        assert.deepEqual(seen.ptys, []);
        assert.equal((await s.exec('whoami')).stdout, 'ran: whoami\n');
      } finally { s.dispose(); }
    });

    it('NOPASSWD (sudo -n true works): never asks for a password', async () => {
      reset({ nopasswd: true });
      const asked: SecretRequest[] = [];
      const s = new NodeSession(node({ sudo: true }), { secrets: provider(asked, []), reconnect: false });
      try {
        const r = await s.exec('id -u', { sudo: true, stdin: 'x' });
        assert.equal(r.code, 0, r.stderr);
        assert.deepEqual(seen.commands, ['sudo -n true', "sudo -n -- sh -c 'id -u'"]);
        assert.equal(r.stdout, "root ran: 'id -u'\nstdin: x\n");
        assert.deepEqual(sudoRetries(asked), []);
      } finally { s.dispose(); }
    });

    it('a wrong password is asked again once (retry); a second wrong one stops with "sudo refused the password for user@host"', async () => {
      reset();
      const asked: SecretRequest[] = [];
      const s = new NodeSession(node({ sudo: true }), { secrets: provider(asked, ['wrong-1', PASSWORD]), reconnect: false });
      try {
        assert.equal((await s.exec('id -u', { sudo: true })).code, 0);
        assert.deepEqual(sudoRetries(asked), [undefined, true]);
      } finally { s.dispose(); }
      reset();
      const asked2: SecretRequest[] = [];
      const s2 = new NodeSession(node({ sudo: true }), { secrets: provider(asked2, ['wrong-1', 'wrong-2']), reconnect: false });
      try {
        await assert.rejects(s2.exec('id -u', { sudo: true }),
          (e: unknown) => isLabError(e, 'SudoFailed') && e.message === 'sudo refused the password for learner@127.0.0.1.');
        assert.deepEqual(sudoRetries(asked2), [undefined, true]);
        assert.ok(!seen.commands.some((c) => c.includes('id -u')), 'the command did not run');
      } finally { s2.dispose(); }
    });

    it('no password (the provider gives none) stops with the refusal and runs nothing', async () => {
      reset();
      const s = new NodeSession(node({ sudo: true }), { secrets: provider([], [undefined]), reconnect: false });
      try {
        await assert.rejects(s.exec('id -u', { sudo: true }),
          (e: unknown) => isLabError(e, 'SudoFailed') && e.message === 'sudo refused the password for learner@127.0.0.1: no password was given.');
        assert.deepEqual(seen.commands, ['sudo -n true']);
      } finally { s.dispose(); }
    });

    it('requiretty: probes again in a pseudo-terminal and runs sudo there; stdin cannot go through it', async () => {
      reset({ requiretty: true });
      const lines: string[] = [];
      const s = new NodeSession(node({ sudo: true }), { secrets: provider([], [PASSWORD]), reconnect: false, logger: captureLogger(lines) });
      try {
        const r = await s.exec('id -u', { sudo: true });
        assert.equal(r.code, 0, r.stdout);
        assert.match(r.stdout, /^root ran: 'id -u'$/m);
        assert.deepEqual(seen.commands, ['sudo -n true', 'sudo -n true', "sudo -k -S -p '' -- true", "sudo -k -S -p '' -- sh -c 'id -u'"]);
        assert.deepEqual(seen.ptys, seen.commands.slice(1));
        await assert.rejects(s.exec('cat > f', { sudo: true, stdin: 'data' }), (e: unknown) => isLabError(e, 'NotSupported'));
        assert.ok(lines.every((l) => !l.includes(PASSWORD)));
      } finally { s.dispose(); }
    });

    it('a root login and a node without sudo run the command as it is', async () => {
      reset();
      for (const n of [node({ sudo: false }), node({ sudo: true, user: 'root' })]) {
        seen.commands.length = 0;
        const s = new NodeSession(n, { secrets: provider([], []), reconnect: false });
        try {
          await s.exec('id -u', { sudo: true }).catch(() => undefined);
          assert.ok(!seen.commands.some((c) => c.startsWith('sudo')), seen.commands.join('\n'));
        } finally { s.dispose(); }
      }
    });
  });

  it('times out and cancels commands', async () => {
    const s = new NodeSession(node(), { secrets: secrets(PASSWORD), reconnect: false });
    try {
      await assert.rejects(s.exec('hang', { timeoutMs: 200 }), (e: unknown) => isLabError(e, 'Timeout'));
      const ac = new AbortController();
      const p = s.exec('hang', { signal: ac.signal });
      setTimeout(() => ac.abort(), 100);
      await assert.rejects(p, (e: unknown) => isLabError(e, 'Cancelled'));
      // the session is still usable
      assert.equal((await s.exec('ok')).code, 0);
    } finally { s.dispose(); }
  });

  it('names host:port when nothing listens (without asking for the password), and backs off exponentially between retries', async () => {
    const closed = port + 1 === 65536 ? port - 1 : port + 1;
    const asked: string[] = [];
    const s = new NodeSession(node({ port: closed }), { secrets: secrets(PASSWORD, asked), reconnect: { initialDelayMs: 60_000, maxDelayMs: 200_000 } });
    await assert.rejects(s.connect(), (e: unknown) => {
      assert.ok(isLabError(e, 'Unreachable'));
      assert.ok(e.message.includes(`127.0.0.1:${closed}`));
      return true;
    });
    assert.equal(s.nextReconnectDelayMs(), 120_000, 'second retry waits twice as long');
    assert.deepEqual(asked, []);
    s.dispose();
    await assert.rejects(s.connect(), (e: unknown) => isLabError(e, 'Cancelled'));
  });

  it('does not time out while the user reads the host-key prompt, but does when the server stays silent', async () => {
    const slowPrompt = new NodeSession(node({ hostKeyFingerprints: undefined }), {
      secrets: secrets(PASSWORD), knownHostsFiles: [path.join(dir, 'none')], reconnect: false, readyTimeoutMs: 300,
      hostKeyPrompt: () => new Promise((r) => setTimeout(() => r(true), 700)),
    });
    try { assert.equal((await slowPrompt.exec('x')).code, 0); } finally { slowPrompt.dispose(); }
    const silent = net.createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const silentPort = (silent.address() as AddressInfo).port;
    const s = new NodeSession(node({ port: silentPort }), { secrets: secrets(PASSWORD), reconnect: false, readyTimeoutMs: 300 });
    const t0 = Date.now();
    try {
      await assert.rejects(s.connect(), (e: unknown) => isLabError(e, 'Unreachable') && e.message.includes('did not answer'));
      assert.ok(Date.now() - t0 < 2000);
    } finally {
      s.dispose();
      silent.close();
    }
  });

  it('answers keyboard-interactive password prompts when the server offers only that', async () => {
    const asked: string[] = [];
    const s = new NodeSession(node({ user: 'pamuser' }), { secrets: secrets(PASSWORD, asked), reconnect: false });
    try {
      assert.equal((await s.exec('x')).code, 0);
      assert.deepEqual(asked, ['password']);
    } finally { s.dispose(); }
  });
});
