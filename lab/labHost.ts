import * as fs from 'node:fs';
import { LabError } from '../src/core/errors';
import type { LabMode, LabPaths } from './labLayout';
import { labHostVeth, labNodes, labSwitchNs } from './labLayout';
import { run, runOk } from './labProc';

/** Bookkeeping of what `up` created on the host, so `down` removes exactly that. */
export interface LabState {
  /** `ip netns add` created /run/netns (a bind mount) in this lab's lifetime. */
  readonly createdRunNetns: boolean;
  /** /var/lib/docker was created as an empty mount point for the nodes' private data roots. */
  readonly createdVarLibDocker: boolean;
  /** /etc/docker was created as a mount point. */
  readonly createdEtcDocker: boolean;
  /** Mode of the last `up`. */
  readonly mode?: LabMode;
}

const emptyState: LabState = { createdRunNetns: false, createdVarLibDocker: false, createdEtcDocker: false };

/** Reads the lab bookkeeping (defaults when missing or unreadable). */
export function readLabState(paths: LabPaths): LabState {
  try {
    return { ...emptyState, ...(JSON.parse(fs.readFileSync(paths.stateFile, 'utf8')) as Partial<LabState>) };
  } catch {
    return emptyState;
  }
}

/** Writes the lab bookkeeping. */
export function writeLabState(paths: LabPaths, state: LabState): void {
  fs.mkdirSync(paths.home, { recursive: true });
  fs.writeFileSync(paths.stateFile, `${JSON.stringify(state, null, 2)}\n`);
}

/** Why the local lab cannot run here, or undefined when it can (Linux, root). */
export function platformProblem(): string | undefined {
  if (process.platform !== 'linux') { return `the local lab needs Linux (this is ${process.platform})`; }
  const uid = typeof process.getuid === 'function' ? process.getuid() : -1;
  if (uid !== 0) { return `the local lab needs root (network namespaces, mounts, daemons); this process runs as uid ${uid}`; }
  return undefined;
}

/** What to do instead of the local lab. */
export const ownMachinesHint = [
  'Use your own two Linux machines instead: write a nodes file (format in docs/lab.md, e.g. nodes.json with',
  'both hosts, port, user and key file) and pass it with --nodes FILE, or add the machines in the VS Code',
  'settings / from ~/.ssh/config. Or run "sudo docker-net-lab lab up" on a Linux machine.',
].join('\n');

/** Network namespaces that exist now. */
export async function listNetns(): Promise<string[]> {
  const r = await run('ip', ['netns', 'list']);
  return r.stdout.split('\n').map((l) => l.trim().split(/\s+/)[0] ?? '').filter((s) => s !== '');
}

/** True when a root-namespace link exists. */
export async function linkExists(name: string): Promise<boolean> {
  return (await run('ip', ['link', 'show', 'dev', name])).code === 0;
}

/** Pids in a network namespace (empty when it does not exist). */
export async function netnsPids(ns: string): Promise<number[]> {
  const r = await run('ip', ['netns', 'pids', ns]);
  return r.code !== 0 ? [] : r.stdout.split(/\s+/).filter((s) => /^\d+$/.test(s)).map(Number);
}

/** Names of the lab's namespaces (nodes and switch) that exist now. */
export async function labNetnsPresent(): Promise<string[]> {
  const mine = new Set([...labNodes.map((n) => n.name), labSwitchNs]);
  return (await listNetns()).filter((n) => mine.has(n));
}

/** Mount points currently mounted in this (root) mount namespace at or under `dir`. */
export function mountsUnder(dir: string): string[] {
  const text = fs.readFileSync('/proc/self/mounts', 'utf8');
  return text.split('\n').map((l) => (l.split(' ')[1] ?? '').replace(/\\040/g, ' '))
    .filter((m) => m === dir || m.startsWith(`${dir}/`));
}

/** True when `dir` is a mount point in this namespace. */
export function isMountPoint(dir: string): boolean {
  return mountsUnder(dir).includes(dir);
}

/** Packages the lab needs, by Debian package name. */
export const labPackages: readonly string[] = [
  'docker.io', 'etcd-server', 'etcd-client', 'openssh-server', 'openssh-client', 'busybox-static', 'debootstrap',
  'iproute2', 'curl', 'iptables', 'util-linux', 'tar', 'debian-archive-keyring',
  // sudo: the lab tests log in as a non-root user with a real sudo (legacy nodes use this machine's /usr)
  'sudo',
  // the vm profiles: QEMU, qemu-img, mkfs.ext4 -d and debugfs, dpkg-scanpackages (lab apt repository), openssl passwd
  'qemu-system-x86', 'qemu-utils', 'e2fsprogs', 'dpkg-dev', 'openssl',
];

/** Which of `pkgs` dpkg does not list as installed. */
export async function missingPackages(pkgs: readonly string[]): Promise<string[]> {
  const r = await run('dpkg-query', ['-W', '-f', '${Package} ${db:Status-Status}\n', ...pkgs]);
  const installed = new Set(r.stdout.split('\n').filter((l) => l.endsWith(' installed')).map((l) => l.split(' ')[0]));
  return pkgs.filter((p) => !installed.has(p));
}

/**
 * Installs missing lab packages with apt-get (one `update`, then `install --no-install-recommends`).
 * @returns the packages installed now.
 * @throws LabError `LabProvisionFailed` when dpkg is not there (not Debian) or apt-get fails.
 */
export async function ensurePackages(log: (line: string) => void): Promise<string[]> {
  if ((await run('dpkg-query', ['--version'])).code !== 0) {
    const need = ['dockerd', 'etcd', 'etcdctl', 'sshd', 'debootstrap', 'ip', 'curl', 'nsenter', 'unshare'];
    const missing: string[] = [];
    for (const c of need) { if ((await run('sh', ['-c', `command -v ${c} || test -x /usr/sbin/${c}`])).code !== 0) { missing.push(c); } }
    if (missing.length > 0) {
      throw new LabError('LabProvisionFailed', `Not a Debian system and these programs are missing: ${missing.join(', ')}.`);
    }
    return [];
  }
  const missing = await missingPackages(labPackages);
  if (missing.length === 0) { return []; }
  log(`installing ${missing.join(' ')} …`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  // keep the packages' init scripts from starting dockerd/sshd/etcd in the root namespace
  const policy = '/usr/sbin/policy-rc.d';
  const ownPolicy = !fs.existsSync(policy);
  if (ownPolicy) { fs.writeFileSync(policy, '#!/bin/sh\n# docker-net-lab: no service starts during lab package installs\nexit 101\n', { mode: 0o755 }); }
  try {
    await runOk('apt-get', ['update', '-qq'], { env });
    await runOk('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { env });
  } finally {
    if (ownPolicy) { fs.rmSync(policy, { force: true }); }
  }
  return missing;
}

/** Root-namespace lab link name, for tests and teardown checks. */
export const hostVethName = labHostVeth;
