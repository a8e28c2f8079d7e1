import * as fs from 'node:fs';
import * as path from 'node:path';
import { LabError } from '../src/core/errors';
import type { LabMode, LabNode, LabPaths, NodePaths } from './labLayout';
import { dockerTcpPort, etcdClientPort, nodePaths } from './labLayout';
import { etcdArgs, hostsFile, labDockerdScript, resolvConf, sshdConfig } from './labConfig';
import {
  isLabProcess, nodeHttp, processArgv, processTable, readPidRecord, run, runOk, signal, spawnDetached, tcpBanner, terminate, terminateRecorded, waitFor, withDescendants, writePidRecord,
} from './labProc';
import { netnsPids } from './labHost';

/** Program names accepted for each pidfile (with the node's namespace and the start time: {@link daemonPid}). */
export const daemonPrograms = {
  anchor: ['sleep'],
  sshd: ['sshd'],
  etcd: ['etcd'],
  dockerd: ['dockerd'],
} as const;

/** Daemons of a node that have a pidfile. */
export type NodeDaemon = keyof typeof daemonPrograms;

function pidfileOf(np: NodePaths, daemon: NodeDaemon): string {
  return { anchor: np.anchorPid, sshd: np.sshdPid, etcd: np.etcdPid, dockerd: np.dockerdPid }[daemon];
}

/**
 * The pid of a node's daemon when its pidfile names a live process of that node for sure (program name, the
 * node's network namespace, and the start time the lab recorded): see {@link isLabProcess}. Nothing else is
 * ever signalled or reported as the lab's.
 */
export function daemonPid(np: NodePaths, daemon: NodeDaemon): number | undefined {
  const rec = readPidRecord(pidfileOf(np, daemon));
  return isLabProcess(rec, daemonPrograms[daemon], np.netns) ? rec?.pid : undefined;
}

/** The anchor pid of a node when the anchor is alive. */
export function anchorPid(np: NodePaths): number | undefined {
  return daemonPid(np, 'anchor');
}

/** Argument prefix that runs a program inside a node (its net, mount and UTS namespaces). */
function inNode(anchor: number): string[] {
  return ['-t', String(anchor), '-n', '-m', '-u', '--'];
}

/** Creates the node's state files (idempotent; keeps the host key and data). */
export async function prepareNodeFiles(node: LabNode, paths: LabPaths): Promise<NodePaths> {
  const np = nodePaths(paths, node);
  for (const d of [np.etcDocker, np.sshDir, np.logDir, np.runDir, np.dockerData, np.etcdData, np.sbinDir]) {
    fs.mkdirSync(d, { recursive: true });
  }
  fs.chmodSync(np.etcdData, 0o700);
  fs.writeFileSync(path.join(np.etcDir, 'hosts'), hostsFile());
  fs.writeFileSync(path.join(np.etcDir, 'hostname'), `${node.name}\n`);
  fs.writeFileSync(path.join(np.etcDir, 'resolv.conf'), resolvConf());
  if (!fs.existsSync(np.hostKey)) {
    await runOk('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `root@${node.name}`, '-f', np.hostKey]);
  }
  fs.copyFileSync(`${paths.keyFile}.pub`, np.authorizedKeys);
  fs.writeFileSync(np.sshdConfig, sshdConfig(node, np));
  fs.writeFileSync(path.join(np.sbinDir, 'lab-dockerd'), labDockerdScript(node, np), { mode: 0o755 });
  fs.chmodSync(path.join(np.sbinDir, 'lab-dockerd'), 0o755);
  return np;
}

/** Removes pidfiles that do not name a live process of the node (gone, or the pid now is someone else's). */
export function dropStalePidfiles(np: NodePaths): void {
  for (const daemon of Object.keys(daemonPrograms) as NodeDaemon[]) {
    const f = pidfileOf(np, daemon);
    if (fs.existsSync(f) && daemonPid(np, daemon) === undefined) { fs.rmSync(f, { force: true }); }
  }
}

/**
 * Starts the node's namespace anchor (in netns `node.name`, with private mount and UTS namespaces).
 * @throws LabError `LabProvisionFailed` when it does not report its pid within 10 s.
 */
export async function startAnchor(node: LabNode, np: NodePaths, paths: LabPaths, anchorScriptFile: string): Promise<number> {
  fs.rmSync(np.anchorPid, { force: true });
  const log = path.join(np.logDir, 'anchor.log');
  spawnDetached('ip', ['netns', 'exec', node.name, 'unshare', '--mount', '--uts', '--propagation', 'private', '--',
    'sh', anchorScriptFile, node.name, np.dir, paths.cgroupMounts], log);
  if (!(await waitFor(() => anchorPid(np) !== undefined, 10_000, 50))) {
    throw new LabError('LabProvisionFailed', `${node.name}: the namespace anchor did not start; see ${log}.`, { node: node.name });
  }
  const pid = anchorPid(np) ?? 0;
  writePidRecord(np.anchorPid, pid);
  return pid;
}

/** True when sshd of the node runs and sends its banner. */
export async function sshdAnswering(node: LabNode, np: NodePaths): Promise<boolean> {
  return daemonPid(np, 'sshd') !== undefined && (await tcpBanner(node.ip, 22, 2000))?.startsWith('SSH-') === true;
}

/**
 * Starts sshd in the node unless it already runs and answers.
 * @returns true when it was (re)started.
 */
export async function ensureSshd(node: LabNode, np: NodePaths, anchor: number): Promise<boolean> {
  if (await sshdAnswering(node, np)) { return false; }
  const old = daemonPid(np, 'sshd');
  if (old !== undefined) { await terminate([old], 3000); }
  fs.rmSync(np.sshdPid, { force: true });
  const pid = spawnDetached('nsenter', [...inNode(anchor), '/usr/sbin/sshd', '-D', '-f', np.sshdConfig, '-E', path.join(np.logDir, 'sshd.log')],
    path.join(np.logDir, 'sshd.out'));
  writePidRecord(np.sshdPid, pid);
  if (!(await waitFor(() => sshdAnswering(node, np), 10_000, 100))) {
    throw new LabError('LabProvisionFailed', `${node.name}: sshd did not answer on ${node.ip}:22; see ${np.logDir}/sshd.log.`, { node: node.name });
  }
  return true;
}

/** True when the node's etcd member runs and reports itself healthy (asked from inside the node). */
export async function etcdHealthy(node: LabNode, np: NodePaths): Promise<boolean> {
  if (daemonPid(np, 'etcd') === undefined) { return false; }
  const r = await nodeHttp(node.name, etcdClientPort, '/health', 'GET', 2000);
  return r?.status === 200 && /"health"\s*:\s*"true"/.test(r.body);
}

/**
 * Starts the node's etcd member unless its process is alive (health is awaited separately).
 * @returns true when it was started.
 */
export function ensureEtcd(node: LabNode, np: NodePaths, anchor: number,
  plan: { readonly program: string; readonly args: readonly string[]; readonly dataDir: string } = { program: 'etcd', args: etcdArgs(node, np), dataDir: np.etcdData }): boolean {
  if (daemonPid(np, 'etcd') !== undefined) { return false; }
  fs.mkdirSync(plan.dataDir, { recursive: true, mode: 0o700 });
  const pid = spawnDetached('nsenter', [...inNode(anchor), plan.program, ...plan.args], path.join(np.logDir, 'etcd.log'));
  writePidRecord(np.etcdPid, pid);
  return true;
}

/** True when the node's dockerd runs and answers /_ping on TCP 2375 (asked from inside the node). */
export async function dockerdAnswering(node: LabNode, np: NodePaths): Promise<boolean> {
  if (daemonPid(np, 'dockerd') === undefined) { return false; }
  const r = await nodeHttp(node.name, dockerTcpPort, '/_ping', 'GET', 2000);
  return r?.status === 200 && r.body === 'OK';
}

/**
 * Runs lab-dockerd inside the node (the same script users run over SSH).
 * @throws LabError `LabProvisionFailed` with its output when it fails.
 */
export async function labDockerd(node: LabNode, anchor: number, args: readonly string[]): Promise<string> {
  const r = await run('nsenter', [...inNode(anchor), '/usr/local/sbin/lab-dockerd', ...args], { timeoutMs: 120_000 });
  if (r.code !== 0) {
    throw new LabError('LabProvisionFailed', `${node.name}: lab-dockerd ${args.join(' ')} failed: ${(r.stderr + r.stdout).trim()}`, { node: node.name });
  }
  return r.stdout.trim();
}

/**
 * Makes dockerd run on the node: starts it with `mode` when it is down (fresh: `mode` given), restarts it
 * when `restartWith` is given, else leaves a running one alone.
 * @returns what was done: 'started' | 'restarted' | 'kept'.
 */
export async function ensureDockerd(node: LabNode, np: NodePaths, anchor: number, mode: LabMode | undefined, restart: boolean): Promise<'started' | 'restarted' | 'kept'> {
  const up = await dockerdAnswering(node, np);
  if (up && !restart) { return 'kept'; }
  const modeArg = mode === undefined ? [] : [mode];
  if (up) {
    await labDockerd(node, anchor, ['restart', ...modeArg]);
    return 'restarted';
  }
  await labDockerd(node, anchor, ['start', ...modeArg]);
  return 'started';
}

/** SIGKILLs every running container of a node through its Docker API (so dockerd does not wait on them). */
export async function killContainers(node: LabNode): Promise<number> {
  const list = await nodeHttp(node.name, dockerTcpPort, '/containers/json', 'GET', 3000);
  if (list?.status !== 200) { return 0; }
  const ids = (JSON.parse(list.body) as { Id: string }[]).map((c) => c.Id);
  await Promise.all(ids.filter((id) => /^[0-9a-f]{64}$/.test(id)).map((id) => nodeHttp(node.name, dockerTcpPort, `/containers/${id}/kill`, 'POST', 10_000)));
  return ids.length;
}

/** Cgroup directories the node's containers live in (`--cgroup-parent=/<node>`), deepest first. */
export function nodeCgroupDirs(node: LabNode): string[] {
  const out: string[] = [];
  let controllers: string[] = [];
  try { controllers = fs.readdirSync('/sys/fs/cgroup'); } catch { return out; }
  const walk = (d: string): void => {
    let entries: fs.Dirent[] = [];
    try { entries = fs.readdirSync(d, { withFileTypes: true }); } catch { return; }
    for (const e of entries) { if (e.isDirectory()) { walk(path.join(d, e.name)); } }
    out.push(d);
  };
  for (const c of controllers) {
    const d = path.join('/sys/fs/cgroup', c, node.name);
    if (fs.existsSync(d)) { walk(d); }
  }
  return out;
}

/** Kills every process in the node's container cgroups, then removes the (empty) cgroups. */
export async function cleanNodeCgroups(node: LabNode): Promise<number> {
  const pids = new Set<number>();
  for (const d of nodeCgroupDirs(node)) {
    try {
      for (const p of fs.readFileSync(path.join(d, 'cgroup.procs'), 'utf8').split('\n')) { if (/^\d+$/.test(p)) { pids.add(Number(p)); } }
    } catch { /* gone */ }
  }
  for (const p of pids) { signal(p, 'SIGKILL'); }
  if (pids.size > 0) { await terminate([...pids], 2000); }
  for (const d of nodeCgroupDirs(node)) {
    try { fs.rmdirSync(d); } catch { /* busy or gone */ }
  }
  return pids.size;
}

/** What stopping a node did. */
export interface StopReport {
  readonly node: string;
  readonly stopped: string[];
  readonly leftovers: number;
}

/**
 * A dockerd of this node that no pidfile names any more and that is outside the node's namespace (seen
 * after a rehearsal: a cluster-mode dockerd left in a namespace that was deleted, holding the node's volume
 * database so that every later start timed out). It is told apart by its own argv: `--pidfile` with this
 * node's pidfile path, which only the lab's lab-dockerd passes. Returns it and its children, children first.
 */
function orphanDockerds(np: NodePaths, table: Map<number, number>): number[] {
  const roots = [...table.keys()].filter((pid) => {
    const argv = processArgv(pid);
    if (argv === undefined || path.basename(argv[0] ?? '') !== 'dockerd') { return false; }
    const i = argv.indexOf('--pidfile');
    return (i >= 0 && argv[i + 1] === np.dockerdPid) || argv.includes(`--pidfile=${np.dockerdPid}`);
  });
  return roots.length === 0 ? [] : withDescendants(roots, table).filter((p) => p !== process.pid);
}

/**
 * Stops everything of a node by pid: containers (SIGKILL), dockerd, etcd, sshd, the anchor, then any process
 * left in its network namespace (and their children) and in its container cgroups. Never throws.
 */
export async function stopNode(node: LabNode, paths: LabPaths): Promise<StopReport> {
  const np = nodePaths(paths, node);
  const stopped: string[] = [];
  const dockerd = daemonPid(np, 'dockerd');
  if (dockerd !== undefined) {
    const t0 = Date.now();
    await killContainers(node);
    await terminate([dockerd], 20_000);
    stopped.push(`dockerd ${dockerd} (${Date.now() - t0} ms)`);
  }
  for (const name of ['etcd', 'sshd', 'anchor'] as const) {
    const t0 = Date.now();
    const pid = await terminateRecorded(pidfileOf(np, name), daemonPrograms[name], np.netns, 5000);
    if (pid !== undefined) { stopped.push(`${name} ${pid} (${Date.now() - t0} ms)`); }
  }
  let leftovers = await cleanNodeCgroups(node);
  const inNs = await netnsPids(node.name);
  if (inNs.length > 0) {
    const all = withDescendants(inNs, processTable()).filter((p) => p !== process.pid);
    leftovers += all.length;
    await terminate(all, 3000);
  }
  leftovers += await cleanNodeCgroups(node);
  const orphans = orphanDockerds(np, processTable());
  if (orphans.length > 0) {
    leftovers += orphans.length;
    await terminate(orphans, 20_000);
  }
  for (const f of [np.dockerdPid, np.etcdPid, np.sshdPid, np.anchorPid]) { fs.rmSync(f, { force: true }); }
  return { node: node.name, stopped, leftovers };
}
