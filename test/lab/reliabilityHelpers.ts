import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { labKnownHostsFile, labNodesFile } from '../../src/core/nodes/localLabPaths';
import type { NodeConfig } from '../../src/core/nodes/nodeConfig';
import { readNodesFile } from '../../src/core/nodes/nodesFile';
import type { TopologyService, TopologyServiceOptions } from '../../src/core/topology/topologyService';
import { createTopologyService } from '../../src/core/topology/topologyService';
import type { NodeRecord, TopologySnapshot } from '../../src/core/topology/topologyTypes';
import type { Cmd } from './labHelpers';
import { keyFile, knownHosts, lab, labUnavailable, repoRoot, sh, ssh, stateDir } from './labHelpers';

// Shared pieces of the reliability and load tests against the local lab: reading the nodes, waiting on
// the topology, and stopping lab daemons by the pid in their pidfiles (never by name).

/** The lab's nodes, or the reason the live tests cannot run. */
export function labNodesOrReason(): { nodes: readonly NodeConfig[] } | { reason: string } {
  const why = labUnavailable();
  if (why !== undefined) { return { reason: why }; }
  const file = labNodesFile();
  if (!fs.existsSync(file)) { return { reason: `the local lab is not up (no ${file}); start it with "docker-net-lab lab up" as root, or run the whole suite with "npm test", which brings it up` }; }
  const status = lab('status');
  if (status.code !== 0) {
    const up = lab('up');
    if (up.code !== 0) { return { reason: `the local lab is not healthy and lab up failed: ${up.out.slice(-500)}${up.err.slice(-500)}` }; }
  }
  const nodes = readNodesFile(file).nodes;
  if (nodes.length < 2) { return { reason: `${file} lists fewer than two nodes; "docker-net-lab lab up" rewrites it` }; }
  return { nodes };
}

/** A topology service on the lab nodes (lab known_hosts; other options as given, product defaults otherwise). */
export function labTopology(nodes: readonly NodeConfig[], options: TopologyServiceOptions = {}): TopologyService {
  return createTopologyService({ nodes, knownHostsFiles: [labKnownHostsFile()], ...options });
}

/** The record of one node in a snapshot. */
export function nodeOf(s: TopologySnapshot, name: string): NodeRecord {
  const n = s.nodes.find((x) => x.name === name);
  if (n === undefined) { throw new Error(`node ${name} missing from the snapshot`); }
  return n;
}

/** Waits until `pred` holds for the service's snapshot; resolves with the ms waited, rejects after `timeoutMs`. */
export function waitFor(service: TopologyService, pred: (s: TopologySnapshot) => boolean, timeoutMs: number, what: string): Promise<number> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    if (pred(service.snapshot())) { resolve(0); return; }
    const check = (): void => {
      if (pred(service.snapshot())) { done(); resolve(Date.now() - t0); }
    };
    const sub = service.onDidChange(check);
    const poll = setInterval(check, 50); // state that changes without a snapshot event still counts
    const timer = setTimeout(() => { done(); reject(new Error(`${what}: not within ${timeoutMs} ms; last state ${JSON.stringify(service.snapshot().nodes.map((n) => [n.name, n.state, n.error?.code]))}`)); }, timeoutMs);
    const done = (): void => { clearTimeout(timer); clearInterval(poll); sub.dispose(); };
  });
}

/** The pid in a node's pidfile for one daemon when that process runs the expected program, else undefined. */
export function daemonPid(node: string, daemon: 'sshd' | 'dockerd' | 'etcd'): number | undefined {
  let pid: number;
  try {
    pid = Number.parseInt(fs.readFileSync(`${stateDir}/nodes/${node}/run/${daemon}.pid`, 'utf8'), 10);
  } catch {
    return undefined;
  }
  return Number.isInteger(pid) && pid > 1 && commOf(pid).startsWith(daemon) ? pid : undefined;
}

function commOf(pid: number): string {
  try { return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim(); } catch { return ''; }
}

/**
 * Stops a node's sshd the hard way: the listener from its pidfile and the per-connection sshd processes
 * it forked (its direct children, found under /proc by pid), so that open connections drop as on a crash.
 * Returns the pids signalled.
 */
export function killSshd(node: string): number[] {
  const pid = daemonPid(node, 'sshd');
  if (pid === undefined) { throw new Error(`no running sshd in the pidfile of ${node}`); }
  let children: number[] = [];
  try {
    children = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter((x) => x !== '').map(Number)
      .filter((c) => commOf(c).startsWith('sshd'));
  } catch { /* no children */ }
  const all = [pid, ...children];
  for (const p of all) { try { process.kill(p, 'SIGKILL'); } catch { /* already gone */ } }
  return all;
}

/** Stops one daemon of a node by its pidfile (SIGTERM, then SIGKILL after 5 s). Returns the pid or undefined. */
export async function stopDaemon(node: string, daemon: 'dockerd' | 'etcd'): Promise<number | undefined> {
  const pid = daemonPid(node, daemon);
  if (pid === undefined) { return undefined; }
  try { process.kill(pid, 'SIGTERM'); } catch { return pid; }
  const t0 = Date.now();
  while (commOf(pid) !== '' && Date.now() - t0 < 5000) { await new Promise((r) => setTimeout(r, 50)); }
  if (commOf(pid) !== '') { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
  return pid;
}

/** Runs a program without blocking the event loop (the service under test keeps running meanwhile). */
export function shAsync(cmd: string, args: readonly string[], timeoutMs = 120_000): Promise<Cmd> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    execFile(cmd, args, { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ code, out: stdout, err: stderr, ms: Date.now() - t0 });
    });
  });
}

/** ssh to a lab node (as {@link ssh}) without blocking the event loop. */
export function sshAsync(ip: string, command: string, timeoutMs = 120_000): Promise<Cmd> {
  return shAsync('ssh', ['-i', keyFile, '-o', `UserKnownHostsFile=${knownHosts}`, '-o', 'StrictHostKeyChecking=yes',
    '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=5', `root@${ip}`, command], timeoutMs);
}

/** Repairs the lab (`lab up` restarts dead daemons; idempotent) without blocking the event loop. Throws with the output when it fails. */
export async function repairLab(): Promise<Cmd> {
  const r = await shAsync(process.execPath, [path.join(repoRoot, 'bin', 'docker-net-lab.js'), 'lab', 'up'], 900_000);
  if (r.code !== 0) { throw new Error(`lab up failed (${r.code}):\n${r.out.slice(-1500)}\n${r.err.slice(-1500)}`); }
  return r;
}

/** True when something at ip:port answers with an SSH banner within 500 ms. */
export function sshBanner(ip: string, port = 22): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: ip, port });
    const done = (ok: boolean): void => { clearTimeout(timer); sock.destroy(); resolve(ok); };
    const timer = setTimeout(() => done(false), 500);
    sock.once('data', (d: Buffer) => done(d.toString('latin1').startsWith('SSH-')));
    sock.once('error', () => done(false));
  });
}

/** Polls the SSH banner every 100 ms from now on; `returnedAt()` is when it first answered (ms since the epoch). */
export function watchSshd(ip: string): { returnedAt(): number | undefined; stop(): void } {
  let at: number | undefined;
  let stopped = false;
  const loop = async (): Promise<void> => {
    while (!stopped && at === undefined) {
      if (await sshBanner(ip)) { at = Date.now(); break; }
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  void loop();
  return { returnedAt: () => at, stop: () => { stopped = true; } };
}

/** Sets a node's LAN interface up or down (inside its network namespace). */
export function setLink(node: string, up: boolean): Cmd {
  return sh('ip', ['-n', node, 'link', 'set', 'eth0', up ? 'up' : 'down'], 10_000);
}

/** The docker CLI on a node over the ssh CLI (independent of the product's transport). */
export function dockerCli(ip: string, args: string): Promise<Cmd> {
  return sshAsync(ip, `docker ${args}`);
}

/** An image present on the node for probe containers (busybox preferred). */
export function probeImage(ip: string): string {
  const images = ssh(ip, "docker images --format '{{.Repository}}:{{.Tag}}'").out.split('\n').filter((l) => l !== '' && !l.includes('<none>'));
  const img = ['busybox:latest', 'busybox'].find((i) => images.includes(i)) ?? images.find((i) => i.startsWith('busybox'));
  if (img === undefined) { throw new Error(`no busybox image on ${ip}: ${images.join(', ')}`); }
  return img;
}

/** Removes every container whose name starts with `prefix` on a node (best effort). */
export function removeByPrefix(ip: string, prefix: string): void {
  ssh(ip, `docker ps -aq --filter name=^${prefix} | xargs -r docker rm -f >/dev/null`);
}

/** What one node holds, as two sorted lists of lines: containers (with their state) and networks. */
export interface NodeView { readonly containers: readonly string[]; readonly networks: readonly string[] }

/**
 * Compares our view of a node (`ours` names it: snapshot, tree) with the docker CLI's: undefined when
 * equal, else one line with the counts and a few missing and extra containers.
 */
export function viewDifference(node: string, cli: NodeView, got: NodeView, ours: string): string | undefined {
  if (JSON.stringify(cli) === JSON.stringify(got)) { return undefined; }
  const missing = cli.containers.filter((c) => !got.containers.includes(c));
  const extra = got.containers.filter((c) => !cli.containers.includes(c));
  return `${node}: cli ${cli.containers.length} containers/${cli.networks.length} networks, ${ours} ${got.containers.length}/${got.networks.length}; missing ${missing.slice(0, 3).join(', ')} extra ${extra.slice(0, 3).join(', ')}`;
}

/**
 * Load tests run on a plain dockerd: with the etcd cluster store (`lab-dockerd` mode cluster, which the
 * guided lab leaves behind) dockerd 20.10 deadlocked while killing and removing 100 running containers
 * per node (goroutine dump: libkv etcd watch goroutines stuck sending, libnetwork network/store mutexes
 * held for minutes, ~150 `docker kill` calls waiting on container state locks). Switches every node in
 * cluster mode to plain and returns the hosts to switch back with {@link restoreClusterMode}.
 */
export async function leaveClusterMode(hosts: readonly string[]): Promise<string[]> {
  const switched: string[] = [];
  await Promise.all(hosts.map(async (ip) => {
    const mode = await sshAsync(ip, "grep -q '^--cluster-store' /etc/docker/lab-dockerd.flags 2>/dev/null && echo cluster || echo other", 30_000);
    if (mode.out.trim() !== 'cluster') { return; }
    const r = await sshAsync(ip, 'lab-dockerd restart plain', 180_000);
    if (r.code !== 0) { throw new Error(`lab-dockerd restart plain on ${ip}: ${r.out}${r.err}`); }
    switched.push(ip);
  }));
  return switched;
}

/** Puts the nodes {@link leaveClusterMode} switched back on the etcd cluster store. */
export async function restoreClusterMode(hosts: readonly string[]): Promise<void> {
  await Promise.all(hosts.map(async (ip) => {
    const r = await sshAsync(ip, 'lab-dockerd restart cluster', 180_000);
    if (r.code !== 0) { throw new Error(`lab-dockerd restart cluster on ${ip}: ${r.out}${r.err}`); }
  }));
}

/** What {@link removeByPrefixBounded} did: the last command (its `out` is the number of containers left) and whether dockerd was restarted. */
export interface BoundedRemoval { readonly cmd: Cmd; readonly restarted: boolean; readonly ms: number }

/**
 * Removes the containers named `prefix`* on a lab node: kills the running ones, then removes all, within
 * `limitMs`. dockerd 20.10 now and then stops making progress killing ~100 running containers at once
 * (seen with the etcd cluster store and, once, without: `docker kill` handlers waiting on container
 * locks for minutes). When the removal overruns, dockerd is asked for a goroutine dump (SIGUSR1), restarted
 * with `lab-dockerd restart` (whose stop is bounded and ends with SIGKILL), and what is left is removed.
 */
export async function removeByPrefixBounded(node: string, ip: string, prefix: string, limitMs: number): Promise<BoundedRemoval> {
  const t0 = Date.now();
  const script = `docker ps -q --filter name=^${prefix} --filter status=running | xargs -r -n 100 docker kill >/dev/null; `
    + `docker ps -aq --filter name=^${prefix} | xargs -r -n 100 docker rm -f >/dev/null; docker ps -aq --filter name=^${prefix} | wc -l`;
  const first = await sshAsync(ip, script, limitMs);
  if (first.code === 0 && first.out.trim() === '0') { return { cmd: first, restarted: false, ms: Date.now() - t0 }; }
  const pid = daemonPid(node, 'dockerd');
  if (pid !== undefined) { try { process.kill(pid, 'SIGUSR1'); } catch { /* gone */ } }
  const restart = await sshAsync(ip, 'lab-dockerd restart', 180_000);
  if (restart.code !== 0) { return { cmd: { ...restart, err: `lab-dockerd restart after a stalled removal: ${restart.out}${restart.err}` }, restarted: true, ms: Date.now() - t0 }; }
  const second = await sshAsync(ip, script, limitMs);
  return { cmd: second, restarted: true, ms: Date.now() - t0 };
}
