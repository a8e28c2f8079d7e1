import * as http from 'node:http';
import type { Duplex } from 'node:stream';
import { inspect } from 'node:util';

/** Opens one byte stream to the Docker API (a streamlocal or exec channel of an SSH connection). */
export type ChannelOpener = () => Promise<Duplex>;

/**
 * Gives an SSH channel the few `net.Socket` methods Node's HTTP client calls on a socket
 * (`setTimeout`, `setNoDelay`, `setKeepAlive`, `ref`, `unref`). Timeouts are kept as a no-op: the
 * SSH connection has its own keepalive, and callers use AbortSignals.
 */
export function asHttpSocket(channel: Duplex): Duplex {
  const s = channel as Duplex & Record<string, unknown>;
  const self = (): Duplex => channel;
  for (const m of ['setTimeout', 'setNoDelay', 'setKeepAlive', 'ref', 'unref']) {
    if (typeof s[m] !== 'function') { s[m] = self; }
  }
  if (s['remoteAddress'] === undefined) { s['remoteAddress'] = 'ssh-channel'; }
  return channel;
}

/**
 * An HTTP agent whose connections are SSH channels: every new "socket" comes from `open`, and
 * keep-alive lets later requests reuse idle channels (no new channel, no handshake per call).
 */
export class ChannelAgent extends http.Agent {
  constructor(private readonly open: ChannelOpener, maxSockets = 6) {
    super({ keepAlive: true, keepAliveMsecs: 30_000, maxSockets, maxFreeSockets: maxSockets });
  }

  /**
   * docker-modem runs `util.inspect(requestOptions, { depth: null })` on every request, and the
   * options hold this agent: without a short custom form that walks every pooled channel and the
   * whole SSH client, costing more than the request itself.
   */
  [inspect.custom](): string { return 'ChannelAgent'; }

  /** Opens a channel for the HTTP client (asynchronously, through the callback). */
  override createConnection(_options: http.ClientRequestArgs, callback?: (err: Error | null, stream: Duplex) => void): Duplex | null | undefined {
    this.open().then((ch) => callback?.(null, asHttpSocket(ch)), (e: unknown) => callback?.(e as Error, undefined as unknown as Duplex));
    return undefined;
  }
}
