import type { EngineContainer, EngineNetwork } from '../docker/dockerRecords';
import type { ContainerRecord, NetworkMember, NetworkRecord, NodeRecord, TopologySnapshot } from './topologyTypes';

/** What is known about one node at one moment: its state and (when read) its engine's records. */
export interface NodeFacts extends Omit<NodeRecord, 'networks' | 'containers'> {
  /** Last networks read from the engine (kept while the node is offline: stale but useful). */
  readonly networks?: readonly EngineNetwork[];
  /** Last containers read from the engine. */
  readonly containers?: readonly EngineContainer[];
}

const multiHostScopes = new Set(['global', 'swarm']);

function toContainerRecord(node: string, c: EngineContainer): ContainerRecord {
  return { id: c.id, name: c.name, node, image: c.image, state: c.state, status: c.status, ports: c.ports, networks: c.networks };
}

function membersOf(node: string, net: EngineNetwork, containers: readonly EngineContainer[], knownIds: ReadonlySet<string>): NetworkMember[] {
  const out: NetworkMember[] = [];
  for (const c of containers) {
    for (const [netName, ep] of Object.entries(c.networks)) {
      // a stopped container may still carry the id of a network that was recreated (the default bridge
      // gets a new id on every dockerd start): then its network name decides
      const same = ep.networkId !== '' && knownIds.has(ep.networkId) ? ep.networkId === net.id : netName === net.name;
      if (same) {
        out.push({ containerId: c.id, name: c.name, node, ipv4: ep.ipv4, mac: ep.mac, state: c.state, ports: c.ports });
      }
    }
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

function byName<T extends { readonly name: string }>(a: T, b: T): number {
  return a.name.localeCompare(b.name);
}

/**
 * Assembles a {@link TopologySnapshot} from per-node facts: per node its networks (with that node's
 * members) and containers; networks with the same id on more than one node, or of scope
 * `global`/`swarm`, are also merged once into `multiHostNetworks` with members from every node.
 * Node order is kept; networks and containers are sorted by name. Pure.
 */
export function mergeTopology(facts: readonly NodeFacts[], takenAt: number): TopologySnapshot {
  const nodesById = new Map<string, string[]>();
  for (const f of facts) {
    for (const n of f.networks ?? []) {
      const list = nodesById.get(n.id) ?? [];
      if (!list.includes(f.name)) { list.push(f.name); }
      nodesById.set(n.id, list);
    }
  }
  const nodes: NodeRecord[] = [];
  const multi = new Map<string, { base: EngineNetwork; subnets: Set<string>; gateways: Set<string>; members: NetworkMember[]; nodes: string[] }>();
  for (const f of facts) {
    const containers = f.containers ?? [];
    const networks: NetworkRecord[] = [];
    const knownIds = new Set((f.networks ?? []).map((n) => n.id));
    for (const n of f.networks ?? []) {
      const members = membersOf(f.name, n, containers, knownIds);
      const onNodes = nodesById.get(n.id) ?? [f.name];
      networks.push({
        id: n.id, name: n.name, driver: n.driver, scope: n.scope, subnets: n.subnets, gateways: n.gateways,
        nodes: onNodes, members, internal: n.internal, attachable: n.attachable,
      });
      if (onNodes.length > 1 || multiHostScopes.has(n.scope)) {
        const m = multi.get(n.id) ?? { base: n, subnets: new Set<string>(), gateways: new Set<string>(), members: [], nodes: [] };
        n.subnets.forEach((s) => m.subnets.add(s));
        n.gateways.forEach((g) => m.gateways.add(g));
        m.members.push(...members);
        if (!m.nodes.includes(f.name)) { m.nodes.push(f.name); }
        multi.set(n.id, m);
      }
    }
    nodes.push({
      name: f.name,
      host: f.host,
      state: f.state,
      ...(f.error === undefined ? {} : { error: f.error }),
      ...(f.dockerVersion === undefined ? {} : { dockerVersion: f.dockerVersion }),
      ...(f.hostname === undefined ? {} : { hostname: f.hostname }),
      ...(f.transport === undefined ? {} : { transport: f.transport }),
      ...(f.swarmState === undefined ? {} : { swarmState: f.swarmState }),
      ...(f.clusterStore === undefined ? {} : { clusterStore: f.clusterStore }),
      ...(f.syncedAt === undefined ? {} : { syncedAt: f.syncedAt }),
      networks: networks.sort(byName),
      containers: containers.map((c) => toContainerRecord(f.name, c)).sort(byName),
    });
  }
  const multiHostNetworks: NetworkRecord[] = [...multi.values()].map((m) => ({
    id: m.base.id, name: m.base.name, driver: m.base.driver, scope: m.base.scope,
    subnets: [...m.subnets], gateways: [...m.gateways], nodes: m.nodes,
    members: m.members.sort((a, b) => a.name.localeCompare(b.name) || a.node.localeCompare(b.node)),
    internal: m.base.internal, attachable: m.base.attachable,
  })).sort(byName);
  return { takenAt, nodes, multiHostNetworks };
}
