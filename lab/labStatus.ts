import * as fs from 'node:fs';
import type { LabMode, LabNode, LabPaths } from './labLayout';
import { dockerTcpPort, etcdClientPort, labNodes, nodePaths } from './labLayout';
import { modeFromFlagsText } from './labConfig';
import { daemonPid } from './labNodeControl';
import { nodeHttp, tcpBanner } from './labProc';
import type { LabProfile, NodeKind } from './labProfiles';
import { isVmProfile, nodeKind, readLabProfile, userspaceOf, vmFlavourOf } from './labProfiles';
import { vmNodeStatus } from './vmLab';

/** State of one daemon on a node. */
export interface DaemonStatus {
  /** Pid from the pidfile, when its process is alive. */
  readonly pid: number | null;
  /** Process alive and answering (SSH banner, etcd /health, dockerd /_ping). */
  readonly up: boolean;
  readonly version?: string;
}

/** State of one lab node. */
export interface NodeStatus {
  readonly name: string;
  readonly address: string;
  readonly sshd: DaemonStatus;
  readonly etcd: DaemonStatus;
  readonly dockerd: DaemonStatus;
  /** cluster (etcd cluster store flags), swarm (swarm active), plain, or unknown when dockerd is down. */
  readonly mode: LabMode | 'unknown';
  /** legacy (host binaries) or modern (Debian trixie rootfs), from the profile of the last `up`. */
  readonly kind?: NodeKind;
}

/** State of the whole lab. */
export interface LabStatus {
  readonly up: boolean;
  readonly nodes: readonly NodeStatus[];
  /** Profile of the last `up` (legacy, modern or mixed). */
  readonly profile?: LabProfile;
}



function json(body: string | undefined): Record<string, unknown> | undefined {
  try { return body === undefined ? undefined : (JSON.parse(body) as Record<string, unknown>); } catch { return undefined; }
}

/** Probes one node (pid liveness + each daemon actually answering; etcd and dockerd asked from inside the node). */
export async function nodeStatus(node: LabNode, paths: LabPaths): Promise<NodeStatus> {
  const np = nodePaths(paths, node);
  const sshPid = daemonPid(np, 'sshd') ?? null;
  const etcdPid = daemonPid(np, 'etcd') ?? null;
  const dockerPid = daemonPid(np, 'dockerd') ?? null;
  const [banner, health, etcdVer, ping, dockerVer, info] = await Promise.all([
    sshPid === null ? undefined : tcpBanner(node.ip, 22, 2000),
    etcdPid === null ? undefined : nodeHttp(node.name, etcdClientPort, '/health', 'GET', 2000),
    etcdPid === null ? undefined : nodeHttp(node.name, etcdClientPort, '/version', 'GET', 2000),
    dockerPid === null ? undefined : nodeHttp(node.name, dockerTcpPort, '/_ping', 'GET', 2000),
    dockerPid === null ? undefined : nodeHttp(node.name, dockerTcpPort, '/version', 'GET', 3000),
    dockerPid === null ? undefined : nodeHttp(node.name, dockerTcpPort, '/info', 'GET', 3000),
  ]);
  const dockerUp = ping?.body === 'OK';
  let flagsText = '';
  try { flagsText = fs.readFileSync(np.dockerdFlags, 'utf8'); } catch { /* none saved */ }
  const saved = modeFromFlagsText(flagsText);
  const swarm = (json(info?.body)?.['Swarm'] as { LocalNodeState?: string } | undefined)?.LocalNodeState;
  const mode: NodeStatus['mode'] = !dockerUp ? 'unknown' : saved === 'cluster' ? 'cluster' : swarm === 'active' ? 'swarm' : saved;
  const etcdVersion = json(etcdVer?.body)?.['etcdserver'];
  const dockerVersion = json(dockerVer?.body)?.['Version'];
  return {
    name: node.name,
    address: node.ip,
    sshd: { pid: sshPid, up: banner?.startsWith('SSH-') === true, ...(banner === undefined ? {} : { version: banner }) },
    etcd: { pid: etcdPid, up: health?.status === 200 && /"health"\s*:\s*"true"/.test(health.body), ...(typeof etcdVersion === 'string' ? { version: etcdVersion } : {}) },
    dockerd: { pid: dockerPid, up: dockerUp, ...(typeof dockerVersion === 'string' ? { version: dockerVersion } : {}) },
    mode,
  };
}

/** Probes both nodes. `up` is true when every daemon on every node answers. */
export async function labStatus(paths: LabPaths): Promise<LabStatus> {
  const profile = readLabProfile(paths);
  if (isVmProfile(profile)) {
    const flavour = vmFlavourOf(profile);
    const vms = await Promise.all(labNodes.map((n) => vmNodeStatus(paths, flavour, n)));
    return { up: vms.every((n) => n.sshd.up && n.dockerd.up), nodes: vms, profile };
  }
  const nodes = await Promise.all(labNodes.map(async (n) => ({ ...(await nodeStatus(n, paths)), kind: nodeKind(profile, n) })));
  return { up: nodes.every((n) => n.sshd.up && n.etcd.up && n.dockerd.up), nodes, profile };
}

/** Human-readable status lines. */
export function formatStatus(s: LabStatus): string {
  const d = (x: DaemonStatus): string => (x.up ? `up (pid ${x.pid ?? '?'})` : x.pid === null ? 'down' : `not answering (pid ${x.pid})`);
  const lines = s.nodes.map((n) => [
    `${n.name}  ${n.address}  mode ${n.mode}${n.kind === undefined ? '' : `  ${n.kind} (${userspaceOf(n.kind)})`}`,
    `  sshd     ${d(n.sshd)}`,
    `  etcd     ${d(n.etcd)}${n.etcd.version === undefined ? '' : `  etcd ${n.etcd.version}`}`,
    `  dockerd  ${d(n.dockerd)}${n.dockerd.version === undefined ? '' : `  Docker ${n.dockerd.version}`}`,
  ].join('\n'));
  if (s.profile !== undefined) { lines.unshift(`profile ${s.profile}`); }
  lines.push(s.up ? 'lab is up' : 'lab is NOT fully up (run "docker-net-lab lab up" to start or repair it)');
  return `${lines.join('\n')}\n`;
}
