import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as net from 'node:net';
import * as path from 'node:path';
import type { Connection } from 'ssh2';
import { Server } from 'ssh2';
import type { NodeConfig } from '../../src/core/nodes/nodeConfig';
import { fingerprintOfKey } from '../../src/core/ssh/hostKeys';

/**
 * A fake lab node for unit tests: an in-process ssh2 server on 127.0.0.1 (password auth) that
 * forwards direct-streamlocal channels for /var/run/docker.sock to a fake Docker API on a Unix socket in `dir`. The API serves
 * the mutable `networks`/`containers` arrays and pushes events to open `/events` streams.
 */
export class FakeDockerNode {
  networks: unknown[] = [];
  containers: unknown[] = [];
  requests = 0;
  /** Extra delay of answers by endpoint, ms (as dockerd with a recovering etcd cluster store holds `/networks` and `/info`). */
  delayMs: Partial<Record<'containers' | 'networks' | 'info', number>> = {};
  /** When true, `/info` answers 500 (as a dockerd that is failing). */
  failInfo = false;
  readonly socketPath: string;
  private readonly eventStreams = new Set<http.ServerResponse>();
  private readonly api: http.Server;
  private readonly ssh: Server;
  private port = 0;
  private readonly clients = new Set<Connection>();
  private hostBlob = Buffer.alloc(0);

  constructor(private readonly dir: string, readonly password: string) {
    this.socketPath = path.join(dir, 'docker.sock');
    const keyFile = path.join(dir, 'host_key');
    if (!fs.existsSync(keyFile)) { execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', keyFile]); }
    this.hostBlob = Buffer.from(fs.readFileSync(`${keyFile}.pub`, 'utf8').split(' ')[1]!, 'base64');
    this.api = http.createServer((req, res) => this.serve(req, res));
    this.ssh = new Server({ hostKeys: [fs.readFileSync(keyFile)] }, (client: Connection) => {
      this.clients.add(client);
      client.on('close', () => this.clients.delete(client));
      client.on('authentication', (ctx) => { if (ctx.method === 'password' && ctx.password === this.password) { ctx.accept(); } else { ctx.reject(['password']); } });
      client.on('ready', () => {
        client.on('openssh.streamlocal', (accept, reject, info) => {
          // the node's /var/run/docker.sock is this fake's socket
          if (info.socketPath !== '/var/run/docker.sock') { reject(); return; }
          const ch = accept();
          const s = net.connect(this.socketPath);
          ch.pipe(s).pipe(ch);
          s.on('error', () => ch.close());
        });
      });
      client.on('error', () => undefined);
    });
  }

  private serve(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.requests++;
    const p = new URL(req.url ?? '/', 'http://x').pathname;
    res.setHeader('content-type', 'application/json');
    // the answer is taken when the request arrives, and sent after the endpoint's delay
    const later = (ms: number | undefined, body: unknown): void => {
      const text = JSON.stringify(body);
      if (ms === undefined || ms <= 0) { res.end(text); return; }
      setTimeout(() => { res.end(text); }, ms);
    };
    if (p.endsWith('/containers/json')) { later(this.delayMs.containers, this.containers); return; }
    if (p.endsWith('/networks')) { later(this.delayMs.networks, this.networks); return; }
    if (p.endsWith('/version')) { res.end(JSON.stringify({ Version: '20.10.24', ApiVersion: '1.41' })); return; }
    if (p.endsWith('/info') && this.failInfo) { res.statusCode = 500; res.end('{"message":"fake: info is failing"}'); return; }
    if (p.endsWith('/info')) { later(this.delayMs.info, { Name: 'fake-node', ServerVersion: '20.10.24', Swarm: { LocalNodeState: 'inactive' } }); return; }
    if (p.endsWith('/events')) {
      res.flushHeaders();
      this.eventStreams.add(res);
      res.on('close', () => this.eventStreams.delete(res));
      return;
    }
    res.statusCode = 404;
    res.end('{"message":"page not found"}');
  }

  /** Number of open `docker events` streams. */
  get eventFollowers(): number { return this.eventStreams.size; }

  /** Sends one Docker event to every follower. */
  emit(event: unknown): void {
    for (const r of this.eventStreams) { r.write(`${JSON.stringify(event)}\n`); }
  }

  /** Starts both servers. */
  async start(): Promise<void> {
    await new Promise<void>((r) => this.api.listen(this.socketPath, r));
    await new Promise<void>((r) => this.ssh.listen(0, '127.0.0.1', r));
    this.port = (this.ssh.address() as AddressInfo).port;
  }

  /** A node config pointing at this fake (pinned host key, password auth). */
  node(name: string): NodeConfig {
    return { name, host: '127.0.0.1', port: this.port, user: 'root', auth: 'password', hostKeyFingerprints: [fingerprintOfKey(this.hostBlob)] };
  }

  /** Drops every SSH connection (as a network outage or an sshd restart would). */
  dropConnections(): void {
    for (const c of this.clients) { c.end(); }
  }

  /** Stops both servers. */
  stop(): void {
    for (const r of this.eventStreams) { r.destroy(); }
    this.ssh.close();
    this.api.closeAllConnections();
    this.api.close();
  }
}
