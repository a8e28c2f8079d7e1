import * as fs from 'node:fs';
import * as path from 'node:path';
import { LabError } from '../src/core/errors';
import type { NodesFile } from '../src/core/nodes/nodesFile';
import type { LabMode, LabNode, LabPaths, NodePaths } from './labLayout';
import { labNodes } from './labLayout';
import { etcdArgs } from './labConfig';
import { modernRootfsFiles } from './modernRootfs';
import type { VmFlavour } from './vmFlavours';
import { vmFlavours } from './vmFlavours';

/**
 * Which userspace the lab nodes run:
 * - `legacy`: the host's own binaries (Debian 12: Docker 20.10, etcd 3.4, OpenSSH 9) on both nodes;
 * - `modern`: a Debian trixie root filesystem (Docker 26, etcd 3.5, OpenSSH 10) on both nodes;
 * - `mixed`: docker-node1 legacy, docker-node2 modern;
 * - `vm`: both nodes are QEMU virtual machines running Debian forky (own kernel, systemd, Docker 28; lab/vmLab.ts);
 * - `vm-legacy`: both nodes are Debian bookworm VMs (Docker 20.10 under systemd 252, etcd 3.4).
 * Names and addresses are the same in every profile.
 */
export type LabProfile = 'legacy' | 'modern' | 'mixed' | 'vm' | 'vm-legacy';

/** The profiles, default first. */
export const labProfiles: readonly LabProfile[] = ['legacy', 'modern', 'mixed', 'vm', 'vm-legacy'];

/** What one node runs: the host's binaries (`legacy`), the trixie rootfs (`modern`) or a virtual machine (`vm`). */
export type NodeKind = 'legacy' | 'modern' | 'vm';

/** The profiles whose nodes are virtual machines. */
export type VmProfile = 'vm' | 'vm-legacy';

/** True when the nodes of `profile` are QEMU virtual machines. */
export function isVmProfile(profile: LabProfile): profile is VmProfile {
  return profile === 'vm' || profile === 'vm-legacy';
}

/** The Debian release the VMs of a VM profile run. */
export function vmFlavourOf(profile: VmProfile): VmFlavour {
  return profile === 'vm' ? 'forky' : 'bookworm';
}

/** True when `s` names a profile. */
export function isLabProfile(s: unknown): s is LabProfile {
  return typeof s === 'string' && (labProfiles as readonly string[]).includes(s);
}

/** The kind of `node` in `profile` (mixed: the first node legacy, the others modern). */
export function nodeKind(profile: LabProfile, node: LabNode): NodeKind {
  if (isVmProfile(profile)) { return 'vm'; }
  if (profile === 'legacy') { return 'legacy'; }
  if (profile === 'modern') { return 'modern'; }
  return node.name === labNodes[0]?.name ? 'legacy' : 'modern';
}

/** True when some node of the profile runs from the modern rootfs (which must then be built). */
export function profileNeedsModernRootfs(profile: LabProfile): boolean {
  return labNodes.some((n) => nodeKind(profile, n) === 'modern');
}

/**
 * The dockerd mode a profile runs in. Docker 24+ refuses `--cluster-store` (`unknown flag: --cluster-store`),
 * so a profile with a modern node cannot run the etcd cluster store: its default is `swarm`, and an explicit
 * `--mode cluster` is refused.
 * @throws LabError `InvalidInput` for `--mode cluster` with a modern node.
 */
export function modeForProfile(profile: LabProfile, mode: LabMode, modeGiven: boolean): LabMode {
  if (isVmProfile(profile)) {
    const spec = vmFlavours[vmFlavourOf(profile)];
    if (!modeGiven) { return spec.defaultMode; }
    if (mode === 'cluster' && spec.defaultMode !== 'cluster') {
      throw new LabError('InvalidInput',
        `--mode cluster needs Docker 20.10 or older, but profile "${profile}" runs Docker 28 (no --cluster-store since Docker 24). Use --profile vm-legacy for the cluster store.`);
    }
    return mode;
  }
  if (!profileNeedsModernRootfs(profile) || mode !== 'cluster') { return mode; }
  if (modeGiven) {
    throw new LabError('InvalidInput',
      `--mode cluster needs Docker 20.10 or older on every node, but profile "${profile}" runs Docker 26 (no --cluster-store since Docker 24). ` +
      'Use --mode swarm (swarm-mode --attachable overlay) or --mode plain, or --profile legacy for the cluster store.');
  }
  return 'swarm';
}

/** How a node's etcd member runs. */
export interface EtcdPlan {
  /** Program (a path valid inside the node). */
  readonly program: string;
  readonly args: readonly string[];
  /** Data directory (host path; the same path inside every node). */
  readonly dataDir: string;
  /** etcd minor version line: 3.4 (host) or 3.5 (trixie rootfs). */
  readonly series: '3.4' | '3.5';
}

/**
 * The etcd of a node. One etcd version per cluster: etcd 3.4 cannot join a 3.5 cluster
 * (`incompatible with current running cluster`), so in `mixed` the legacy node runs the trixie rootfs's
 * etcd 3.5 binary too; every profile with a modern node is an etcd 3.5 cluster. Each version line keeps its
 * own data directory (3.5 upgrades a 3.4 data dir one way only).
 */
export function etcdPlan(profile: LabProfile, node: LabNode, np: NodePaths, paths: LabPaths): EtcdPlan {
  if (!profileNeedsModernRootfs(profile)) {
    return { program: 'etcd', args: etcdArgs(node, np), dataDir: np.etcdData, series: '3.4' };
  }
  const dataDir = path.join(np.dir, 'etcd-3.5');
  const args = etcdArgs(node, np).map((a) => (a === np.etcdData ? dataDir : a));
  const program = nodeKind(profile, node) === 'modern' ? '/usr/bin/etcd' : path.join(modernRootfsFiles(paths).rootfs, 'usr', 'bin', 'etcd');
  return { program, args, dataDir, series: '3.5' };
}

/** One line per node for `lab up` output: what it runs. */
export function profileSummary(profile: LabProfile): string[] {
  if (isVmProfile(profile)) {
    const spec = vmFlavours[vmFlavourOf(profile)];
    return labNodes.map((n) => `${n.name} ${n.ip}: ${spec.summary}; user learner (sudo asks for a password), ufw on (22/tcp only)`);
  }
  const lines = labNodes.map((n) => (nodeKind(profile, n) === 'modern'
    ? `${n.name} ${n.ip}: modern (Debian trixie rootfs: Docker 26, etcd 3.5, OpenSSH 10)`
    : `${n.name} ${n.ip}: legacy (host binaries: Docker 20.10, etcd ${profileNeedsModernRootfs(profile) ? '3.5 from the trixie rootfs' : '3.4'}, OpenSSH 9)`));
  if (profile === 'mixed') {
    lines.push('mixed: etcd 3.4 cannot join an etcd 3.5 cluster ("incompatible with current running cluster"), ' +
      'so both members run etcd 3.5 (the trixie binary also on the legacy node); dockerd runs without cluster-store flags ' +
      '(Docker 26 refuses them): use swarm mode (docker-node2 or docker-node1 as manager, --attachable overlay).');
  }
  return lines;
}

/** File (in the lab home) naming the profile of the lab that `up` brought up last. */
export function profileFile(paths: LabPaths): string {
  return path.join(paths.home, 'lab-profile.json');
}

/** The profile of the last `up` (legacy when none was recorded). */
export function readLabProfile(paths: LabPaths): LabProfile {
  try {
    const p = (JSON.parse(fs.readFileSync(profileFile(paths), 'utf8')) as { profile?: unknown }).profile;
    return isLabProfile(p) ? p : 'legacy';
  } catch {
    return 'legacy';
  }
}

/** Records the profile of the lab now up, with each node's kind. */
export function writeLabProfile(paths: LabPaths, profile: LabProfile): void {
  const nodes = Object.fromEntries(labNodes.map((n) => [n.name, nodeKind(profile, n)]));
  fs.mkdirSync(paths.home, { recursive: true });
  fs.writeFileSync(profileFile(paths), `${JSON.stringify({ profile, nodes }, null, 2)}\n`);
}

/** What `up` does about the profile. */
export interface ProfilePlan {
  readonly profile: LabProfile;
  /** The dockerd mode to use ({@link modeForProfile}). */
  readonly mode: LabMode;
  /** A running lab has another profile: it is taken down (data kept) and brought up again. */
  readonly switching: boolean;
}

/**
 * Decides the profile of `up`: the requested one, else the running lab's, else `legacy`.
 * @throws LabError `InvalidInput` for `--mode cluster` with a modern node.
 */
export function planProfile(paths: LabPaths, running: boolean, requested: LabProfile | undefined, mode: LabMode, modeGiven: boolean): ProfilePlan {
  const current = readLabProfile(paths);
  const profile = requested ?? (running ? current : 'legacy');
  const switching = running && profile !== current;
  // a running modern lab keeps its mode unless one is given; a switch re-applies the default of the new profile
  return { profile, mode: modeForProfile(profile, mode, modeGiven), switching };
}

/** Facts about one node that the nodes file and `lab status` report. */
export interface NodeVersionFacts {
  readonly kind: NodeKind;
  /** Where its binaries come from, e.g. `host (Debian 12)` or `Debian trixie rootfs`. */
  readonly userspace: string;
  readonly dockerVersion?: string;
  readonly etcdVersion?: string;
}

/** The userspace label of a node kind. */
export function userspaceOf(kind: NodeKind): string {
  if (kind === 'vm') { return 'QEMU virtual machine'; }
  return kind === 'modern' ? 'Debian trixie rootfs' : 'host';
}

/**
 * Adds the profile and per-node versions to a lab nodes file: `lab.nodeProfile`, `lab.nodes` (name → facts)
 * and a `facts` record on every node (kind, userspace, Docker and etcd versions). The existing fields stay.
 */
export function withProfileFacts(file: NodesFile, profile: LabProfile, facts: ReadonlyMap<string, NodeVersionFacts>): NodesFile {
  const perNode: Record<string, NodeVersionFacts> = {};
  for (const [k, v] of facts) { perNode[k] = v; }
  return {
    ...file,
    lab: { ...(file.lab ?? {}), nodeProfile: profile, nodes: perNode },
    nodes: file.nodes.map((n) => {
      const f = facts.get(n.name);
      return f === undefined ? n : { ...n, facts: { ...f } };
    }),
  };
}
