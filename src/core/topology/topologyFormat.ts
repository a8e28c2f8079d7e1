import type { NetworkRecord, NodeRecord, TopologySnapshot } from './topologyTypes';

/** A network member in the `tree --json` document. */
export interface TreeJsonMember {
  readonly name: string;
  readonly id: string;
  /** IPv4 without prefix length ('' when none). */
  readonly ipv4: string;
  readonly mac: string;
  readonly node: string;
  readonly state: string;
}

/** A network in the `tree --json` document. */
export interface TreeJsonNetwork {
  readonly name: string;
  readonly id: string;
  readonly driver: string;
  readonly scope: string;
  /** First subnet in CIDR form ('' when none). */
  readonly subnet: string;
  readonly subnets: readonly string[];
  /** First gateway ('' when none). */
  readonly gateway: string;
  /** Nodes on which the network exists. */
  readonly nodes: readonly string[];
  readonly containers: readonly TreeJsonMember[];
}

/** A node in the `tree --json` document. */
export interface TreeJsonNode {
  readonly name: string;
  readonly host: string;
  readonly state: string;
  readonly error?: { readonly code: string; readonly message: string; readonly fix?: string };
  readonly dockerVersion?: string;
  readonly hostname?: string;
  readonly transport?: string;
  readonly networks: readonly TreeJsonNetwork[];
  readonly containers: readonly {
    readonly name: string; readonly id: string; readonly image: string; readonly state: string; readonly status: string;
    readonly ports: readonly string[]; readonly networks: Readonly<Record<string, { readonly ipv4: string; readonly mac: string; readonly networkId: string }>>;
  }[];
}

/** The document `docker-net-lab tree --json` prints. */
export interface TreeJson {
  readonly nodes: readonly TreeJsonNode[];
  readonly multiHostNetworks: readonly TreeJsonNetwork[];
}

function networkJson(n: NetworkRecord): TreeJsonNetwork {
  return {
    name: n.name, id: n.id, driver: n.driver, scope: n.scope,
    subnet: n.subnets[0] ?? '', subnets: n.subnets, gateway: n.gateways[0] ?? '', nodes: n.nodes,
    containers: n.members.map((m) => ({ name: m.name, id: m.containerId, ipv4: m.ipv4, mac: m.mac, node: m.node, state: m.state })),
  };
}

function nodeJson(n: NodeRecord): TreeJsonNode {
  return {
    name: n.name, host: n.host, state: n.state,
    ...(n.error === undefined ? {} : { error: n.error }),
    ...(n.dockerVersion === undefined ? {} : { dockerVersion: n.dockerVersion }),
    ...(n.hostname === undefined ? {} : { hostname: n.hostname }),
    ...(n.transport === undefined ? {} : { transport: n.transport }),
    networks: n.networks.map(networkJson),
    containers: n.containers.map((c) => ({ name: c.name, id: c.id, image: c.image, state: c.state, status: c.status, ports: c.ports, networks: c.networks })),
  };
}

/** The `tree --json` document of a snapshot. */
export function topologyToJson(s: TopologySnapshot): TreeJson {
  return { nodes: s.nodes.map(nodeJson), multiHostNetworks: s.multiHostNetworks.map(networkJson) };
}

function memberLine(m: TreeJsonMember, withNode: boolean): string {
  const addr = m.ipv4 === '' ? '(no address)' : m.ipv4;
  return `${m.name}  ${addr}${m.mac === '' ? '' : `  ${m.mac}`}${withNode ? `  @${m.node}` : ''}${m.state === 'running' ? '' : `  [${m.state}]`}`;
}

function networkLines(n: TreeJsonNetwork, indent: string, withNode: boolean): string[] {
  const where = n.subnet === '' ? '' : `  ${n.subnets.join(', ')}${n.gateway === '' ? '' : ` gw ${n.gateway}`}`;
  const lines = [`${indent}${n.name}  (${n.driver}, ${n.scope})${where}`];
  for (const m of n.containers) { lines.push(`${indent}  - ${memberLine(m, withNode)}`); }
  return lines;
}

/** The human `tree` output: an indented tree of nodes → networks → containers, then multi-host networks. */
export function formatTopologyTree(s: TopologySnapshot): string {
  const doc = topologyToJson(s);
  const lines: string[] = [];
  for (const n of doc.nodes) {
    const facts = [n.state, n.dockerVersion === undefined ? '' : `docker ${n.dockerVersion}`, n.transport ?? ''].filter((x) => x !== '').join(', ');
    lines.push(`${n.name} (${n.host}) ${facts}`);
    if (n.error !== undefined) {
      lines.push(`  ! ${n.error.code}: ${n.error.message}`);
      if (n.error.fix !== undefined) { lines.push(`    fix: ${n.error.fix}`); }
    }
    for (const net of n.networks) { lines.push(...networkLines(net, '  ', false)); }
    const unattached = n.containers.filter((c) => Object.keys(c.networks).length === 0);
    for (const c of unattached) { lines.push(`  (no network) ${c.name} [${c.state}]`); }
  }
  if (doc.multiHostNetworks.length > 0) {
    lines.push('multi-host networks');
    for (const net of doc.multiHostNetworks) {
      lines.push(...networkLines({ ...net, name: `${net.name} on ${net.nodes.join(' + ')}` }, '  ', true));
    }
  }
  return `${lines.join('\n')}\n`;
}
