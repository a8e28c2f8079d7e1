import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import type { Connection } from 'ssh2';
import { Server } from 'ssh2';
import { nodesCommand, parseSecretsFor } from '../../src/cli/commands/nodes';
import type { CliIo } from '../../src/cli/cliIo';
import { isLabError } from '../../src/core/errors';
import type { NodeConfig } from '../../src/core/nodes/nodeConfig';
import { formatNodesFile } from '../../src/core/nodes/nodesFile';
import { fingerprintOfKey } from '../../src/core/ssh/hostKeys';

// The CLI's environment secrets go only to the nodes the user names in DOCKER_NET_LAB_SECRETS_FOR.
// Two in-process SSH servers on 127.0.0.1 record every password they are sent: one is the node the
// user names, the other a "foreign" host in the same nodes file; `docker-net-lab nodes` runs in-process.

const password = `Env-${randomBytes(8).toString('hex')}`;
let dir = '';
let fingerprint = '';
const servers: { server: Server; port: number; passwords: string[] }[] = [];

async function startServer(hostKey: Buffer): Promise<{ server: Server; port: number; passwords: string[] }> {
  const passwords: string[] = [];
  const server = new Server({ hostKeys: [hostKey] }, (client: Connection) => {
    client.on('authentication', (ctx) => {
      if (ctx.method === 'password') { passwords.push(ctx.password); }
      if (ctx.method === 'password' && ctx.password === password) { ctx.accept(); } else { ctx.reject(['password']); }
    });
    client.on('ready', () => { client.on('session', (accept) => { accept().on('exec', (acc) => { const ch = acc(); ch.exit(1); ch.end(); }); }); });
    client.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, passwords };
}

async function runNodes(env: Record<string, string>): Promise<{ code: number; out: string; json: { nodes: { name: string; reachable: boolean; error?: { code: string; message: string; fix?: string } }[] } }> {
  const nodes: NodeConfig[] = servers.map((s, i) => ({
    name: i === 0 ? 'mine' : 'foreign', host: '127.0.0.1', port: s.port, user: 'learner', auth: 'password', hostKeyFingerprints: [fingerprint],
  }));
  const file = path.join(dir, 'nodes.json');
  fs.writeFileSync(file, formatNodesFile({ version: 1, source: 'user', nodes }));
  let out = '';
  const io: CliIo = { out: (t) => { out += t; }, err: (t) => { out += t; }, env, signal: new AbortController().signal };
  const code = await nodesCommand.run(['--json', '--nodes', file, '--timeout', '5000'], io);
  return { code, out, json: JSON.parse(out) as never };
}

describe('CLI environment secrets only for the named nodes', () => {
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dnl-secrets-for-'));
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, 'host')]);
    fingerprint = fingerprintOfKey(Buffer.from(fs.readFileSync(path.join(dir, 'host.pub'), 'utf8').split(' ')[1]!, 'base64'));
    const key = fs.readFileSync(path.join(dir, 'host'));
    servers.push(await startServer(key), await startServer(key));
  });
  after(() => {
    for (const s of servers) { s.server.close(); }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('sends DOCKER_NET_LAB_PASSWORD to the node named by user@host:port and not to the foreign host of the same nodes file', async () => {
    const [mine, foreign] = servers;
    const r = await runNodes({ DOCKER_NET_LAB_PASSWORD: password, DOCKER_NET_LAB_SECRETS_FOR: `learner@127.0.0.1:${mine!.port}` });
    assert.deepEqual(mine!.passwords, [password], 'the named node did not get the password');
    assert.deepEqual(foreign!.passwords, [], 'the foreign host received a password');
    const f = r.json.nodes.find((n) => n.name === 'foreign');
    assert.equal(f?.reachable, false);
    assert.equal(f?.error?.code, 'AuthFailed');
    assert.match(f?.error?.message ?? '', /DOCKER_NET_LAB_PASSWORD is set, but foreign \(learner@127\.0\.0\.1:\d+\) is not named in DOCKER_NET_LAB_SECRETS_FOR/);
    assert.ok(f?.error?.fix?.includes(`DOCKER_NET_LAB_SECRETS_FOR=learner@127.0.0.1:${foreign!.port}`), f?.error?.fix);
    assert.equal(r.json.nodes.find((n) => n.name === 'mine')?.reachable, true);
  });

  it('sends it to nobody when DOCKER_NET_LAB_SECRETS_FOR is not set, and to a node named by its name', async () => {
    const [mine, foreign] = servers;
    mine!.passwords.length = 0;
    foreign!.passwords.length = 0;
    const r = await runNodes({ DOCKER_NET_LAB_PASSWORD: password });
    assert.equal(r.code, 1);
    assert.deepEqual([...mine!.passwords, ...foreign!.passwords], [], 'a password was sent without DOCKER_NET_LAB_SECRETS_FOR');
    assert.ok(r.json.nodes.every((n) => n.error?.fix?.includes('DOCKER_NET_LAB_SECRETS_FOR=') === true));
    assert.ok(!r.out.includes(password), 'the output shows the password');
    await runNodes({ DOCKER_NET_LAB_PASSWORD: password, DOCKER_NET_LAB_SECRETS_FOR: 'mine' });
    assert.deepEqual(mine!.passwords, [password]);
    assert.deepEqual(foreign!.passwords, []);
  });

  it('refuses an entry that is neither a node name nor user@host[:port]', () => {
    assert.deepEqual(parseSecretsFor(' a , me@Node1.Lab, me@[fd00::1]:2222,'), [{ name: 'a' }, { address: 'me@node1.lab:22' }, { address: 'me@[fd00::1]:2222' }]);
    assert.throws(() => parseSecretsFor('root@host;rm'), (e: unknown) => isLabError(e, 'InvalidInput'));
    assert.throws(() => parseSecretsFor('-oProxyCommand'), (e: unknown) => isLabError(e, 'InvalidInput'));
  });
});
