// Pure (no vscode import): turns the core's TopologySnapshot plus configuration problems and the
// workspace-trust state into the Lab Nodes tree: element keys, children and presentation. The tree
// provider only converts a NodesItemView into a vscode.TreeItem. Nothing here parses Docker output:
// the core's records are rendered as they are.
//
// Multi-host networks: an overlay is shown ONCE, in a top-level "Multi-host networks" group, with its
// members from every node (each labelled with its node). Under each node's "Networks" it is listed as a
// marked leaf (so the list matches `docker network ls` on that node) that points to the group. Showing the
// members under both nodes would list every container twice and hide the point of the lesson: one network
// spanning two machines.
import type { ContainerRecord, NetworkMember, NetworkRecord, NodeRecord, TopologySnapshot } from '../../core/topology/topologyTypes';
import type { NodeConfigProblem } from './nodeSettings';
import { nodeCommandIds } from './nodeCommandIds';

/** A key identifying one tree element; stable across snapshots so VS Code keeps expansion state. */
export type NodesElement =
  | { readonly kind: 'configProblem'; readonly problem: NodeConfigProblem }
  | { readonly kind: 'multiHostGroup' }
  | { readonly kind: 'node'; readonly node: string }
  | { readonly kind: 'nodeError'; readonly node: string }
  | { readonly kind: 'networks'; readonly node: string }
  | { readonly kind: 'containers'; readonly node: string }
  /** `node` undefined = the merged multi-host network in the top-level group. */
  | { readonly kind: 'network'; readonly node: string | undefined; readonly networkId: string }
  /** A network's member; `netNode` is the network element's node (undefined = multi-host group), `node` the container's. */
  | { readonly kind: 'member'; readonly netNode: string | undefined; readonly networkId: string; readonly node: string; readonly containerId: string }
  | { readonly kind: 'container'; readonly node: string; readonly containerId: string };

/** A codicon and an optional theme color id. */
export interface IconView {
  readonly id: string;
  readonly color?: string;
}

/** What the host needs to build a TreeItem. */
export interface NodesItemView {
  readonly id: string;
  readonly label: string;
  readonly description?: string;
  /** Markdown. */
  readonly tooltip?: string;
  readonly icon: IconView;
  readonly contextValue: string;
  readonly collapsible: 'none' | 'collapsed' | 'expanded';
  readonly command?: { readonly id: string; readonly title: string; readonly args: readonly unknown[] };
}

/** Everything the view renders at one moment. */
export interface NodesViewState {
  readonly trusted: boolean;
  readonly problems: readonly NodeConfigProblem[];
  readonly snapshot: TopologySnapshot;
  /** Names of nodes defined by the local lab (not editable from the view). */
  readonly labNodes: ReadonlySet<string>;
}

/** A stable id of an element (also the TreeItem id). */
export function elementId(e: NodesElement): string {
  switch (e.kind) {
    case 'configProblem': return `problem/${e.problem.source}/${e.problem.index}/${e.problem.field}`;
    case 'multiHostGroup': return 'multihost';
    case 'node': return `node/${e.node}`;
    case 'nodeError': return `node/${e.node}/error`;
    case 'networks': return `node/${e.node}/networks`;
    case 'containers': return `node/${e.node}/containers`;
    case 'network': return e.node === undefined ? `multihost/${e.networkId}` : `node/${e.node}/networks/${e.networkId}`;
    case 'member': return `${e.netNode === undefined ? 'multihost' : `node/${e.netNode}/networks`}/${e.networkId}/${e.node}/${e.containerId}`;
    case 'container': return `node/${e.node}/containers/${e.containerId}`;
  }
}

function findNode(s: NodesViewState, name: string): NodeRecord | undefined {
  return s.snapshot.nodes.find((n) => n.name === name);
}

function isMultiHost(s: NodesViewState, networkId: string): boolean {
  return s.snapshot.multiHostNetworks.some((n) => n.id === networkId);
}

function findNetwork(s: NodesViewState, node: string | undefined, id: string): NetworkRecord | undefined {
  if (node === undefined) { return s.snapshot.multiHostNetworks.find((n) => n.id === id); }
  return findNode(s, node)?.networks.find((n) => n.id === id);
}

function byName<T extends { readonly name: string }>(a: T, b: T): number {
  return a.name.localeCompare(b.name);
}

/** The children of an element (`undefined` = the root). */
export function childrenOf(s: NodesViewState, e?: NodesElement): NodesElement[] {
  if (e === undefined) {
    // untrusted: no rows, so the view shows its welcome content (package.json viewsWelcome), which
    // says what to do and opens the trust dialog
    if (!s.trusted) { return []; }
    const out: NodesElement[] = s.problems.map((problem) => ({ kind: 'configProblem', problem }));
    out.push(...s.snapshot.nodes.map((n): NodesElement => ({ kind: 'node', node: n.name })));
    if (s.snapshot.multiHostNetworks.length > 0) { out.push({ kind: 'multiHostGroup' }); }
    return out;
  }
  switch (e.kind) {
    case 'node': {
      const n = findNode(s, e.node);
      if (n === undefined || !s.trusted) { return []; }
      const out: NodesElement[] = [];
      if (n.error !== undefined && n.state !== 'online') { out.push({ kind: 'nodeError', node: n.name }); }
      if (n.state === 'online' || n.networks.length > 0 || n.containers.length > 0) {
        out.push({ kind: 'networks', node: n.name }, { kind: 'containers', node: n.name });
      }
      return out;
    }
    case 'networks':
      return [...(findNode(s, e.node)?.networks ?? [])].sort(byName)
        .map((n) => ({ kind: 'network', node: e.node, networkId: n.id }));
    case 'containers':
      return [...(findNode(s, e.node)?.containers ?? [])].sort(byName)
        .map((c) => ({ kind: 'container', node: e.node, containerId: c.id }));
    case 'multiHostGroup':
      return [...s.snapshot.multiHostNetworks].sort(byName).map((n) => ({ kind: 'network', node: undefined, networkId: n.id }));
    case 'network': {
      if (e.node !== undefined && isMultiHost(s, e.networkId)) { return []; }
      const net = findNetwork(s, e.node, e.networkId);
      return [...(net?.members ?? [])]
        .sort((a, b) => a.node.localeCompare(b.node) || a.name.localeCompare(b.name))
        .map((m) => ({ kind: 'member', netNode: e.node, networkId: e.networkId, node: m.node, containerId: m.containerId }));
    }
    default:
      return [];
  }
}

/** The parent of an element (for TreeView.reveal). */
export function parentOf(e: NodesElement): NodesElement | undefined {
  switch (e.kind) {
    case 'nodeError': return { kind: 'node', node: e.node };
    case 'networks': case 'containers': return { kind: 'node', node: e.node };
    case 'network': return e.node === undefined ? { kind: 'multiHostGroup' } : { kind: 'networks', node: e.node };
    case 'member': return { kind: 'network', node: e.netNode, networkId: e.networkId };
    case 'container': return { kind: 'containers', node: e.node };
    default: return undefined;
  }
}

const stateIcons: Record<string, IconView> = {
  online: { id: 'vm-active', color: 'testing.iconPassed' },
  connecting: { id: 'loading~spin' },
  offline: { id: 'vm-outline', color: 'disabledForeground' },
  disconnected: { id: 'debug-disconnect', color: 'disabledForeground' },
  error: { id: 'vm-outline', color: 'testing.iconFailed' },
};

/** The icon of a node state. */
export function nodeStateIcon(state: string): IconView {
  return stateIcons[state] ?? { id: 'vm-outline' };
}

/** The icon of a container state (`running`, `exited`, `paused`, …). */
export function containerStateIcon(state: string): IconView {
  switch (state) {
    case 'running': return { id: 'play-circle', color: 'testing.iconPassed' };
    case 'paused': return { id: 'debug-pause', color: 'testing.iconQueued' };
    case 'restarting': return { id: 'sync~spin' };
    case 'created': return { id: 'circle-large-outline' };
    case 'dead': return { id: 'error', color: 'testing.iconFailed' };
    default: return { id: 'stop-circle', color: 'disabledForeground' };
  }
}

/** Node description: host and Docker version (`10.99.0.11 · Docker 20.10.24`). */
export function nodeDescription(n: NodeRecord): string {
  const parts = [n.host];
  if (n.dockerVersion !== undefined) { parts.push(`Docker ${n.dockerVersion}`); }
  if (n.state !== 'online') { parts.push(n.state); }
  return parts.join(' · ');
}

/** Network description: driver, scope, subnets. */
export function networkDescription(n: NetworkRecord, multiHost: boolean): string {
  const parts = [n.driver, n.scope];
  if (n.subnets.length > 0) { parts.push(n.subnets.join(', ')); }
  if (multiHost) { parts.push(`multi-host: ${n.nodes.join(', ')}`); }
  return parts.join(' · ');
}

/** The IPv4 addresses of a container, in network-name order. */
export function containerAddresses(c: ContainerRecord): string[] {
  return Object.keys(c.networks).sort().map((k) => c.networks[k]?.ipv4 ?? '').filter((ip) => ip !== '');
}

/** Container description: IPv4 addresses and published ports. */
export function containerDescription(c: ContainerRecord): string {
  const parts = [...containerAddresses(c)];
  if (c.ports.length > 0) { parts.push(c.ports.join(', ')); }
  if (parts.length === 0) { parts.push(c.state); }
  return parts.join(' · ');
}

function md(text: string): string {
  return text.replace(/([\\`*_{}[\]()#+\-.!|<>])/g, '\\$1');
}

/** Markdown tooltip of a container: image, state, ports, and per network IPv4 and MAC. */
export function containerTooltip(c: ContainerRecord): string {
  const lines = [
    `**${md(c.name)}** on ${md(c.node)}`,
    '',
    `- Image: \`${c.image}\``,
    `- State: ${md(c.status === '' ? c.state : c.status)}`,
    `- Id: \`${c.id.slice(0, 12)}\``,
  ];
  if (c.ports.length > 0) { lines.push(`- Ports: ${c.ports.map((p) => `\`${p}\``).join(', ')}`); }
  const nets = Object.keys(c.networks).sort();
  if (nets.length > 0) {
    lines.push('', '| Network | IPv4 | MAC |', '|---|---|---|');
    for (const k of nets) {
      const n = c.networks[k];
      lines.push(`| ${md(k)} | ${n?.ipv4 === '' || n === undefined ? '—' : `\`${n.ipv4}\``} | ${n?.mac === '' || n === undefined ? '—' : `\`${n.mac}\``} |`);
    }
  }
  return lines.join('\n');
}

/** Label and fix command of a node's connection error, by LabError code. */
export function connectionErrorView(node: string, code: string): { label: string; commandId: string; title: string } {
  switch (code) {
    case 'HostKeyChanged':
      return { label: 'Host key changed — Show fix', commandId: nodeCommandIds.nodeShowHostKeyFix, title: 'Show fix' };
    case 'HostKeyRejected':
    case 'HostKeyUnknown':
      return { label: 'Host key not trusted — Connect to review it', commandId: nodeCommandIds.nodeConnect, title: 'Connect' };
    case 'AuthFailed':
      return { label: 'Authentication failed — Edit node', commandId: nodeCommandIds.nodeEdit, title: 'Edit node' };
    case 'SudoFailed':
      return { label: 'sudo failed — Edit node', commandId: nodeCommandIds.nodeEdit, title: 'Edit node' };
    case 'Unreachable':
    case 'Timeout':
    case 'Disconnected':
      return { label: 'Unreachable — Retry', commandId: nodeCommandIds.nodeConnect, title: 'Retry' };
    case 'DockerUnavailable':
    case 'DockerApiError':
      return { label: 'Docker not reachable — Retry', commandId: nodeCommandIds.nodeRefresh, title: 'Retry' };
    default:
      return { label: `Cannot connect to ${node} — Retry`, commandId: nodeCommandIds.nodeConnect, title: 'Retry' };
  }
}

function memberTooltip(m: NetworkMember, net: NetworkRecord): string {
  return [`**${md(m.name)}** on ${md(m.node)}`, '', `- Network: ${md(net.name)}`,
    `- IPv4: ${m.ipv4 === '' ? '—' : `\`${m.ipv4}\``}`, `- MAC: ${m.mac === '' ? '—' : `\`${m.mac}\``}`, `- State: ${md(m.state)}`].join('\n');
}

function networkTooltip(n: NetworkRecord, multiHost: boolean): string {
  const lines = [`**${md(n.name)}** (${md(n.driver)}, scope ${md(n.scope)})`, '', `- Id: \`${n.id.slice(0, 12)}\``];
  if (n.subnets.length > 0) { lines.push(`- Subnet: ${n.subnets.map((x) => `\`${x}\``).join(', ')}`); }
  if (n.gateways.length > 0) { lines.push(`- Gateway: ${n.gateways.map((x) => `\`${x}\``).join(', ')}`); }
  lines.push(`- Nodes: ${n.nodes.map(md).join(', ')}`);
  if (multiHost) { lines.push('', 'Spans several nodes: its members from every node are listed under **Multi-host networks**.'); }
  return lines.join('\n');
}

function nodeTooltip(n: NodeRecord, lab: boolean): string {
  const lines = [`**${md(n.name)}** — ${md(n.state)}`, '', `- Host: \`${n.host}\``];
  if (n.hostname !== undefined) { lines.push(`- Hostname: \`${n.hostname}\``); }
  if (n.dockerVersion !== undefined) { lines.push(`- Docker: ${md(n.dockerVersion)}`); }
  lines.push(`- Networks: ${n.networks.length}, containers: ${n.containers.length}`);
  lines.push(`- Defined by: ${lab ? 'the local lab (nodes file)' : 'your settings (dockerNetLab.nodes)'}`);
  if (n.error !== undefined) { lines.push('', `$(error) ${md(n.error.message)}`); }
  return lines.join('\n');
}

/** How one element looks. Returns undefined when the element no longer exists in the state. */
export function presentationOf(s: NodesViewState, e: NodesElement): NodesItemView | undefined {
  const id = elementId(e);
  switch (e.kind) {
    case 'configProblem':
      return {
        id, label: e.problem.index >= 0 ? `${e.problem.source}[${e.problem.index}]: ${e.problem.field}` : `${e.problem.source}: ${e.problem.field}`,
        description: 'invalid node — Open Settings', tooltip: md(e.problem.message),
        icon: { id: 'error', color: 'problemsErrorIcon.foreground' }, contextValue: 'configProblem', collapsible: 'none',
        command: { id: nodeCommandIds.nodeOpenSettings, title: 'Open Settings', args: [] },
      };
    case 'multiHostGroup':
      return {
        id, label: 'Multi-host networks', description: `${s.snapshot.multiHostNetworks.length}`,
        tooltip: 'Networks that exist on more than one node (overlay), shown once with their members from every node.',
        icon: { id: 'type-hierarchy' }, contextValue: 'multiHostGroup', collapsible: 'expanded',
      };
    case 'node': {
      const n = findNode(s, e.node);
      if (n === undefined) { return undefined; }
      const lab = s.labNodes.has(n.name);
      return {
        id, label: n.name, description: nodeDescription(n), tooltip: nodeTooltip(n, lab), icon: nodeStateIcon(n.state),
        contextValue: `node.${n.state === 'online' || n.state === 'connecting' ? 'connected' : 'disconnected'}.${lab ? 'lab' : 'user'}`,
        // expanded even while empty: an item that starts as "none" stays collapsed once children arrive
        collapsible: s.trusted ? 'expanded' : 'none',
      };
    }
    case 'nodeError': {
      const n = findNode(s, e.node);
      if (n?.error === undefined) { return undefined; }
      const v = connectionErrorView(n.name, n.error.code);
      return {
        id, label: v.label, description: n.error.code,
        tooltip: `${md(n.error.message)}${n.error.fix === undefined ? '' : `\n\n**Fix:** ${md(n.error.fix)}`}`,
        icon: { id: 'warning', color: 'problemsWarningIcon.foreground' }, contextValue: `nodeError.${n.error.code}`, collapsible: 'none',
        command: { id: v.commandId, title: v.title, args: [n.name] },
      };
    }
    case 'networks': {
      const n = findNode(s, e.node);
      if (n === undefined) { return undefined; }
      return { id, label: 'Networks', description: `${n.networks.length}`, icon: { id: 'type-hierarchy-sub' }, contextValue: 'networks', collapsible: 'collapsed' };
    }
    case 'containers': {
      const n = findNode(s, e.node);
      if (n === undefined) { return undefined; }
      const running = n.containers.filter((c) => c.state === 'running').length;
      return { id, label: 'Containers', description: `${running}/${n.containers.length} running`, icon: { id: 'package' }, contextValue: 'containers', collapsible: 'expanded' };
    }
    case 'network': {
      const net = findNetwork(s, e.node, e.networkId);
      if (net === undefined) { return undefined; }
      const merged = s.snapshot.multiHostNetworks.find((n) => n.id === net.id);
      const multi = merged !== undefined;
      const leaf = e.node !== undefined && multi;
      return {
        id, label: net.name, description: networkDescription(merged ?? net, multi), tooltip: networkTooltip(merged ?? net, multi),
        icon: multi ? { id: 'globe', color: 'charts.blue' } : { id: 'symbol-interface' },
        contextValue: multi ? 'network.multiHost' : 'network',
        // a multi-host network is expanded even while empty: VS Code keeps a "none" item collapsed once members arrive
        collapsible: leaf ? 'none' : e.node === undefined ? 'expanded' : net.members.length === 0 ? 'none' : 'collapsed',
      };
    }
    case 'member': {
      const net = findNetwork(s, e.netNode, e.networkId);
      const m = net?.members.find((x) => x.node === e.node && x.containerId === e.containerId);
      if (net === undefined || m === undefined) { return undefined; }
      return {
        id, label: m.name, description: [m.node, m.ipv4].filter((x) => x !== '').join(' · '), tooltip: memberTooltip(m, net),
        icon: containerStateIcon(m.state), contextValue: 'container.member', collapsible: 'none',
      };
    }
    case 'container': {
      const c = findNode(s, e.node)?.containers.find((x) => x.id === e.containerId);
      if (c === undefined) { return undefined; }
      return {
        id, label: c.name, description: containerDescription(c), tooltip: containerTooltip(c), icon: containerStateIcon(c.state),
        contextValue: c.state === 'running' ? 'container.running' : 'container.stopped', collapsible: 'none',
      };
    }
  }
}

/** A short fingerprint of what a node renders (to decide which elements changed). */
function nodeSignature(n: NodeRecord): string {
  return JSON.stringify(n);
}

/**
 * What changed between two snapshots: `root` when the node list, the multi-host networks or many
 * nodes changed; otherwise the names of the nodes whose subtree must be re-rendered (may be empty).
 */
export function changedNodes(prev: TopologySnapshot | undefined, next: TopologySnapshot): 'root' | string[] {
  if (prev === undefined) { return 'root'; }
  if (prev.nodes.map((n) => n.name).join('\n') !== next.nodes.map((n) => n.name).join('\n')) { return 'root'; }
  if (JSON.stringify(prev.multiHostNetworks) !== JSON.stringify(next.multiHostNetworks)) { return 'root'; }
  const changed: string[] = [];
  for (const [i, n] of next.nodes.entries()) {
    const p = prev.nodes[i];
    if (p === undefined || nodeSignature(p) !== nodeSignature(n)) { changed.push(n.name); }
  }
  return changed;
}

/** The status bar text and per-node lines: `$(server) 2/2 nodes`. */
export function statusSummary(snapshot: TopologySnapshot): { text: string; lines: string[]; allOnline: boolean } {
  const online = snapshot.nodes.filter((n) => n.state === 'online').length;
  const total = snapshot.nodes.length;
  const connecting = snapshot.nodes.some((n) => n.state === 'connecting');
  const icon = connecting ? '$(sync~spin)' : '$(server)';
  return {
    text: `${icon} ${online}/${total} node${total === 1 ? '' : 's'}`,
    lines: snapshot.nodes.map((n) => `${n.name} (${n.host}): ${n.state}${n.dockerVersion === undefined ? '' : `, Docker ${n.dockerVersion}`}${n.error === undefined ? '' : ` — ${n.error.message}`}`),
    allOnline: total > 0 && online === total,
  };
}
