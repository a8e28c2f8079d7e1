import type { Duplex } from 'node:stream';
import type Dockerode from 'dockerode';
import { LabError, describeError, isLabError } from '../errors';
import type { Logger } from '../logger';
import { silentLogger } from '../logger';
import type { NodeConfig } from '../nodes/nodeConfig';
import type { NodeSession } from '../ssh/nodeSession';
import { ChannelAgent } from './channelAgent';
import type { EngineContainer, EngineEvent, EngineInfo, EngineNetwork, EngineVersion } from './dockerRecords';
import { splitJsonStream, toEngineContainer, toEngineEvent, toEngineInfo, toEngineNetwork, toEngineVersion } from './dockerRecords';

/** How a {@link DockerEngine} reaches the API. */
export type EngineTransport = 'streamlocal' | 'dial-stdio' | 'tcp';

/** Options of {@link DockerEngine}. */
export interface DockerEngineOptions {
  /** Unix socket of dockerd on the node (default `/var/run/docker.sock`). */
  readonly socketPath?: string;
  readonly logger?: Logger;
  /** Most parallel channels (default 6). */
  readonly maxChannels?: number;
}

type DockerodeCtor = typeof Dockerode;
let dockerodeCtor: DockerodeCtor | undefined;
async function loadDockerode(): Promise<DockerodeCtor> {
  dockerodeCtor ??= (await import('dockerode')).default;
  return dockerodeCtor;
}

/**
 * The Docker Engine API of one node, through dockerode. Over SSH (default) every HTTP connection is
 * a `direct-streamlocal` channel to the node's Docker socket on the node's one SSH connection
 * (kept alive and reused); when the server refuses streamlocal forwarding it falls back to
 * `docker system dial-stdio` exec channels. With `docker.transport: 'tcp'` it talks plain HTTP to
 * `host:tcpPort` (unencrypted; lab use). Returns normalised records, never raw dockerode objects
 * (except the `inspect*Raw` methods, which return the engine's JSON as is).
 * Errors: LabError `DockerUnavailable` (cannot reach dockerd), `DockerApiError` (the API answered
 * with an error), `NotFound`, plus the session's connection errors.
 */
export class DockerEngine {
  private docker: Dockerode | undefined;
  private agent: ChannelAgent | undefined;
  private mode: EngineTransport;
  private readonly logger: Logger;

  constructor(readonly config: NodeConfig, private readonly session: NodeSession | undefined, private readonly options: DockerEngineOptions = {}) {
    this.logger = options.logger ?? silentLogger;
    this.mode = config.docker?.transport === 'tcp' || session === undefined ? 'tcp' : 'streamlocal';
  }

  /** The transport in use (`streamlocal` until a fallback happens). */
  get transport(): EngineTransport { return this.mode; }

  private async openChannel(): Promise<Duplex> {
    const session = this.session;
    if (session === undefined) { throw new LabError('DockerUnavailable', 'No SSH session for the Docker API.', { node: this.config.name }); }
    if (this.mode === 'streamlocal') {
      try {
        return await session.openUnixSocket(this.options.socketPath ?? '/var/run/docker.sock');
      } catch (e) {
        if (!isLabError(e, 'NotSupported')) { throw e; }
        this.logger.warn(`docker: ${this.config.name} refused streamlocal forwarding; using "docker system dial-stdio" instead`);
        this.mode = 'dial-stdio';
      }
    }
    return session.openExecStream('docker system dial-stdio');
  }

  private async api(): Promise<Dockerode> {
    if (this.docker !== undefined) { return this.docker; }
    const Docker = await loadDockerode();
    if (this.mode === 'tcp') {
      this.docker = new Docker({ protocol: 'http', host: this.config.host, port: this.config.docker?.tcpPort ?? 2375, timeout: 30_000 });
    } else {
      this.agent = new ChannelAgent(() => this.openChannel(), this.options.maxChannels ?? 6);
      // Every connection is made by the agent over SSH. socketPath (not host/port) on purpose: VS Code's
      // extension host patches http.request to swap in its proxy agent for host requests (then "docker"
      // fails with ENOTFOUND); requests with a socketPath are left alone.
      this.docker = new Docker({ socketPath: this.options.socketPath ?? '/var/run/docker.sock', agent: this.agent } as Dockerode.DockerOptions);
    }
    return this.docker;
  }

  private async call<T>(what: string, f: (d: Dockerode) => Promise<T>): Promise<T> {
    const d = await this.api();
    try {
      return await f(d);
    } catch (e) {
      throw this.mapError(what, e);
    }
  }

  private mapError(what: string, e: unknown): LabError {
    if (e instanceof LabError) { return e; }
    const err = e as { statusCode?: number; code?: string; json?: unknown; message?: string };
    const node = this.config.name;
    if (typeof err.statusCode === 'number') {
      const msg = typeof err.json === 'object' && err.json !== null && typeof (err.json as { message?: unknown }).message === 'string'
        ? (err.json as { message: string }).message : describeError(e);
      return new LabError(err.statusCode === 404 ? 'NotFound' : 'DockerApiError', `${what} on ${node}: ${msg}`, { node, cause: e });
    }
    return new LabError('DockerUnavailable', `${what} on ${node}: Docker did not answer (${err.code ?? describeError(e)}).`, {
      node, cause: e, fix: `Check that dockerd runs on ${node} ("systemctl status docker") and that ${this.config.user} may use /var/run/docker.sock.`,
    });
  }

  /** `GET /version`. */
  async version(): Promise<EngineVersion> {
    return toEngineVersion(await this.call('docker version', (d) => d.version()));
  }

  /** `GET /info`. */
  async info(): Promise<EngineInfo> {
    return toEngineInfo(await this.call('docker info', (d) => d.info()));
  }

  /** All networks (`docker network ls`), normalised. */
  async listNetworks(): Promise<EngineNetwork[]> {
    const raw = await this.call('docker network ls', (d) => d.listNetworks());
    return raw.map(toEngineNetwork);
  }

  /** All containers, running or not (`docker ps -a`), with their per-network addresses. */
  async listContainers(): Promise<EngineContainer[]> {
    const raw = await this.call('docker ps -a', (d) => d.listContainers({ all: true }));
    return raw.map(toEngineContainer);
  }

  /** The engine's JSON for one container (`docker container inspect`), unchanged. @throws `NotFound`. */
  async inspectContainerRaw(idOrName: string): Promise<unknown> {
    return this.call(`docker container inspect ${idOrName}`, (d) => d.getContainer(idOrName).inspect());
  }

  /** The engine's JSON for one network (`docker network inspect`), unchanged. @throws `NotFound`. */
  async inspectNetworkRaw(idOrName: string): Promise<unknown> {
    return this.call(`docker network inspect ${idOrName}`, (d) => d.getNetwork(idOrName).inspect());
  }

  /**
   * Follows `docker events` (container and network events) until `signal` aborts or the stream
   * ends; yields parsed events as they arrive.
   */
  async *events(signal: AbortSignal): AsyncGenerator<EngineEvent, void, undefined> {
    const stream = await this.call('docker events', (d) => d.getEvents({ filters: { type: ['container', 'network'] } }));
    const readable = stream as NodeJS.ReadableStream & { destroy?: () => void };
    const onAbort = (): void => { readable.destroy?.(); };
    signal.addEventListener('abort', onAbort, { once: true });
    let rest = '';
    try {
      for await (const chunk of readable) {
        if (signal.aborted) { break; }
        const r = splitJsonStream(rest + (typeof chunk === 'string' ? chunk : chunk.toString('utf8')));
        rest = r.rest;
        for (const v of r.values) { yield toEngineEvent(v); }
      }
    } catch (e) {
      if (!signal.aborted) { throw this.mapError('docker events', e); }
    } finally {
      signal.removeEventListener('abort', onAbort);
      readable.destroy?.();
    }
  }

  /** Closes idle channels and stops using the API. */
  dispose(): void {
    this.agent?.destroy();
    this.agent = undefined;
    this.docker = undefined;
  }
}
