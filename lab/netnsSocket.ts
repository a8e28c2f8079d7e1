import { spawn } from 'node:child_process';
import * as http from 'node:http';
import * as net from 'node:net';
import type { Duplex } from 'node:stream';
import { LabError } from '../src/core/errors';

// The child runs inside the namespace, connects, hands the connected socket to us over its IPC channel and exits.
const connector = [
  "const net = require('node:net');",
  'const [host, port] = process.argv.slice(1);',
  'const s = net.connect({ host, port: Number(port) });',
  "s.once('connect', () => { s.pause(); process.send('socket', s, () => process.disconnect()); });",
  "s.once('error', (e) => { process.send(String(e.message), () => process.disconnect()); });",
].join('\n');

/**
 * A TCP connection opened inside the network namespace `netns` (e.g. a lab node's, so it is the node that
 * connects) and used from this process: a Node child entered into the namespace connects and passes the socket
 * over its IPC channel. Needs root (nsenter).
 * @throws LabError `Timeout` after `timeoutMs`, `LabProvisionFailed` when the child cannot connect.
 */
export function connectInNetns(netns: string, host: string, port: number, timeoutMs = 10_000): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const child = spawn('nsenter', [`--net=/run/netns/${netns}`, '--', process.execPath, '-e', connector, host, String(port)],
      { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    let stderr = '';
    let done = false;
    const finish = (f: () => void): void => { if (!done) { done = true; clearTimeout(timer); f(); } };
    const timer = setTimeout(() => finish(() => { child.kill('SIGKILL'); reject(new LabError('Timeout', `No connection to ${host}:${port} from ${netns} within ${timeoutMs} ms.`)); }), timeoutMs);
    child.stderr?.on('data', (b: Buffer) => { stderr += b.toString(); });
    child.on('message', (m: unknown, handle: unknown) => {
      if (handle instanceof net.Socket) { finish(() => { handle.resume(); resolve(handle); }); return; }
      finish(() => reject(new LabError('LabProvisionFailed', `${host}:${port} from ${netns}: ${String(m)}`)));
    });
    child.on('error', (e) => finish(() => reject(new LabError('LabProvisionFailed', `nsenter: ${e.message}`))));
    child.on('exit', (code) => finish(() => reject(new LabError('LabProvisionFailed', `no socket from ${netns} (exit ${code ?? '?'}): ${stderr.trim()}`))));
  });
}

/**
 * A keep-alive HTTP agent whose connections are opened inside `netns` (see {@link connectInNetns}); for clients
 * such as dockerode that take an `agent`.
 */
export class NetnsAgent extends http.Agent {
  constructor(private readonly netns: string) {
    super({ keepAlive: true });
  }

  override createConnection(options: http.ClientRequestArgs, callback?: (err: Error | null, stream: Duplex) => void): Duplex | null | undefined {
    const host = options.host ?? options.hostname ?? '127.0.0.1';
    const port = Number(options.port ?? 80);
    connectInNetns(this.netns, host, port).then((s) => callback?.(null, s), (e: unknown) => callback?.(e as Error, undefined as unknown as Duplex));
    return undefined;
  }
}
