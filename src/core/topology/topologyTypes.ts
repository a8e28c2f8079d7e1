/**
 * The merged view of both Docker engines: nodes → networks → containers. Produced by the topology
 * service in the core, rendered by the VS Code tree and `docker-net-lab tree`.
 */

/** Connection state of one node. */
export type NodeState = 'connecting' | 'online' | 'offline' | 'error' | 'disconnected';

/** One container's membership in one network on one node. */
export interface ContainerRecord {
  /** Full container id. */
  readonly id: string;
  /** Name without the leading slash. */
  readonly name: string;
  /** The node the container runs on. */
  readonly node: string;
  /** Image name as docker reports it. */
  readonly image: string;
  /** `running`, `exited`, `created`, … */
  readonly state: string;
  /** Human status, e.g. `Up 3 minutes`. */
  readonly status: string;
  /** Published ports, e.g. `0.0.0.0:5000->5000/tcp`. */
  readonly ports: readonly string[];
  /** Per network name: IPv4 (without prefix length), MAC. */
  readonly networks: Readonly<Record<string, { readonly ipv4: string; readonly mac: string; readonly networkId: string }>>;
}

/** A network member as shown under a network: which container, on which node, with which address. */
export interface NetworkMember {
  readonly containerId: string;
  readonly name: string;
  readonly node: string;
  /** IPv4 without the prefix length; empty when none (e.g. the none/host networks). */
  readonly ipv4: string;
  readonly mac: string;
  readonly state: string;
  /** Published ports of the container (see {@link ContainerRecord.ports}). */
  readonly ports?: readonly string[];
}

/** A network; for overlay/global/swarm networks one record spans every node that has it. */
export interface NetworkRecord {
  /** Full network id (the same on every node for an overlay network). */
  readonly id: string;
  readonly name: string;
  /** `bridge`, `host`, `null`, `overlay`, … */
  readonly driver: string;
  /** `local`, `global` or `swarm`. */
  readonly scope: string;
  /** Subnets in CIDR form. */
  readonly subnets: readonly string[];
  /** Gateways, one per subnet where known. */
  readonly gateways: readonly string[];
  /** Nodes on which this network exists. */
  readonly nodes: readonly string[];
  /** Member containers from every node. */
  readonly members: readonly NetworkMember[];
  /** `--internal` network. */
  readonly internal?: boolean;
  /** `--attachable` (swarm overlay). */
  readonly attachable?: boolean;
}

/** One node with its engine facts and what it runs. */
export interface NodeRecord {
  readonly name: string;
  readonly host: string;
  readonly state: NodeState;
  /** Why the node is offline or in error, with the LabError code when known. */
  readonly error?: { readonly code: string; readonly message: string; readonly fix?: string };
  /** Docker server version, e.g. `20.10.24`. */
  readonly dockerVersion?: string;
  /** The hostname dockerd reports (`docker info` Name). */
  readonly hostname?: string;
  /** Networks visible on this node (local ones and the node's view of multi-host ones). */
  readonly networks: readonly NetworkRecord[];
  readonly containers: readonly ContainerRecord[];
  /** How the Docker API is reached: `streamlocal`, `dial-stdio` or `tcp`. */
  readonly transport?: string;
  /** Swarm state reported by `docker info` (`inactive`, `active`, …). */
  readonly swarmState?: string;
  /** Legacy cluster store (`etcd://…`) when dockerd runs with one. */
  readonly clusterStore?: string;
  /** When the node's data was last read, ms since the epoch. */
  readonly syncedAt?: number;
}

/** The whole picture at one moment. */
export interface TopologySnapshot {
  /** Milliseconds since the epoch when it was assembled. */
  readonly takenAt: number;
  readonly nodes: readonly NodeRecord[];
  /** Networks present on more than one node (same id), merged with members from each. */
  readonly multiHostNetworks: readonly NetworkRecord[];
}

/** Something that can be disposed (a listener registration). */
export interface Disposable {
  dispose(): void;
}

/**
 * The live topology of the configured nodes: kept current from Docker events (debounced) with a
 * periodic full resync. Implemented in the core; consumed by the VS Code tree and the CLI.
 */
export interface TopologySource {
  /** The latest snapshot (never throws; offline nodes are marked, not dropped). */
  snapshot(): TopologySnapshot;
  /** Called after every change of the snapshot. */
  onDidChange(listener: (snapshot: TopologySnapshot) => void): Disposable;
  /** Forces a full resync of one node or all. */
  refresh(node?: string): Promise<void>;
  /** Connects a node (or all) and starts following its events. */
  connect(node?: string): Promise<void>;
  /** Disconnects a node (or all), disposing its session, event stream and timers. */
  disconnect(node?: string): Promise<void>;
}
