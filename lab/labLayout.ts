import * as path from 'node:path';
import { labHome, labImageCache, labKeyFile, labKnownHostsFile, labNodesFile } from '../src/core/nodes/localLabPaths';

/** How dockerd runs on the lab nodes: the etcd cluster store (the 2017 tutorial), swarm-ready, or plain. */
export type LabMode = 'cluster' | 'swarm' | 'plain';

/** The lab modes, in the order shown to users. */
export const labModes: readonly LabMode[] = ['cluster', 'swarm', 'plain'];

/** One node of the local lab. */
export interface LabNode {
  /** Network namespace name, hostname and node name in the nodes file. */
  readonly name: string;
  /** IPv4 address on the lab LAN. */
  readonly ip: string;
}

/** The two nodes, node1 first. */
export const labNodes: readonly LabNode[] = [
  { name: 'docker-node1', ip: '10.99.0.11' },
  { name: 'docker-node2', ip: '10.99.0.12' },
];

/** The lab LAN prefix length. */
export const labPrefixLength = 24;
/** The root namespace's address on the lab LAN. */
export const labHostIp = '10.99.0.1';
/** The namespace that holds the LAN bridge (keeps node-to-node frames away from the root namespace's iptables). */
export const labSwitchNs = 'lab-switch';
/** The root namespace's end of its veth into the switch. */
export const labHostVeth = 'lab0';
/** Bridge name inside {@link labSwitchNs}. */
export const labBridge = 'br0';
/** TCP port of every node's dockerd. */
export const dockerTcpPort = 2375;
/** etcd client port. */
export const etcdClientPort = 2379;
/** etcd peer port. */
export const etcdPeerPort = 2380;

/** Every file and directory the lab uses, derived from {@link labHome} and {@link labImageCache}. */
export interface LabPaths {
  readonly home: string;
  readonly cache: string;
  readonly nodesFile: string;
  readonly keyFile: string;
  readonly knownHosts: string;
  /** Lab bookkeeping (what `up` created, the mode). */
  readonly stateFile: string;
  /** Host cgroup mounts, re-created inside each node. */
  readonly cgroupMounts: string;
  /** Generated helper scripts (the namespace anchor). */
  readonly binDir: string;
  /** Build contexts of the seeded images. */
  readonly buildDir: string;
}

/** Per-node directories under the lab home. */
export interface NodePaths {
  readonly dir: string;
  readonly etcDir: string;
  readonly etcDocker: string;
  readonly sshDir: string;
  readonly logDir: string;
  readonly runDir: string;
  readonly dockerData: string;
  readonly etcdData: string;
  /** Bind-mounted over /usr/local/sbin inside the node (holds lab-dockerd). */
  readonly sbinDir: string;
  readonly anchorPid: string;
  readonly sshdPid: string;
  readonly etcdPid: string;
  readonly dockerdPid: string;
  readonly hostKey: string;
  readonly sshdConfig: string;
  readonly authorizedKeys: string;
  /** dockerd flags chosen with lab-dockerd (inside the node: /etc/docker/lab-dockerd.flags). */
  readonly dockerdFlags: string;
  /** The node's named network namespace (`ip netns add`): every process of the node lives in it. */
  readonly netns: string;
}

/** Paths of the lab (honours DOCKER_NET_LAB_HOME / DOCKER_NET_LAB_CACHE). */
export function labPaths(env: NodeJS.ProcessEnv = process.env): LabPaths {
  const home = labHome(env);
  return {
    home,
    cache: labImageCache(env),
    nodesFile: labNodesFile(env),
    keyFile: labKeyFile(env),
    knownHosts: labKnownHostsFile(env),
    stateFile: path.join(home, 'lab-state.json'),
    cgroupMounts: path.join(home, 'cgroup-mounts'),
    binDir: path.join(home, 'bin'),
    buildDir: path.join(home, 'build'),
  };
}

/** Paths of one node's state. */
export function nodePaths(paths: LabPaths, node: LabNode): NodePaths {
  const dir = path.join(paths.home, 'nodes', node.name);
  const run = path.join(dir, 'run');
  const ssh = path.join(dir, 'ssh');
  const etc = path.join(dir, 'etc');
  return {
    dir,
    etcDir: etc,
    etcDocker: path.join(etc, 'docker'),
    sshDir: ssh,
    logDir: path.join(dir, 'log'),
    runDir: run,
    dockerData: path.join(dir, 'docker'),
    etcdData: path.join(dir, 'etcd'),
    sbinDir: path.join(dir, 'sbin'),
    anchorPid: path.join(run, 'anchor.pid'),
    sshdPid: path.join(run, 'sshd.pid'),
    etcdPid: path.join(run, 'etcd.pid'),
    dockerdPid: path.join(run, 'dockerd.pid'),
    hostKey: path.join(ssh, 'ssh_host_ed25519_key'),
    sshdConfig: path.join(ssh, 'sshd_config'),
    authorizedKeys: path.join(ssh, 'authorized_keys'),
    dockerdFlags: path.join(etc, 'docker', 'lab-dockerd.flags'),
    netns: path.join('/run/netns', node.name),
  };
}
