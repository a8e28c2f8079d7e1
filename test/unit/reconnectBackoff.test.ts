import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import type { Connection } from 'ssh2';
import { Server } from 'ssh2';
import { isLabError } from '../../src/core/errors';
import type { NodeConfig } from '../../src/core/nodes/nodeConfig';
import { fingerprintOfKey } from '../../src/core/ssh/hostKeys';
import { NodeSession, defaultConnectTimeoutMs, defaultMaxReconnectDelayMs } from '../../src/core/ssh/nodeSession';

// The default reconnect backoff is capped, so that a node that returns after a long outage (a reboot,
// sshd restarted by `lab up`) is reconnected within a few seconds, not after a 16- or 30-s wait.

const PASSWORD = 'Pw-backoff-5521';
let dir = '';
let hostKey = Buffer.alloc(0);
let hostBlob = Buffer.alloc(0);

/** A port on 127.0.0.1 with nothing listening (bound once, then released). */
async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

function sshServer(): Server {
  return new Server({ hostKeys: [hostKey] }, (client: Connection) => {
    client.on('authentication', (ctx) => {
      if (ctx.method === 'password' && ctx.password === PASSWORD) { ctx.accept(); } else { ctx.reject(['password']); }
    });
    client.on('error', () => undefined);
  });
}

function nodeAt(port: number): NodeConfig {
  return { name: 'backoff1', host: '127.0.0.1', port, user: 'learner', auth: 'password', hostKeyFingerprints: [fingerprintOfKey(hostBlob)] };
}

describe('NodeSession reconnect backoff', () => {
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dnl-backoff-'));
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, 'host')]);
    hostKey = fs.readFileSync(path.join(dir, 'host'));
    hostBlob = Buffer.from(fs.readFileSync(path.join(dir, 'host.pub'), 'utf8').split(' ')[1]!, 'base64');
  });
  after(() => { fs.rmSync(dir, { recursive: true, force: true }); });

  it('caps the delay at the default maximum when the policy sets none', async () => {
    const port = await freePort();
    const s = new NodeSession(nodeAt(port), { secrets: { getSecret: () => Promise.resolve(PASSWORD) }, reconnect: { initialDelayMs: 2000 } });
    try {
      await assert.rejects(s.connect(), (e: unknown) => isLabError(e, 'Unreachable'));
      assert.equal(defaultMaxReconnectDelayMs, 3000);
      assert.equal(s.nextReconnectDelayMs(), 3000, 'the doubled delay (4000) is capped');
    } finally { s.dispose(); }
  });

  it('reconnects by itself within the cap after an 8-s outage (default policy)', { timeout: 30_000 }, async () => {
    const port = await freePort();
    const s = new NodeSession(nodeAt(port), { secrets: { getSecret: () => Promise.resolve(PASSWORD) } });
    let server: Server | undefined;
    try {
      const t0 = Date.now();
      await assert.rejects(s.connect(), (e: unknown) => isLabError(e, 'Unreachable'));
      // retries at ~0.5, 1.5, 3.5, 6.5, 9.5 s; without the cap the 5th would wait until ~15.5 s
      await new Promise((r) => setTimeout(r, 8000 - (Date.now() - t0)));
      server = sshServer();
      await new Promise<void>((r) => server!.listen(port, '127.0.0.1', r));
      const up = Date.now();
      const waited = await new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => { off(); reject(new Error(`still ${s.state} ${Date.now() - up} ms after the server returned`)); }, defaultMaxReconnectDelayMs + 1500);
        const off = s.onStateChange((st) => { if (st === 'online') { clearTimeout(timer); off(); resolve(Date.now() - up); } });
        if (s.state === 'online') { clearTimeout(timer); off(); resolve(0); }
      });
      assert.ok(waited <= defaultMaxReconnectDelayMs + 1000, `online ${waited} ms after the server returned`);
    } finally {
      s.dispose();
      await new Promise<void>((r) => { if (server === undefined) { r(); } else { server.close(() => r()); } });
    }
  });

  it('gives up a TCP connect that gets no answer after connectTimeoutMs, and counts that wait toward the backoff', { timeout: 30_000 }, async () => {
    const hole = await blackHole();
    const s = new NodeSession(nodeAt(hole.port), {
      secrets: { getSecret: () => Promise.resolve(PASSWORD) }, connectTimeoutMs: 1000, readyTimeoutMs: 10_000,
      reconnect: { initialDelayMs: 1500, maxDelayMs: 1500 },
    });
    const log: { at: number; state: string }[] = [];
    const off = s.onStateChange((st) => { log.push({ at: Date.now(), state: st }); });
    try {
      const t0 = Date.now();
      await assert.rejects(s.connect(), (e: unknown) => isLabError(e, 'Unreachable') && /did not accept a TCP connection within 1 s/.test(e.message));
      const failedAfter = Date.now() - t0;
      assert.ok(failedAfter >= 900 && failedAfter < 3000, `gave up after ${failedAfter} ms (connect timeout 1 s, handshake timeout 10 s)`);
      const failedAt = Date.now();
      while (log.filter((e) => e.state === 'connecting').length < 2 && Date.now() - failedAt < 5000) { await new Promise((r) => setTimeout(r, 20)); }
      const next = log.filter((e) => e.state === 'connecting')[1];
      assert.ok(next !== undefined, `a second attempt started (states: ${log.map((e) => e.state).join(' ')})`);
      const gap = next.at - failedAt;
      assert.ok(gap < 1100, `the next attempt started ${gap} ms after the failure: 1.5 s backoff less the 1 s already waited`);
      assert.equal(defaultConnectTimeoutMs, 2500);
    } finally {
      off();
      s.dispose();
      hole.stop();
    }
  });
});

/**
 * A listener on 127.0.0.1 that never accepts: a child process listens with a backlog of 1 and then
 * blocks its event loop (for at most 60 s); the accept queue is filled, so further SYNs get no answer,
 * as with a node whose link is down.
 */
async function blackHole(): Promise<{ port: number; stop(): void }> {
  const code = `const net = require('node:net');
const srv = net.createServer();
srv.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
  process.stdout.write(srv.address().port + '\\n');
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60000);
  process.exit(0);
});`;
  const child: ChildProcess = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout?.once('data', (d: Buffer) => { resolve(Number(d.toString().trim())); });
    child.once('exit', () => { reject(new Error('the black-hole listener exited')); });
  });
  const fillers: net.Socket[] = [];
  for (let i = 0; i < 4; i++) { const f = net.connect(port, '127.0.0.1'); f.on('error', () => undefined); fillers.push(f); }
  await new Promise((r) => setTimeout(r, 200));
  return {
    port,
    stop: () => { for (const f of fillers) { f.destroy(); } child.kill('SIGKILL'); },
  };
}
