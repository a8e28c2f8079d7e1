import * as fs from 'node:fs';
import * as path from 'node:path';
import { LabError } from '../src/core/errors';
import { formatNodesFile } from '../src/core/nodes/nodesFile';
import type { LabMode, LabPaths } from './labLayout';
import { labBridge, labHostIp, labHostVeth, labNodes, labPrefixLength, labSwitchNs, nodePaths } from './labLayout';
import { anchorScript, buildLabNodesFile, cgroupMountLines, hostKeyFingerprint, knownHostsText, modeFromFlagsText } from './labConfig';
import { ensurePackages, labNetnsPresent, linkExists, readLabState, writeLabState } from './labHost';
import { ensureImageCache, findAppDir, seedNode, writeBuildContexts } from './labImages';
import { anchorPid, dropStalePidfiles, ensureDockerd, ensureEtcd, ensureSshd, etcdHealthy, prepareNodeFiles, startAnchor } from './labNodeControl';
import { labDown } from './labDown';
import { applyNodeGuard } from './labGuard';
import { labStatus } from './labStatus';
import { runOk, waitFor } from './labProc';
import type { LabProfile } from './labProfiles';
import { etcdPlan, isVmProfile, nodeKind, planProfile, profileNeedsModernRootfs, readLabProfile, vmFlavourOf, withProfileFacts, writeLabProfile } from './labProfiles';
import type { VmBootReport } from './vmLab';
import { ensureVmImages, vmBringUp, vmRemnants, vmsRunning } from './vmLab';
import { ensureModernRootfs } from './modernRootfs';
import { nodeVersionFacts, startModernAnchor, writeModernAnchorScript } from './modernNode';

/** Options of {@link labUp}. */
export interface UpOptions {
  readonly mode: LabMode;
  /** The mode was given explicitly: a running lab switches to it. */
  readonly modeGiven: boolean;
  /** Node userspace (lab/labProfiles.ts); default: the running lab's, else legacy. */
  readonly profile?: LabProfile;
}

/** Timings and outcome of `up`. */
export interface UpReport {
  /** The lab was already running (only repairs and missing images were done). */
  readonly wasUp: boolean;
  readonly phases: readonly { readonly name: string; readonly ms: number }[];
  readonly totalMs: number;
  readonly mode: LabMode;
  readonly profile: LabProfile;
  /** How each VM came up (VM profiles only). */
  readonly vms?: readonly VmBootReport[];
}

async function ip(args: readonly string[]): Promise<void> {
  await runOk('ip', args);
}

/**
 * Creates the lab LAN without nodes: the switch namespace with its bridge and the machine's veth (10.99.0.1), and
 * records what the lab created on the host (lab/labHost.ts). The nodes join it: namespaces by veth, VMs by tap.
 */
export async function createSwitch(paths: LabPaths): Promise<void> {
  const state = readLabState(paths);
  const runNetnsExisted = fs.existsSync('/run/netns');
  const varLibDockerExisted = fs.existsSync('/var/lib/docker');
  const etcDockerExisted = fs.existsSync('/etc/docker');
  if (!varLibDockerExisted) { fs.mkdirSync('/var/lib/docker', { mode: 0o710 }); }
  if (!etcDockerExisted) { fs.mkdirSync('/etc/docker', { mode: 0o755 }); }
  writeLabState(paths, {
    createdRunNetns: state.createdRunNetns || !runNetnsExisted,
    createdVarLibDocker: state.createdVarLibDocker || !varLibDockerExisted,
    createdEtcDocker: state.createdEtcDocker || !etcDockerExisted,
    ...(state.mode === undefined ? {} : { mode: state.mode }),
  });
  await ip(['netns', 'add', labSwitchNs]);
  await ip(['-n', labSwitchNs, 'link', 'set', 'lo', 'up']);
  await ip(['-n', labSwitchNs, 'link', 'add', labBridge, 'type', 'bridge']);
  await ip(['-n', labSwitchNs, 'link', 'set', labBridge, 'up']);
  await ip(['link', 'add', labHostVeth, 'type', 'veth', 'peer', 'name', 'host', 'netns', labSwitchNs]);
  await ip(['-n', labSwitchNs, 'link', 'set', 'host', 'master', labBridge, 'up']);
  await ip(['addr', 'add', `${labHostIp}/${labPrefixLength}`, 'dev', labHostVeth]);
  await ip(['link', 'set', labHostVeth, 'up']);
}

async function createNetwork(paths: LabPaths): Promise<void> {
  await createSwitch(paths);
  for (const n of labNodes) {
    await ip(['netns', 'add', n.name]);
    await ip(['-n', n.name, 'link', 'set', 'lo', 'up']);
    await ip(['link', 'add', 'eth0', 'netns', n.name, 'type', 'veth', 'peer', 'name', n.name, 'netns', labSwitchNs]);
    await ip(['-n', labSwitchNs, 'link', 'set', n.name, 'master', labBridge, 'up']);
    await ip(['-n', n.name, 'addr', 'add', `${n.ip}/${labPrefixLength}`, 'dev', 'eth0']);
    // no default route: nothing leaves the lab LAN
    await ip(['-n', n.name, 'link', 'set', 'eth0', 'up']);
  }
}

async function ensureClientKey(paths: LabPaths): Promise<void> {
  fs.mkdirSync(path.dirname(paths.keyFile), { recursive: true, mode: 0o700 });
  if (!fs.existsSync(paths.keyFile)) {
    await runOk('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'docker-net-lab', '-f', paths.keyFile]);
  }
}

/** True when every piece of a running lab is there (namespaces, veth, both anchors alive; or the switch and both VMs). */
async function labRunning(paths: LabPaths): Promise<boolean> {
  const present = await labNetnsPresent();
  const profile = readLabProfile(paths);
  if (isVmProfile(profile)) {
    return present.length === 1 && (await linkExists(labHostVeth)) && vmsRunning(paths, vmFlavourOf(profile));
  }
  if (present.length !== labNodes.length + 1 || !(await linkExists(labHostVeth))) { return false; }
  return labNodes.every((n) => anchorPid(nodePaths(paths, n)) !== undefined);
}

/** True when anything of a lab exists (namespaces, veth, live pids). */
async function labRemnants(paths: LabPaths): Promise<boolean> {
  if ((await labNetnsPresent()).length > 0 || (await linkExists(labHostVeth)) || vmRemnants(paths)) { return true; }
  return labNodes.some((n) => {
    const np = nodePaths(paths, n);
    return [np.anchorPid, np.sshdPid, np.etcdPid, np.dockerdPid].some((f) => fs.existsSync(f));
  });
}

function savedMode(paths: LabPaths): LabMode | undefined {
  try {
    return modeFromFlagsText(fs.readFileSync(nodePaths(paths, labNodes[0] ?? { name: '', ip: '' }).dockerdFlags, 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * Brings the two-node lab up, or repairs a running one (idempotent). Builds the image cache when missing,
 * creates the LAN and the nodes, guards each node's dockerd and etcd ports (lab/labGuard.ts), starts sshd, etcd and dockerd on each, seeds the images, writes the nodes
 * file and known_hosts. Stale state of an earlier session is torn down first.
 * @throws LabError `LabProvisionFailed` naming the step that failed (run `lab down` to clean up).
 */
export async function labUp(paths: LabPaths, requested: UpOptions, log: (line: string) => void): Promise<UpReport> {
  const t0 = Date.now();
  const phases: { name: string; ms: number }[] = [];
  const phase = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const s = Date.now();
    const r = await fn();
    const ms = Date.now() - s;
    phases.push({ name, ms });
    log(`  ${name}: ${ms} ms`);
    return r;
  };

  await phase('packages', () => ensurePackages(log));
  fs.mkdirSync(paths.home, { recursive: true });
  const running = await labRunning(paths);
  const plan = planProfile(paths, running, requested.profile, requested.mode, requested.modeGiven);
  const opts: UpOptions = { ...requested, mode: plan.mode };
  if (plan.switching) {
    await phase('switch profile', async () => {
      log(`switching the running lab to profile ${plan.profile}: taking it down first (node data kept) …`);
      await labDown(paths, { purge: false }, log);
    });
  }
  const wasUp = running && !plan.switching;
  if (!wasUp && (await labRemnants(paths))) {
    await phase('clean stale state', async () => {
      log('cleaning up what an earlier lab session left behind …');
      await labDown(paths, { purge: false }, log);
    });
  }
  // recorded before any node starts, so a repair or teardown after a half-failed up knows what runs where
  if (!wasUp) { writeLabProfile(paths, plan.profile); }
  if (isVmProfile(plan.profile)) {
    const profile = plan.profile;
    await phase('image cache', () => ensureVmImages(paths, vmFlavourOf(profile), log));
    await ensureClientKey(paths);
    if (!wasUp) { await phase('network', () => createSwitch(paths)); }
    const vms = await vmBringUp(paths, profile, opts.mode, log, phase);
    writeLabState(paths, { ...readLabState(paths), mode: opts.mode });
    writeLabProfile(paths, profile);
    return { wasUp, phases, totalMs: Date.now() - t0, mode: opts.mode, profile, vms };
  }
  await phase('image cache', () => ensureImageCache(paths, log));
  if (profileNeedsModernRootfs(plan.profile)) { await phase('modern rootfs', () => ensureModernRootfs(paths, log)); }
  await ensureClientKey(paths);

  const anchors = new Map<string, number>();
  if (!wasUp) {
    await phase('network', async () => {
      fs.writeFileSync(paths.cgroupMounts, cgroupMountLines(fs.readFileSync('/proc/self/mounts', 'utf8')));
      fs.mkdirSync(paths.binDir, { recursive: true });
      await createNetwork(paths);
    });
  }
  const anchorFile = path.join(paths.binDir, 'node-anchor.sh');
  await phase('nodes', async () => {
    fs.mkdirSync(paths.binDir, { recursive: true });
    fs.writeFileSync(anchorFile, anchorScript(), { mode: 0o755 });
    for (const n of labNodes) {
      const np = await prepareNodeFiles(n, paths);
      dropStalePidfiles(np);
      anchors.set(n.name, anchorPid(np) ?? (nodeKind(plan.profile, n) === 'modern'
        ? await startModernAnchor(n, np, paths, writeModernAnchorScript(paths))
        : await startAnchor(n, np, paths, anchorFile)));
    }
  });
  const anchorOf = (name: string): number => {
    const a = anchors.get(name);
    if (a === undefined) { throw new LabError('LabProvisionFailed', `${name}: no namespace anchor.`); }
    return a;
  };

  // before any daemon listens; also on a running lab (idempotent), so an older lab gets it too
  await phase('port guard', async () => {
    for (const note of (await Promise.all(labNodes.map(applyNodeGuard))).flat()) { log(note); }
  });
  await phase('sshd', async () => {
    await Promise.all(labNodes.map((n) => ensureSshd(n, nodePaths(paths, n), anchorOf(n.name))));
  });
  await phase('etcd', async () => {
    for (const n of labNodes) { ensureEtcd(n, nodePaths(paths, n), anchorOf(n.name), etcdPlan(plan.profile, n, nodePaths(paths, n), paths)); }
    const ok = await waitFor(async () => (await Promise.all(labNodes.map((n) => etcdHealthy(n, nodePaths(paths, n))))).every(Boolean), 60_000, 250);
    if (!ok) {
      throw new LabError('LabProvisionFailed', `etcd cluster did not become healthy within 60 s; see ${path.join(paths.home, 'nodes', '*', 'log', 'etcd.log')}.`);
    }
  });

  const current = savedMode(paths);
  const restart = wasUp && opts.modeGiven && opts.mode !== current;
  // a fresh start always applies the requested mode; a running lab keeps its flags unless --mode differs
  const modeArg = !wasUp || restart ? opts.mode : undefined;
  await phase('dockerd', async () => {
    const done = await Promise.all(labNodes.map((n) => ensureDockerd(n, nodePaths(paths, n), anchorOf(n.name), modeArg, restart)));
    labNodes.forEach((n, i) => { if (done[i] !== 'kept') { log(`${n.name}: dockerd ${done[i]}`); } });
  });

  await phase('images into nodes', async () => {
    const appDir = findAppDir();
    writeBuildContexts(paths);
    const added = await Promise.all(labNodes.map((n) => seedNode(n, paths, appDir)));
    labNodes.forEach((n, i) => { if ((added[i] ?? []).length > 0) { log(`${n.name}: added ${(added[i] ?? []).join(', ')}`); } });
  });

  const mode = modeArg ?? current ?? opts.mode;
  await phase('nodes file', async () => {
    const pubs = labNodes.map((n) => fs.readFileSync(`${nodePaths(paths, n).hostKey}.pub`, 'utf8'));
    fs.writeFileSync(paths.knownHosts, knownHostsText(labNodes.map((node, i) => ({ node, publicKeyLine: pubs[i] ?? '' }))));
    const status = await labStatus(paths);
    const first = status.nodes[0];
    const reportedMode = first !== undefined && first.mode !== 'unknown' ? first.mode : mode;
    const file = withProfileFacts(buildLabNodesFile(paths, pubs.map(hostKeyFingerprint), {
      mode: reportedMode,
      dockerVersion: first?.dockerd.version ?? 'unknown',
      etcdVersion: first?.etcd.version ?? 'unknown',
    }), plan.profile, nodeVersionFacts(plan.profile, status.nodes));
    fs.writeFileSync(`${paths.nodesFile}.tmp`, formatNodesFile(file));
    fs.renameSync(`${paths.nodesFile}.tmp`, paths.nodesFile);
    writeLabState(paths, { ...readLabState(paths), mode: reportedMode });
    writeLabProfile(paths, plan.profile);
  });
  return { wasUp, phases, totalMs: Date.now() - t0, mode, profile: plan.profile };
}
