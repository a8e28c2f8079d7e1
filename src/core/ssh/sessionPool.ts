import { LabError } from '../errors';
import type { NodeConfig } from '../nodes/nodeConfig';
import type { RemoteShell, ShellProvider } from '../remoteShell';
import type { NodeSessionOptions } from './nodeSession';
import { NodeSession } from './nodeSession';

/**
 * One {@link NodeSession} per configured node, created on first use and shared by everyone who asks
 * (the lab runner's shells, the Docker engines, the topology). Implements {@link ShellProvider}.
 */
export class SessionPool implements ShellProvider {
  private readonly sessions = new Map<string, NodeSession>();
  private readonly configs: ReadonlyMap<string, NodeConfig>;

  constructor(nodes: readonly NodeConfig[], private readonly options: NodeSessionOptions = {}) {
    this.configs = new Map(nodes.map((n) => [n.name, n]));
  }

  /** Names of the configured nodes, in order. */
  nodeNames(): readonly string[] { return [...this.configs.keys()]; }

  /** The configuration of one node. @throws LabError `NotFound`. */
  config(node: string): NodeConfig {
    const c = this.configs.get(node);
    if (c === undefined) { throw new LabError('NotFound', `No node named "${node}" is configured (known: ${this.nodeNames().join(', ')}).`); }
    return c;
  }

  /** The session of a node, created (not yet connected) when needed. @throws LabError `NotFound`. */
  session(node: string): NodeSession {
    let s = this.sessions.get(node);
    if (s === undefined || s.state === 'disposed') {
      s = new NodeSession(this.config(node), this.options);
      this.sessions.set(node, s);
    }
    return s;
  }

  /** The connected shell of one node. @throws LabError `NotFound` or a connection error. */
  async shell(node: string, signal?: AbortSignal): Promise<RemoteShell> {
    const s = this.session(node);
    await s.connect(signal);
    return s;
  }

  /** Closes one node's session (the next use opens a new one). */
  close(node: string): void {
    this.sessions.get(node)?.dispose();
    this.sessions.delete(node);
  }

  /** Closes every session. */
  dispose(): void {
    for (const s of this.sessions.values()) { s.dispose(); }
    this.sessions.clear();
  }
}

/**
 * A {@link ShellProvider} over SSH for the given nodes (for the lab runner and state checks). Call
 * `dispose()` when done so that the connections close.
 */
export function createShellProvider(nodes: readonly NodeConfig[], options: NodeSessionOptions = {}): SessionPool {
  return new SessionPool(nodes, options);
}
