import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { LabError, describeError, isLabError } from '../../core/errors';
import { redactingLogger } from '../../core/logger';
import type { NodeConfig } from '../../core/nodes/nodeConfig';
import { labNodesFile } from '../../core/nodes/localLabPaths';
import { readNodesFile } from '../../core/nodes/nodesFile';
import type { ShellProvider } from '../../core/remoteShell';
import type { NodeSession } from '../../core/ssh/nodeSession';
import type { TopologyService } from '../../core/topology/topologyService';
import type { TopologySnapshot } from '../../core/topology/topologyTypes';
import { createHostKeyPrompt } from './hostKeyPrompter';
import type { NodeConfigProblem, NodesConfiguration } from './nodeSettings';
import { nodesSettingKey, nodesSettingValue, readNodesConfiguration } from './nodeSettings';
import { SecretStore } from './secretStore';

/** The nodes file of the local lab when `dockerNetLab.useLocalLab` is on and it exists. */
function readLabNodes(problems: NodeConfigProblem[]): readonly NodeConfig[] | undefined {
  if (!vscode.workspace.getConfiguration('dockerNetLab').get<boolean>('useLocalLab', true)) { return undefined; }
  const file = labNodesFile();
  try {
    return readNodesFile(file).nodes;
  } catch (e) {
    if (isLabError(e, 'LabNotRunning')) { return undefined; }
    problems.push({ source: file, index: -1, field: '(file)', message: describeError(e) });
    return undefined;
  }
}

/**
 * The nodes of the extension, one object per extension lifetime: the configured nodes (local lab +
 * `dockerNetLab.nodes`), and — created lazily on first use, so that ssh2 and dockerode do not load at
 * activation — the core's TopologyService, which is both the TopologySource of the Lab Nodes view and
 * the ShellProvider of the lab steps, on the same SSH sessions. Nothing connects in an untrusted
 * workspace. Disposed on deactivate (it is in context.subscriptions).
 */
export class NodeServices implements vscode.Disposable {
  private config: NodesConfiguration = { nodes: [], problems: [] };
  private service: TopologyService | undefined;
  private starting: Promise<TopologyService> | undefined;
  private startingGeneration = -1;
  private generation = 0;
  /** True after connect() of every node (and until disconnect() of every node): new nodes connect too. */
  private allWanted = false;
  private readonly changeEmitter = new vscode.EventEmitter<TopologySnapshot>();
  private readonly configEmitter = new vscode.EventEmitter<void>();
  private readonly disposables: vscode.Disposable[] = [];
  /** The SecretStorage-backed secret provider (also used by "Forget Saved Secrets"). */
  readonly secrets: SecretStore;
  /** The extension's own known_hosts (keys the user trusted in VS Code). */
  readonly acceptedKnownHosts: string;

  /** Fires with the new snapshot whenever the topology or the configuration changes. */
  readonly onDidChange = this.changeEmitter.event;
  /** Fires after the node configuration was re-read. */
  readonly onDidChangeConfiguration = this.configEmitter.event;

  constructor(private readonly context: vscode.ExtensionContext, private readonly log: vscode.LogOutputChannel) {
    this.secrets = new SecretStore(context.secrets, () => vscode.workspace.isTrusted);
    this.acceptedKnownHosts = path.join(context.globalStorageUri.fsPath, 'known_hosts');
    this.reloadConfiguration();
    this.disposables.push(
      this.changeEmitter, this.configEmitter,
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration(nodesSettingKey) || e.affectsConfiguration('dockerNetLab.useLocalLab')) { this.reloadConfiguration(); }
      }),
      // the workspace's own nodes count once it is trusted
      vscode.workspace.onDidGrantWorkspaceTrust(() => { this.reloadConfiguration(); this.changeEmitter.fire(this.snapshot()); }),
    );
    // the local lab writes/removes its nodes file on `lab up` / `lab down`; a cheap stat poll follows it
    const labFile = labNodesFile();
    const onLabFile = (): void => { this.reloadConfiguration(); };
    fs.watchFile(labFile, { interval: 2000, persistent: false }, onLabFile);
    this.disposables.push({ dispose: () => { fs.unwatchFile(labFile, onLabFile); } });
  }

  /** The configured nodes and the problems of malformed entries. */
  configuration(): NodesConfiguration { return this.config; }

  /** The configuration of one node. @throws LabError `NotFound`. */
  nodeConfig(node: string): NodeConfig {
    const c = this.config.nodes.find((n) => n.config.name === node)?.config;
    if (c === undefined) { throw new LabError('NotFound', `No node named "${node}" is configured.`); }
    return c;
  }

  /** True once the topology service exists (i.e. ssh2/dockerode are loaded). */
  get started(): boolean { return this.service !== undefined; }

  /** The current snapshot: live when started, else the configured nodes as `disconnected`. */
  snapshot(): TopologySnapshot {
    if (this.service !== undefined) { return this.service.snapshot(); }
    return {
      takenAt: Date.now(),
      nodes: this.config.nodes.map((n) => ({ name: n.config.name, host: n.config.host, state: 'disconnected', networks: [], containers: [] })),
      multiHostNetworks: [],
    };
  }

  private assertTrusted(): void {
    if (!vscode.workspace.isTrusted) {
      throw new LabError('NotSupported', 'This workspace is not trusted: the extension does not connect to nodes or run commands on them.', {
        fix: 'Trust the workspace (Manage Workspace Trust) to use the lab.',
      });
    }
  }

  /**
   * The core's TopologyService (TopologySource + ShellProvider), created on first call. It does not
   * connect by itself; see {@link connect}.
   * @throws LabError `NotSupported` in an untrusted workspace.
   */
  async topology(): Promise<TopologyService> {
    this.assertTrusted();
    if (this.service !== undefined) { return this.service; }
    if (this.starting !== undefined && this.startingGeneration === this.generation) { return this.starting; }
    // a start begun before the last configuration change ends in Cancelled; callers after the change get a fresh one
    const generation = this.generation;
    this.startingGeneration = generation;
    const starting = (async () => {
      const { createTopologyService } = await import('../../core/topology/topologyService');
      await fs.promises.mkdir(path.dirname(this.acceptedKnownHosts), { recursive: true });
      const service = createTopologyService({
        nodes: this.config.nodes.map((n) => n.config),
        secrets: this.secrets,
        hostKeyPrompt: createHostKeyPrompt(() => vscode.workspace.isTrusted, this.log),
        knownHostsFiles: [path.join(os.homedir(), '.ssh', 'known_hosts'), this.acceptedKnownHosts],
        saveAcceptedKeysTo: this.acceptedKnownHosts,
        logger: redactingLogger(this.log),
      });
      if (generation !== this.generation) {
        service.dispose();
        throw new LabError('Cancelled', 'The node configuration changed while connecting.');
      }
      this.service = service;
      service.onDidChange((s) => { this.changeEmitter.fire(s); });
      return service;
    })();
    this.starting = starting;
    starting.then(() => undefined, () => undefined).finally(() => { if (this.starting === starting) { this.starting = undefined; } });
    return starting;
  }

  /**
   * The ShellProvider of the configured nodes, on the same SSH sessions as the Lab Nodes view: the
   * "Lab Steps" feature runs its commands through `(await getNodeServices().shells()).shell(node)`.
   * @throws LabError `NotSupported` in an untrusted workspace.
   */
  async shells(): Promise<ShellProvider> {
    return this.topology();
  }

  /**
   * The connected SSH session of a node (shared with the view and the steps), for terminals.
   * @throws LabError `NotSupported` (untrusted), `NotFound`, or a connection error.
   */
  async session(node: string): Promise<NodeSession> {
    const shell = await (await this.topology()).shell(node);
    const { NodeSession: sessionClass } = await import('../../core/ssh/nodeSession');
    if (!(shell instanceof sessionClass)) { throw new LabError('NotSupported', `${node} has no SSH session.`); }
    return shell;
  }

  /** Connects one node or all (never rejects for node failures: they show in the tree). */
  async connect(node?: string): Promise<void> {
    const t = await this.topology();
    if (node === undefined) { this.allWanted = true; }
    await t.connect(node);
  }

  /** Disconnects one node or all (no-op when nothing was started). */
  async disconnect(node?: string): Promise<void> {
    if (node === undefined) { this.allWanted = false; }
    await this.service?.disconnect(node);
  }

  /** Resyncs one node or all (no-op when nothing was started). */
  async refresh(node?: string): Promise<void> {
    await this.service?.refresh(node);
  }

  /** The raw `docker inspect` JSON of a network or container on a node. @throws connection/engine errors. */
  async inspect(node: string, kind: 'network' | 'container', id: string): Promise<unknown> {
    const engine = (await this.topology()).engine(node);
    return kind === 'network' ? engine.inspectNetworkRaw(id) : engine.inspectContainerRaw(id);
  }

  /** Re-reads the settings and the lab nodes file; a running service is rebuilt with the new nodes. */
  reloadConfiguration(): void {
    const problems: NodeConfigProblem[] = [];
    const labNodes = readLabNodes(problems);
    const setting = nodesSettingValue(vscode.workspace.getConfiguration().inspect<unknown>(nodesSettingKey), vscode.workspace.isTrusted);
    const next = readNodesConfiguration(setting.value, labNodes, setting.scope);
    const merged: NodesConfiguration = { nodes: next.nodes, problems: [...problems, ...next.problems] };
    if (JSON.stringify(merged) === JSON.stringify(this.config)) { return; }
    if (JSON.stringify(merged.nodes) === JSON.stringify(this.config.nodes)) {
      // only the problems changed: keep the connections
      this.config = merged;
      for (const p of merged.problems) { this.log.warn(`Node configuration: ${p.message}`); }
      this.configEmitter.fire();
      return;
    }
    const wasStarted = this.service !== undefined;
    const oldNames = new Set(this.config.nodes.map((n) => n.config.name));
    this.config = merged;
    for (const p of merged.problems) { this.log.warn(`Node configuration: ${p.message}`); }
    for (const n of merged.nodes) {
      if (n.ignoredFingerprints !== undefined) {
        this.log.warn(`Node configuration: ${n.config.name}: hostKeyFingerprints from the workspace settings are not trusted; its host key is checked against known_hosts or asked.`);
      }
    }
    this.generation++;
    this.service?.dispose();
    this.service = undefined;
    this.configEmitter.fire();
    this.changeEmitter.fire(this.snapshot());
    if ((wasStarted || this.allWanted) && vscode.workspace.isTrusted) {
      // reconnect the nodes that were there before; new ones too when every node was wanted
      // (e.g. the local lab's nodes file came back after "lab down" / "lab up")
      const keep = merged.nodes.map((n) => n.config.name).filter((n) => this.allWanted || oldNames.has(n));
      void Promise.all(keep.map((n) => this.connect(n))).catch((e: unknown) => { this.log.warn(`Reconnect after a configuration change: ${describeError(e)}`); });
    }
  }

  /** Which configured nodes come from the local lab. */
  labNodeNames(): ReadonlySet<string> {
    return new Set(this.config.nodes.filter((n) => n.origin === 'localLab').map((n) => n.config.name));
  }

  dispose(): void {
    this.generation++;
    this.service?.dispose();
    this.service = undefined;
    for (const d of this.disposables) { d.dispose(); }
    this.disposables.length = 0;
  }
}

let current: NodeServices | undefined;

/**
 * The extension's NodeServices (created in activate by registerNodes). The "Lab Steps" feature uses
 * it to run steps: `const shells = await getNodeServices().shells(); const sh = await shells.shell('docker-node1');
 * await sh.exec('docker network ls')` — the same SSH sessions as the Lab Nodes view; listen to
 * `onDidChange` for topology changes and `configuration()` for the node list.
 * @throws LabError `NotFound` when called before activation.
 */
export function getNodeServices(): NodeServices {
  if (current === undefined) { throw new LabError('NotFound', 'The Docker Network Lab nodes are not initialised (extension not activated).'); }
  return current;
}

/** Creates the extension-lifetime NodeServices (registerNodes only). */
export function createNodeServices(context: vscode.ExtensionContext, log: vscode.LogOutputChannel): NodeServices {
  current?.dispose();
  current = new NodeServices(context, log);
  context.subscriptions.push(current, { dispose: () => { current = undefined; } });
  return current;
}
