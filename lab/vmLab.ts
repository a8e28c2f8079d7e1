import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LabError } from '../src/core/errors';
import type { NodesFile } from '../src/core/nodes/nodesFile';
import type { LabMode, LabNode, LabPaths } from './labLayout';
import { labNodes } from './labLayout';
import { buildLabNodesFile, hostKeyFingerprint, knownHostsText } from './labConfig';
import { appsImageTag, ensureImageCache, findAppDir, imageCacheFiles, writeBuildContexts } from './labImages';
import { runOk, since } from './labProc';
import type { NodeVersionFacts, VmProfile } from './labProfiles';
import { vmFlavourOf, withProfileFacts } from './labProfiles';
import type { DaemonStatus, NodeStatus } from './labStatus';
import type { AccelChoice } from './vmAccel';
import { chooseAccel } from './vmAccel';
import { aptRepoRunning, startAptRepo, stopAptRepo } from './vmAptRepo';
import type { VmFlavour } from './vmFlavours';
import { vmFlavours } from './vmFlavours';
import { ensureVmNodeDisk, ensureVmRootfs, vmSudoPassword } from './vmImage';
import type { VmNodeFiles } from './vmLayout';
import { vmNodeFiles, vmUser } from './vmLayout';
import {
  qemuPid, saveVmState, seedVm, sshAnswers, startVm, stopVm, supervisorPid, vmMachineArgs, vmSsh, vmSudo, waitResumed, waitVmReady,
} from './vmNode';

type Phase = <T>(name: string, fn: () => Promise<T>) => Promise<T>;

/** How long a cold boot may take under TCG until Docker answers over SSH. */
const coldBootTimeoutMs = 420_000;

/**
 * Builds what the VMs of `flavour` boot from (outside the lab lock: it touches the image cache only, under the
 * cache's own build lock): the image cache's tarballs and the flavour's rootfs.
 */
export async function ensureVmImages(paths: LabPaths, flavour: VmFlavour, log: (line: string) => void): Promise<void> {
  await ensureImageCache(paths, log);
  await ensureVmRootfs(paths, flavour, log);
}

/** What a warm state was taken from; a state whose key differs is thrown away. */
interface WarmRecord {
  readonly key: string;
  readonly savedAt: string;
  readonly saveMs: number;
  readonly images: readonly string[];
}

function warmKey(files: VmNodeFiles, accel: AccelChoice, node: LabNode): string {
  const disk = fs.readFileSync(files.diskRecord, 'utf8');
  return createHash('sha256').update(JSON.stringify({ disk, accel: accel.args, machine: vmMachineArgs(accel, files, files.sessionDisk, node) })).digest('hex').slice(0, 16);
}

function warmReady(files: VmNodeFiles, key: string): boolean {
  try {
    const rec = JSON.parse(fs.readFileSync(files.warmRecord, 'utf8')) as WarmRecord;
    return rec.key === key && fs.existsSync(files.warmDisk) && fs.existsSync(files.warmState);
  } catch {
    return false;
  }
}

async function qcow2Over(file: string, backing: string, backingFormat: 'raw' | 'qcow2'): Promise<void> {
  fs.rmSync(file, { force: true });
  await runOk('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', backingFormat, '-b', backing, file]);
}

/** Sets the guest clock to the lab machine's (a resumed VM wakes up with the time of its saved state). */
async function setGuestClock(paths: LabPaths, node: LabNode, password: string): Promise<void> {
  const r = await vmSudo(paths, node, password, `date -u -s @${Math.round(Date.now() / 1000)} >/dev/null`, 30_000);
  if (r.code !== 0) { throw new LabError('LabProvisionFailed', `${node.name}: setting the clock failed: ${r.stderr.trim()}`, { node: node.name }); }
}

/** Timings of one VM's way to ready. */
export interface VmBootReport {
  readonly node: string;
  /** `cold` (booted, images loaded, state saved, resumed) or `warm` (resumed from the saved state). */
  readonly start: 'cold' | 'warm';
  readonly sshMs: number;
  readonly dockerMs: number;
  readonly seedMs?: number;
  readonly saveMs?: number;
  readonly resumeMs: number;
  readonly images: readonly string[];
}

/**
 * Cold start of one VM: a fresh qcow2 over the node disk, boot, wait for SSH and Docker, load the images, then
 * save RAM and device state next to that qcow2 (which then stays as it is: the backing file of every session).
 */
async function coldStart(paths: LabPaths, flavour: VmFlavour, node: LabNode, accel: AccelChoice, key: string, password: string,
  log: (line: string) => void): Promise<Omit<VmBootReport, 'resumeMs'>> {
  const files = vmNodeFiles(paths, flavour, node);
  for (const f of [files.warmRecord, files.warmState, files.sessionDisk]) { fs.rmSync(f, { force: true }); }
  await qcow2Over(files.warmDisk, files.disk, 'raw');
  fs.rmSync(files.console, { force: true });
  await startVm(flavour, node, paths, accel, files.warmDisk);
  const ready = await waitVmReady(paths, flavour, node, coldBootTimeoutMs);
  log(`${node.name}: cold boot: SSH after ${ready.sshMs} ms, Docker after ${ready.dockerMs} ms`);
  const t1 = Date.now();
  const cache = imageCacheFiles(paths);
  const contexts = writeBuildContexts(paths);
  const work = path.join(files.dir, 'seed');
  fs.mkdirSync(work, { recursive: true });
  const images = await seedVm(paths, node, { busybox: cache.busybox, apps: cache.apps, appsTag: appsImageTag, contexts, appDir: findAppDir() }, work);
  fs.rmSync(work, { recursive: true, force: true });
  const seedMs = since(t1);
  log(`${node.name}: images loaded in ${seedMs} ms: ${images.join(', ') || 'none'}`);
  // less RAM to save: the page cache of the image imports
  await vmSudo(paths, node, password, 'sync; echo 3 > /proc/sys/vm/drop_caches');
  const saveMs = await saveVmState(files, files.warmState);
  const rec: WarmRecord = { key, savedAt: new Date().toISOString(), saveMs, images };
  fs.writeFileSync(files.warmRecord, `${JSON.stringify(rec, null, 2)}\n`);
  log(`${node.name}: ready state saved in ${saveMs} ms (${Math.round(fs.statSync(files.warmState).size / 1048576)} MB)`);
  return { node: node.name, start: 'cold', sshMs: ready.sshMs, dockerMs: ready.dockerMs, seedMs, saveMs, images };
}

/** Resumes the VM from its saved ready state on a new session qcow2 (a fresh lab: what the last session did is gone). */
async function resume(paths: LabPaths, flavour: VmFlavour, node: LabNode, accel: AccelChoice, password: string): Promise<number> {
  const t0 = Date.now();
  const files = vmNodeFiles(paths, flavour, node);
  await qcow2Over(files.sessionDisk, files.warmDisk, 'qcow2');
  await startVm(flavour, node, paths, accel, files.sessionDisk, files.warmState);
  if (!(await waitResumed(files, 120_000))) { throw new LabError('LabProvisionFailed', `${node.name}: the VM did not resume; see ${files.supervisorLog}.`, { node: node.name }); }
  await setGuestClock(paths, node, password);
  return Date.now() - t0;
}

/**
 * Brings up both VMs of a VM profile on the lab LAN (the switch must exist): node disks, the accelerator, the lab apt
 * repository, then each VM from its saved ready state, or cold (boot, images, save) when there is none yet.
 * Writes known_hosts and the nodes file (user learner, sudo: true; the password stays in the lab's state).
 * @returns per-VM timings.
 */
export async function vmBringUp(paths: LabPaths, profile: VmProfile, mode: LabMode, log: (line: string) => void, phase: Phase): Promise<VmBootReport[]> {
  const flavour = vmFlavourOf(profile);
  const { record } = await phase('vm rootfs', () => ensureVmRootfs(paths, flavour, log));
  await phase('vm disks', async () => {
    // a running VM's disk is never rewritten (a changed recipe takes effect after lab down)
    for (const n of labNodes) { if (supervisorPid(vmNodeFiles(paths, flavour, n)) === undefined) { await ensureVmNodeDisk(paths, flavour, n, record, log); } }
  });
  const password = vmSudoPassword(paths);
  const hostPubs = labNodes.map((n) => fs.readFileSync(`${vmNodeFiles(paths, flavour, n).hostKey}.pub`, 'utf8').trim());
  fs.writeFileSync(paths.knownHosts, knownHostsText(labNodes.map((node, i) => ({ node, publicKeyLine: hostPubs[i] ?? '' }))));
  const first = vmNodeFiles(paths, flavour, labNodes[0] ?? { name: '', ip: '' });
  const accel = await phase('accelerator', () => chooseAccel('qemu-system-x86_64', first.kernel, first.initrd, path.join(paths.home, 'vm', 'accel.json'), log));
  await phase('apt repository', async () => { await startAptRepo(paths, flavour); });
  const reports = await phase('vms', () => Promise.all(labNodes.map(async (n): Promise<VmBootReport> => {
    const files = vmNodeFiles(paths, flavour, n);
    if (supervisorPid(files) !== undefined && (await sshAnswers(n))) {
      return { node: n.name, start: 'warm', sshMs: 0, dockerMs: 0, resumeMs: 0, images: [] };
    }
    await stopVm(files);
    const key = warmKey(files, accel, n);
    let cold: Omit<VmBootReport, 'resumeMs'> | undefined;
    if (!warmReady(files, key)) { cold = await coldStart(paths, flavour, n, accel, key, password, log); }
    const t0 = Date.now();
    const resumeMs = await resume(paths, flavour, n, accel, password);
    const ready = await waitVmReady(paths, flavour, n, 60_000);
    log(`${n.name}: resumed from the ready state in ${resumeMs} ms; Docker answers ${since(t0)} ms after the resume began`);
    return cold === undefined
      ? { node: n.name, start: 'warm', sshMs: ready.sshMs + resumeMs, dockerMs: since(t0), resumeMs, images: [] }
      : { ...cold, resumeMs };
  })));
  await phase('nodes file', async () => {
    const statuses = await Promise.all(labNodes.map((n) => vmNodeStatus(paths, flavour, n)));
    const facts = new Map<string, NodeVersionFacts>(statuses.map((s) => [s.name, {
      kind: 'vm', userspace: `QEMU VM, Debian ${vmFlavours[flavour].suite} (${accel.accel})`,
      ...(s.dockerd.version === undefined ? {} : { dockerVersion: s.dockerd.version }),
      ...(s.etcd.version === undefined ? {} : { etcdVersion: s.etcd.version }),
    }]));
    const file = vmNodesFile(buildLabNodesFile(paths, hostPubs.map(hostKeyFingerprint), {
      mode, dockerVersion: statuses[0]?.dockerd.version ?? 'unknown', etcdVersion: statuses[0]?.etcd.version ?? 'unknown',
    }), profile, facts);
    const { formatNodesFile } = await import('../src/core/nodes/nodesFile');
    fs.writeFileSync(`${paths.nodesFile}.tmp`, formatNodesFile(file));
    fs.renameSync(`${paths.nodesFile}.tmp`, paths.nodesFile);
  });
  return reports;
}

/** The lab nodes file for VMs: the learner with sudo instead of root; no password in it. */
export function vmNodesFile(base: NodesFile, profile: VmProfile, facts: ReadonlyMap<string, NodeVersionFacts>): NodesFile {
  const withFacts = withProfileFacts(base, profile, facts);
  return { ...withFacts, nodes: withFacts.nodes.map((n) => ({ ...n, user: vmUser, sudo: true })) };
}

/** True when both VMs of `flavour` have a live supervisor and QEMU. */
export function vmsRunning(paths: LabPaths, flavour: VmFlavour): boolean {
  return labNodes.every((n) => {
    const f = vmNodeFiles(paths, flavour, n);
    return supervisorPid(f) !== undefined && qemuPid(f) !== undefined;
  });
}

/** True when any VM pidfile of any flavour exists (something to clean up). */
export function vmRemnants(paths: LabPaths): boolean {
  return (Object.keys(vmFlavours) as VmFlavour[]).some((fl) => labNodes.some((n) => {
    const f = vmNodeFiles(paths, fl, n);
    return fs.existsSync(f.supervisorPid) || fs.existsSync(f.qemuPid) || fs.existsSync(f.sessionDisk);
  })) || aptRepoRunning(paths);
}

/**
 * Stops every VM of every flavour (supervisor, then QEMU, by pidfile), removes taps and session disks (the ready
 * state stays for the next warm start; `purge` removes it too) and stops the apt repository.
 * @returns one line per thing stopped.
 */
export async function vmTearDown(paths: LabPaths, purge: boolean): Promise<string[]> {
  const notes: string[] = [];
  await Promise.all((Object.keys(vmFlavours) as VmFlavour[]).flatMap((fl) => labNodes.map(async (n) => {
    const f = vmNodeFiles(paths, fl, n);
    const stopped = await stopVm(f);
    if (stopped.length > 0) { notes.push(`${n.name} (${fl} VM): stopped ${stopped.join(', ')}`); }
    fs.rmSync(f.sessionDisk, { force: true });
    fs.rmSync(`${f.kernel}.next`, { force: true });
    fs.rmSync(`${f.initrd}.next`, { force: true });
    if (purge) { for (const x of [f.warmDisk, f.warmState, f.warmRecord]) { fs.rmSync(x, { force: true }); } }
  })));
  const repo = await stopAptRepo(paths);
  if (repo !== undefined) { notes.push(`apt repository: stopped ${repo}`); }
  return notes;
}

function pick(text: string, tag: string): string | undefined {
  const m = new RegExp(`^${tag}=(.*)$`, 'm').exec(text);
  return m?.[1]?.trim();
}

/**
 * Probes one VM: supervisor and QEMU alive, SSH banner, then over SSH as the learner: Docker's version and mode,
 * etcd's state and version.
 */
export async function vmNodeStatus(paths: LabPaths, flavour: VmFlavour, node: LabNode): Promise<NodeStatus> {
  const files = vmNodeFiles(paths, flavour, node);
  const sup = supervisorPid(files);
  const q = qemuPid(files);
  const banner = q === undefined ? false : await sshAnswers(node);
  let text = '';
  if (banner) {
    const r = await vmSsh(paths, node, [
      "echo docker=$(docker version --format '{{.Server.Version}}' 2>/dev/null)",
      "echo swarm=$(docker info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null)",
      "echo store=$(docker info 2>/dev/null | sed -n 's/^ *Cluster Store: *//p')",
      'echo etcd=$(systemctl is-active etcd 2>/dev/null)',
      "echo etcdv=$(etcd --version 2>/dev/null | sed -n 's/^etcd Version: *//p')",
    ].join('; '), { timeoutMs: 20_000 });
    text = r.stdout;
  }
  const dockerVersion = pick(text, 'docker');
  const etcdVersion = pick(text, 'etcdv');
  const dockerUp = dockerVersion !== undefined && /^\d/.test(dockerVersion);
  const d = (up: boolean, version: string | undefined): DaemonStatus => ({ pid: q ?? null, up, ...(version === undefined || version === '' ? {} : { version }) });
  const mode: NodeStatus['mode'] = !dockerUp ? 'unknown' : (pick(text, 'store') ?? '') !== '' ? 'cluster' : pick(text, 'swarm') === 'active' ? 'swarm' : 'plain';
  return {
    name: node.name,
    address: node.ip,
    sshd: { pid: q ?? null, up: banner && sup !== undefined },
    etcd: d(pick(text, 'etcd') === 'active', etcdVersion),
    dockerd: d(dockerUp, dockerVersion),
    mode,
    kind: 'vm',
  };
}
