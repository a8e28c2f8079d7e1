import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import type { Connection } from 'ssh2';
import { Server } from 'ssh2';
import { DockerEngine } from '../../src/core/docker/dockerEngine';
import { isLabError } from '../../src/core/errors';
import type { NodeConfig } from '../../src/core/nodes/nodeConfig';
import { fingerprintOfKey } from '../../src/core/ssh/hostKeys';
import { NodeSession } from '../../src/core/ssh/nodeSession';

// DockerEngine over a real SSH transport: an in-process ssh2 server forwards direct-streamlocal (or
// `docker system dial-stdio` exec) channels to a fake Docker API on a Unix socket that serves the
// recorded fixtures. Proves channel reuse (keep-alive), the dial-stdio fallback and event parsing.
const fixtures = path.resolve(__dirname, '..', '..', '..', 'test', 'unit', 'fixtures', 'docker');
const PW = 'Engine-test-pw-55';
let dir = '';
let sock = '';
let hostBlob = Buffer.alloc(0);
const counts = { streamlocal: 0, dialStdio: 0, requests: 0 };
let api: http.Server;
const servers: Server[] = [];
const ports: Record<'full' | 'nostreamlocal', number> = { full: 0, nostreamlocal: 0 };

function fakeDocker(req: http.IncomingMessage, res: http.ServerResponse): void {
  counts.requests++;
  const p = new URL(req.url ?? '/', 'http://x').pathname;
  const send = (file: string): void => { res.setHeader('content-type', 'application/json'); res.end(fs.readFileSync(path.join(fixtures, file))); };
  if (p.endsWith('/containers/json')) { send('node2-containers.json'); return; }
  if (p.endsWith('/networks')) { send('node2-networks.json'); return; }
  if (p.endsWith('/version')) { res.end(JSON.stringify({ Version: '20.10.24', ApiVersion: '1.41', Os: 'linux', Arch: 'amd64', KernelVersion: '6.1.0' })); return; }
  if (p.endsWith('/containers/nope/json')) { res.statusCode = 404; res.end(JSON.stringify({ message: 'No such container: nope' })); return; }
  if (p.endsWith('/events')) {
    res.setHeader('content-type', 'application/json');
    const lines = fs.readFileSync(path.join(fixtures, 'events.jsonl'), 'utf8');
    res.write(lines.slice(0, 40));
    setTimeout(() => { res.write(lines.slice(40)); }, 20);
    return; // stays open like docker events
  }
  res.statusCode = 404;
  res.end('{"message":"page not found"}');
}

function sshServer(streamlocal: boolean): Server {
  return new Server({ hostKeys: [fs.readFileSync(path.join(dir, 'host'))] }, (client: Connection) => {
    client.on('authentication', (ctx) => { if (ctx.method === 'password' && ctx.password === PW) { ctx.accept(); } else { ctx.reject(['password']); } });
    client.on('ready', () => {
      if (streamlocal) {
        client.on('openssh.streamlocal', (accept, reject, info) => {
          if (!fs.existsSync(info.socketPath)) { reject(); return; } // like sshd: SSH_OPEN_CONNECT_FAILED
          counts.streamlocal++;
          const ch = accept();
          const s = net.connect(info.socketPath);
          ch.pipe(s).pipe(ch);
          s.on('error', () => ch.close());
        });
      }
      client.on('session', (accept) => {
        accept().on('exec', (acc, rej, info) => {
          if (info.command !== 'docker system dial-stdio') { rej(); return; }
          counts.dialStdio++;
          const ch = acc();
          const s = net.connect(sock);
          ch.pipe(s).pipe(ch);
          s.on('close', () => { ch.exit(0); ch.end(); });
        });
      });
    });
    client.on('error', () => undefined);
  });
}

function nodeOn(port: number): NodeConfig {
  return { name: 'fake2', host: '127.0.0.1', port, user: 'root', auth: 'password', hostKeyFingerprints: [fingerprintOfKey(hostBlob)] };
}

describe('DockerEngine over an SSH connection', () => {
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dnl-engine-'));
    sock = path.join(dir, 'docker.sock');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, 'host')]);
    hostBlob = Buffer.from(fs.readFileSync(path.join(dir, 'host.pub'), 'utf8').split(' ')[1]!, 'base64');
    api = http.createServer(fakeDocker);
    await new Promise<void>((r) => api.listen(sock, r));
    for (const kind of ['full', 'nostreamlocal'] as const) {
      const s = sshServer(kind === 'full');
      servers.push(s);
      await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
      ports[kind] = (s.address() as AddressInfo).port;
    }
  });
  after(() => {
    for (const s of servers) { s.close(); }
    api.closeAllConnections();
    api.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('lists containers and networks over streamlocal channels, reusing one channel for sequential calls', async () => {
    const session = new NodeSession(nodeOn(ports.full), { secrets: { getSecret: () => Promise.resolve(PW) }, reconnect: false });
    const engine = new DockerEngine(session.config, session, { socketPath: sock });
    try {
      const before = counts.streamlocal;
      for (let i = 0; i < 5; i++) {
        const cts = await engine.listContainers();
        assert.deepEqual(cts.map((c) => c.name).sort(), ['test2', 'web']);
      }
      assert.equal(counts.streamlocal - before, 1, 'keep-alive: 5 calls, 1 channel');
      assert.equal(engine.transport, 'streamlocal');
      const nets = await engine.listNetworks();
      assert.ok(nets.some((n) => n.name === 'my-overlay' && n.scope === 'global'));
      assert.equal((await engine.version()).apiVersion, '1.41');
      await assert.rejects(engine.inspectContainerRaw('nope'), (e: unknown) => isLabError(e, 'NotFound') && e.message.includes('No such container'));
    } finally {
      engine.dispose();
      session.dispose();
    }
  });

  it('streams parsed events until aborted', async () => {
    const session = new NodeSession(nodeOn(ports.full), { secrets: { getSecret: () => Promise.resolve(PW) }, reconnect: false });
    const engine = new DockerEngine(session.config, session, { socketPath: sock });
    const ac = new AbortController();
    try {
      const got: string[] = [];
      for await (const ev of engine.events(ac.signal)) {
        got.push(`${ev.type}:${ev.action}`);
        if (got.length === 2) { ac.abort(); }
      }
      assert.deepEqual(got, ['container:start', 'network:connect']);
    } finally {
      engine.dispose();
      session.dispose();
    }
  });

  it('falls back to docker system dial-stdio when streamlocal is refused', async () => {
    const session = new NodeSession(nodeOn(ports.nostreamlocal), { secrets: { getSecret: () => Promise.resolve(PW) }, reconnect: false });
    const engine = new DockerEngine(session.config, session, { socketPath: sock });
    try {
      const before = counts.dialStdio;
      assert.equal((await engine.listContainers()).length, 2);
      assert.equal((await engine.listNetworks()).length, 5);
      assert.equal(engine.transport, 'dial-stdio');
      assert.ok(counts.dialStdio - before >= 1);
    } finally {
      engine.dispose();
      session.dispose();
    }
  });

  it('reports a node without a listening Docker socket as DockerUnavailable and keeps streamlocal', async () => {
    const session = new NodeSession(nodeOn(ports.full), { secrets: { getSecret: () => Promise.resolve(PW) }, reconnect: false });
    const engine = new DockerEngine(session.config, session, { socketPath: path.join(dir, 'missing.sock') });
    try {
      await assert.rejects(engine.listContainers(), (e: unknown) => isLabError(e, 'DockerUnavailable') && e.message.includes('missing.sock'));
      assert.equal(engine.transport, 'streamlocal', 'no fallback to dial-stdio for a stopped dockerd');
    } finally {
      engine.dispose();
      session.dispose();
    }
  });
});
