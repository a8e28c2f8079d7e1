import { DockerEngine } from '../docker/dockerEngine';
import type { EngineEvent } from '../docker/dockerRecords';
import { LabError, describeError, isLabError } from '../errors';
import type { Logger } from '../logger';
import { redact, silentLogger } from '../logger';
import type { NodeConfig } from '../nodes/nodeConfig';
import type { RemoteShell, ShellProvider } from '../remoteShell';
import type { HostKeyPrompt } from '../ssh/hostKeys';
import type { NodeSession, NodeSessionOptions, ReconnectPolicy, SecretProvider, SessionState } from '../ssh/nodeSession';
import { SessionPool } from '../ssh/sessionPool';
import { CoalescingTask } from './coalescingTask';
import { Debouncer } from './debouncer';
import type { NodeFacts } from './topologyMerge';
import { mergeTopology } from './topologyMerge';
import type { Disposable, NodeState, TopologySnapshot, TopologySource } from './topologyTypes';

/** Options of {@link TopologyService}. */
export interface TopologyServiceOptions {
  readonly secrets?: SecretProvider;
  readonly hostKeyPrompt?: HostKeyPrompt;
  /** known_hosts files (default `~/.ssh/known_hosts`); nodes with pinned fingerprints ignore them. */
  readonly knownHostsFiles?: readonly string[];
  /** Where keys accepted through the prompt are saved, if anywhere. */
  readonly saveAcceptedKeysTo?: string;
  readonly logger?: Logger;
  /** Minimum time between two event-driven resyncs of a node, ms (default 100); the first Docker event after a quiet period resyncs at once. */
  readonly debounceMs?: number;
  /** Period of the full resync of every online node, ms (default 30 000; 0 disables). */
  readonly fullResyncMs?: number;
  /** Reconnect policy of the SSH sessions (default: 500 ms doubling up to 3 s). */
  readonly reconnect?: ReconnectPolicy;
  /** SSH keepalive interval, ms (default 10 000). */
  readonly keepaliveIntervalMs?: number;
  /** SSH handshake timeout, ms (default 10 000). */
  readonly readyTimeoutMs?: number;
  /** Follow `docker events` (default true). The CLI's one-shot `tree` turns it off. */
  readonly followEvents?: boolean;
}

const relevantActions = new Set(['create', 'start', 'die', 'stop', 'kill', 'destroy', 'connect', 'disconnect', 'rename', 'pause', 'unpause', 'restart', 'update', 'remove']);

/** True for the Docker events that change what the topology shows. */
export function isTopologyEvent(e: EngineEvent): boolean {
  return (e.type === 'container' || e.type === 'network') && relevantActions.has(e.action);
}

/**
 * What one read of a node fetches. Each kind is read on its own, so that a slow answer (dockerd 20.10
 * with an etcd cluster store holds `GET /networks` and `/info` for seconds while etcd recovers from a
 * partition) does not hold back the container list.
 */
type ReadKind = 'containers' | 'networks' | 'facts';

interface ReadError { readonly transient: boolean; readonly info: { code: string; message: string; fix?: string } }

interface Slot {
  readonly config: NodeConfig;
  facts: NodeFacts;
  wanted: boolean;
  engine?: DockerEngine;
  events?: AbortController;
  debounce?: Debouncer;
  unsubscribe?: () => void;
  readonly reads: Record<ReadKind, CoalescingTask>;
  /** The failed reads of the current engine, by kind (the node shows the first one). */
  readonly readErrors: Map<ReadKind, ReadError>;
  /** The latest {@link TopologyService.sync} of this node while it runs. */
  syncing?: Promise<void>;
}

function errorInfo(e: unknown): { code: string; message: string; fix?: string } {
  if (e instanceof LabError) { return { code: e.code, message: redact(e.message), ...(e.fix === undefined ? {} : { fix: e.fix }) }; }
  return { code: 'Unknown', message: redact(describeError(e)) };
}

function nodeStateOf(s: SessionState, e: LabError | undefined): NodeState {
  switch (s) {
    case 'connecting': return 'connecting';
    case 'online': return 'online';
    case 'idle':
    case 'disposed': return 'disconnected';
    case 'offline': return e !== undefined && !['Unreachable', 'Timeout', 'Disconnected'].includes(e.code) ? 'error' : 'offline';
  }
}

/**
 * The live topology of N nodes (implements {@link TopologySource}) and their shells (implements
 * {@link ShellProvider}, on the same SSH sessions). Per node: one SSH session, a Docker engine over
 * it, a `docker events` follower that triggers a debounced resync of that node, and a periodic full
 * resync. An unreachable node stays in the snapshot as `offline`/`error` with its error and is
 * reconnected with backoff. Call {@link dispose} to close everything.
 */
export class TopologyService implements TopologySource, ShellProvider {
  private readonly pool: SessionPool;
  private readonly slots = new Map<string, Slot>();
  private readonly listeners = new Set<(s: TopologySnapshot) => void>();
  private current: TopologySnapshot;
  private resyncTimer: NodeJS.Timeout | undefined;
  private readonly logger: Logger;
  private disposed = false;

  constructor(nodes: readonly NodeConfig[], private readonly options: TopologyServiceOptions = {}) {
    this.logger = options.logger ?? silentLogger;
    const sessionOptions: NodeSessionOptions = {
      logger: this.logger,
      ...(options.secrets === undefined ? {} : { secrets: options.secrets }),
      ...(options.hostKeyPrompt === undefined ? {} : { hostKeyPrompt: options.hostKeyPrompt }),
      ...(options.knownHostsFiles === undefined ? {} : { knownHostsFiles: options.knownHostsFiles }),
      ...(options.saveAcceptedKeysTo === undefined ? {} : { saveAcceptedKeysTo: options.saveAcceptedKeysTo }),
      ...(options.reconnect === undefined ? {} : { reconnect: options.reconnect }),
      ...(options.keepaliveIntervalMs === undefined ? {} : { keepaliveIntervalMs: options.keepaliveIntervalMs }),
      ...(options.readyTimeoutMs === undefined ? {} : { readyTimeoutMs: options.readyTimeoutMs }),
    };
    this.pool = new SessionPool(nodes, sessionOptions);
    for (const n of nodes) {
      const reads = {} as Record<ReadKind, CoalescingTask>;
      const slot: Slot = { config: n, facts: { name: n.name, host: n.host, state: 'disconnected' }, wanted: false, reads, readErrors: new Map() };
      for (const kind of ['containers', 'networks', 'facts'] as const) {
        reads[kind] = new CoalescingTask(() => this.read(slot, kind), () => this.disposed);
      }
      this.slots.set(n.name, slot);
    }
    this.current = this.assemble();
  }

  /** The latest snapshot. */
  snapshot(): TopologySnapshot { return this.current; }

  /** Subscribes to snapshot changes. */
  onDidChange(listener: (snapshot: TopologySnapshot) => void): Disposable {
    this.listeners.add(listener);
    return { dispose: () => { this.listeners.delete(listener); } };
  }

  /** Names of the configured nodes, in order. */
  nodeNames(): readonly string[] { return this.pool.nodeNames(); }

  /** The shell of one node on its shared SSH session. @throws LabError `NotFound` or a connection error. */
  shell(node: string, signal?: AbortSignal): Promise<RemoteShell> { return this.pool.shell(node, signal); }

  /** The Docker engine of a connected node (for inspect-as-JSON and the like). @throws LabError `NotFound`, `Disconnected`. */
  engine(node: string): DockerEngine {
    const slot = this.slot(node);
    if (slot.engine === undefined) { throw new LabError('Disconnected', `${node} is not connected.`, { node }); }
    return slot.engine;
  }

  private slot(node: string): Slot {
    const s = this.slots.get(node);
    if (s === undefined) { throw new LabError('NotFound', `No node named "${node}" is configured.`); }
    return s;
  }

  private targets(node?: string): Slot[] {
    return node === undefined ? [...this.slots.values()] : [this.slot(node)];
  }

  private assemble(): TopologySnapshot {
    return mergeTopology([...this.slots.values()].map((s) => s.facts), Date.now());
  }

  private changed(): void {
    if (this.disposed) { return; }
    this.current = this.assemble();
    for (const l of [...this.listeners]) {
      try { l(this.current); } catch (e) { this.logger.error(`topology listener failed: ${describeError(e)}`); }
    }
  }

  private setFacts(slot: Slot, patch: Partial<NodeFacts>, clearError = false): void {
    const next: NodeFacts = { ...slot.facts, ...patch };
    if (clearError && patch.error === undefined) { delete (next as { error?: unknown }).error; }
    slot.facts = next;
    this.changed();
  }

  /**
   * Connects a node (or all) and starts following its events. Never rejects for node failures:
   * they show in the snapshot as `offline`/`error` with the error (the session keeps retrying
   * transient failures with backoff).
   */
  async connect(node?: string): Promise<void> {
    this.startResyncTimer();
    await Promise.all(this.targets(node).map((s) => this.connectSlot(s)));
  }

  private async connectSlot(slot: Slot): Promise<void> {
    slot.wanted = true;
    const session = this.pool.session(slot.config.name);
    if (slot.unsubscribe === undefined) {
      slot.unsubscribe = session.onStateChange((st, err) => { this.onSessionState(slot, session, st, err); });
    }
    // asked to connect an offline node: show that it is being tried (automatic retries do not)
    if (slot.facts.state === 'offline') { this.setFacts(slot, { state: 'connecting' }); }
    try {
      await session.connect();
      // a session already opened through shell() emitted its 'online' before we listened
      if (slot.engine === undefined && session.state === 'online') { this.onSessionState(slot, session, 'online', undefined); }
      // the 'online' state change already started a sync; wait for it (or start one)
      await (slot.syncing ?? this.sync(slot, true));
    } catch (e) {
      this.logger.debug(`topology: ${slot.config.name}: ${describeError(e)}`);
    }
  }

  private onSessionState(slot: Slot, session: NodeSession, st: SessionState, err: LabError | undefined): void {
    if (!slot.wanted) { return; }
    // an automatic retry of an offline node: it stays offline (with its error) until it answers, so the
    // tree and `tree --watch` do not flip between offline and connecting every few seconds of an outage
    if (st === 'connecting' && slot.facts.state === 'offline') { return; }
    const state = nodeStateOf(st, err);
    if (st === 'online') {
      this.setFacts(slot, { state: 'online' }, true);
      this.startEngine(slot, session);
      void this.sync(slot, true);
      return;
    }
    if (st === 'offline' || st === 'disposed' || st === 'idle') { this.stopEngine(slot); }
    this.setFacts(slot, { state, ...(err === undefined ? {} : { error: errorInfo(err) }) }, st === 'connecting' ? false : err === undefined);
  }

  private startEngine(slot: Slot, session: NodeSession): void {
    if (slot.engine !== undefined) { return; }
    slot.engine = new DockerEngine(slot.config, session, { logger: this.logger });
    slot.debounce = new Debouncer(this.options.debounceMs ?? 100, () => { void this.sync(slot, false); });
    if (this.options.followEvents !== false) { this.follow(slot, slot.engine); }
  }

  private stopEngine(slot: Slot): void {
    slot.events?.abort();
    slot.events = undefined;
    slot.debounce?.cancel();
    slot.debounce = undefined;
    slot.engine?.dispose();
    slot.engine = undefined;
    slot.readErrors.clear();
  }

  private follow(slot: Slot, engine: DockerEngine): void {
    const ac = new AbortController();
    slot.events = ac;
    const run = async (): Promise<void> => {
      for await (const ev of engine.events(ac.signal)) {
        if (isTopologyEvent(ev)) {
          this.logger.trace(`topology: ${slot.config.name} event ${ev.type} ${ev.action} ${ev.attributes['name'] ?? ev.id.slice(0, 12)}`);
          slot.debounce?.trigger();
        }
      }
    };
    run().catch((e: unknown) => {
      if (!ac.signal.aborted) { this.logger.warn(`topology: ${slot.config.name}: events stopped: ${describeError(e)}`); }
    }).finally(() => {
      // the stream ended while the node is still wanted and online: follow again shortly
      if (!ac.signal.aborted && slot.events === ac && !this.disposed) {
        const t = setTimeout(() => { if (slot.events === ac && slot.engine === engine) { this.follow(slot, engine); void this.sync(slot, false); } }, 1000);
        t.unref();
      }
    });
  }

  /**
   * Reads one node's engine: containers and networks, plus dockerd's facts when `full` (or not known
   * yet, or their last read failed). Each kind is read and shown on its own; a request during a read
   * of the same kind queues one more read of it.
   */
  private sync(slot: Slot, full: boolean): Promise<void> {
    const kinds: ReadKind[] = ['containers', 'networks'];
    // dockerd's facts: on a full read, when not known yet, or to clear their failed read
    if (full || ((slot.facts.dockerVersion === undefined || slot.readErrors.has('facts')) && !slot.reads.facts.busy)) { kinds.push('facts'); }
    const all = Promise.all(kinds.map((k) => slot.reads[k].request())).then(() => undefined);
    slot.syncing = all;
    void all.finally(() => { if (slot.syncing === all) { slot.syncing = undefined; } });
    return all;
  }

  private async read(slot: Slot, kind: ReadKind): Promise<void> {
    const engine = slot.engine;
    if (engine === undefined) { return; }
    try {
      let patch: Partial<NodeFacts>;
      if (kind === 'containers') {
        patch = { containers: await engine.listContainers() };
      } else if (kind === 'networks') {
        patch = { networks: await engine.listNetworks() };
      } else {
        const [info, version] = await Promise.all([engine.info(), engine.version()]);
        patch = {
          dockerVersion: version.version, hostname: info.name, swarmState: info.swarmState,
          ...(info.clusterStore === undefined ? {} : { clusterStore: info.clusterStore }),
        };
      }
      if (slot.engine !== engine) { return; }
      slot.readErrors.delete(kind);
      this.setFacts(slot, { ...patch, syncedAt: Date.now(), transport: engine.transport, ...this.health(slot) }, true);
    } catch (e) {
      if (slot.engine !== engine) { return; }
      const transient = isLabError(e, 'Disconnected') || isLabError(e, 'Unreachable');
      this.logger.warn(`topology: ${slot.config.name}: ${describeError(e)}`);
      slot.readErrors.set(kind, { transient, info: errorInfo(e) });
      this.setFacts(slot, this.health(slot));
    }
  }

  /** The node's state from its failed reads: online when none failed, else the first failure. */
  private health(slot: Slot): Pick<NodeFacts, 'state' | 'error'> {
    const first = slot.readErrors.values().next();
    if (first.done === true) { return { state: 'online' }; }
    return { state: first.value.transient ? 'offline' : 'error', error: first.value.info };
  }

  private startResyncTimer(): void {
    const ms = this.options.fullResyncMs ?? 30_000;
    if (ms <= 0 || this.resyncTimer !== undefined || this.disposed) { return; }
    this.resyncTimer = setInterval(() => { void this.refresh().catch(() => undefined); }, ms);
    this.resyncTimer.unref();
  }

  /** Full resync of one node or all (online ones; others are left to reconnect). */
  async refresh(node?: string): Promise<void> {
    await Promise.all(this.targets(node).filter((s) => s.engine !== undefined).map((s) => this.sync(s, true)));
  }

  /** Disconnects a node (or all): closes its session, event stream and timers; the node stays listed as `disconnected`. */
  disconnect(node?: string): Promise<void> {
    for (const s of this.targets(node)) {
      s.wanted = false;
      s.unsubscribe?.();
      s.unsubscribe = undefined;
      this.stopEngine(s);
      this.pool.close(s.config.name);
      s.facts = { name: s.config.name, host: s.config.host, state: 'disconnected', ...(s.facts.networks === undefined ? {} : { networks: s.facts.networks }), ...(s.facts.containers === undefined ? {} : { containers: s.facts.containers }) };
    }
    this.changed();
    return Promise.resolve();
  }

  /** Closes every session, stream and timer. The service cannot be used afterwards. */
  dispose(): void {
    if (this.resyncTimer !== undefined) { clearInterval(this.resyncTimer); this.resyncTimer = undefined; }
    for (const s of this.slots.values()) {
      s.wanted = false;
      s.unsubscribe?.();
      this.stopEngine(s);
    }
    this.pool.dispose();
    this.disposed = true;
    this.listeners.clear();
  }
}

/** Everything the VS Code host (or the CLI) needs to build a {@link TopologyService}. */
export interface TopologyServiceSetup extends TopologyServiceOptions {
  readonly nodes: readonly NodeConfig[];
}

/**
 * Builds the topology service for the given nodes with the host's secret provider, host-key prompt
 * and logger. Nothing connects until {@link TopologyService.connect} is called.
 */
export function createTopologyService(setup: TopologyServiceSetup): TopologyService {
  const { nodes, ...options } = setup;
  return new TopologyService(nodes, options);
}
