import type { OverlayPath } from './labDefinition';
import { majorVersion } from './labFacts';

/** What {@link decideOverlayPath} looks at for one node. */
export interface OverlayPathNode {
  /** Configured node name, e.g. `docker-node1`. */
  readonly name: string;
  /** `docker version` of the node's engine; empty when unknown (dockerd down). */
  readonly dockerVersion: string;
}

/** The inputs of {@link decideOverlayPath}. */
export interface OverlayPathRequest {
  /** The lab's nodes (node1, node2), in order. */
  readonly nodes: readonly OverlayPathNode[];
  /** Highest Docker major version that still has `--cluster-store` (the lab's `clusterStoreMaxDockerMajor`). */
  readonly clusterStoreMaxDockerMajor: number;
  /** The path asked for this run (`--path`, a pick in the Steps view): honoured, or refused with the reason. */
  readonly explicit?: OverlayPath;
  /** The path saved from an earlier choice (progress file): followed where these nodes allow it. */
  readonly saved?: OverlayPath;
}

/** The overlay path the lab takes, and why, in one sentence. */
export interface OverlayPathDecision {
  readonly path: OverlayPath;
  /** `choice`: an explicit or saved choice decided it; `docker-version`: the nodes' Docker versions did. */
  readonly source: 'choice' | 'docker-version';
  /** One sentence for the user: what was taken and why (names the node and its Docker). */
  readonly reason: string;
  /**
   * Set when the cluster-store path cannot run on these nodes (a node runs a Docker without `--cluster-store`):
   * why, in one sentence. Undefined when both paths are possible (or a version is unknown).
   */
  readonly clusterStoreBlocker?: string;
  /**
   * Set when the explicit choice cannot run (cluster-store asked on a Docker without it): the reason, so the caller
   * stops before anything runs. `path` is then the chosen path.
   */
  readonly refusal?: string;
}

/** `26.1.5+dfsg1` → `26.1`; anything without major.minor stays as it is. */
function shortVersion(v: string): string {
  const m = /^(\d+)\.(\d+)/.exec(v);
  return m === null ? v : `${m[1] ?? ''}.${m[2] ?? ''}`;
}

/** `docker-node1` / `docker-node1 and docker-node2`. */
function nodeList(names: readonly string[]): string {
  return names.length <= 1 ? names.join('') : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1] ?? ''}`;
}

/** Nodes grouped by short Docker version: `Docker 26.1 on docker-node1 and docker-node2`. */
function dockerOn(nodes: readonly OverlayPathNode[]): string {
  const byVersion = new Map<string, string[]>();
  for (const n of nodes) { byVersion.set(shortVersion(n.dockerVersion), [...(byVersion.get(shortVersion(n.dockerVersion)) ?? []), n.name]); }
  return [...byVersion].map(([v, names]) => `Docker ${v} on ${nodeList(names)}`).join(' and ');
}

/**
 * Decides the overlay path for the guided lab, for the CLI and VS Code alike. Pure.
 *
 * Rules: `--cluster-store` exists only up to Docker `clusterStoreMaxDockerMajor` (22; dockerd 23 removed it), and an
 * overlay needs the same store on every node, so one node on Docker 23+ makes the cluster store impossible for the
 * pair — a mixed pair (20.10 + 26) takes the swarm path, which Docker 20.10 has as well. Where the cluster store is
 * impossible, an explicit cluster-store choice is refused (`refusal`), a saved one gives way to swarm (said in
 * `reason`). Where both paths are possible, the explicit choice, then the saved one, decides; without any, the
 * cluster store (the tutorial's own way) is taken when every node's version is known, swarm otherwise (an unknown
 * version is not assumed old).
 */
export function decideOverlayPath(req: OverlayPathRequest): OverlayPathDecision {
  const max = req.clusterStoreMaxDockerMajor;
  const tooNew = req.nodes.filter((n) => (majorVersion(n.dockerVersion) ?? 0) > max);
  const unknown = req.nodes.filter((n) => majorVersion(n.dockerVersion) === undefined);
  const chosen = req.explicit ?? req.saved;
  if (tooNew.length > 0) {
    const old = req.nodes.filter((n) => !tooNew.includes(n) && !unknown.includes(n));
    const mixed = old.length > 0
      ? `, and both nodes need the same store (${dockerOn(old)} has swarm mode too)`
      : '';
    const blocker = `${dockerOn(tooNew)} has no --cluster-store (removed in Docker ${max + 1})${mixed}`;
    if (req.explicit === 'cluster-store') {
      const first = tooNew[0];
      const refusal = `The cluster-store path needs Docker ${max} or older on every node, but ${first?.name ?? '?'} runs Docker ${first?.dockerVersion ?? '?'}: `
        + `dockerd ${max + 1} and later have no --cluster-store/--cluster-advertise (the daemon refuses to start with them). `
        + 'Overlay networks on this Docker come from swarm mode.';
      return { path: 'cluster-store', source: 'choice', clusterStoreBlocker: blocker, reason: refusal, refusal };
    }
    const savedAside = req.saved === 'cluster-store' && req.explicit === undefined ? ' (the saved cluster-store choice does not apply to these nodes)' : '';
    return {
      path: 'swarm', source: chosen === 'swarm' ? 'choice' : 'docker-version', clusterStoreBlocker: blocker,
      reason: `${blocker}: taking the swarm path${savedAside}.`,
    };
  }
  if (chosen !== undefined) {
    const known = req.nodes.filter((n) => !unknown.includes(n));
    const why = unknown.length > 0
      ? `the Docker version of ${nodeList(unknown.map((n) => n.name))} is unknown (is dockerd running?)`
      : `${dockerOn(known)} allows both paths`;
    return { path: chosen, source: 'choice', reason: `Taking the ${chosen} path, as chosen (${why}).` };
  }
  if (unknown.length > 0 || req.nodes.length === 0) {
    const names = unknown.map((n) => n.name);
    return {
      path: 'swarm', source: 'docker-version',
      reason: `${names.length === 0 ? 'No node is known' : `The Docker version of ${nodeList(names)} is unknown (is dockerd running?)`}: taking the swarm path, which every current Docker has.`,
    };
  }
  return {
    path: 'cluster-store', source: 'docker-version',
    reason: `${dockerOn(req.nodes)} still has --cluster-store: taking the cluster-store path, the tutorial's 2017 way (the swarm path works here too).`,
  };
}
