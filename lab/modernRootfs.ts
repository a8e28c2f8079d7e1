import * as fs from 'node:fs';
import * as path from 'node:path';
import { LabError } from '../src/core/errors';
import type { LabPaths } from './labLayout';
import { configuredAptMirror } from './labImages';
import { run, runOk } from './labProc';

/** Debian release of the modern nodes' userspace (Docker 26, etcd 3.5, OpenSSH 10). */
export const modernSuite = 'trixie';

/** Packages installed into the modern rootfs on top of debootstrap's minbase. */
export const modernPackages: readonly string[] = [
  'docker.io', 'docker-cli', 'containerd', 'runc', 'etcd-server', 'etcd-client',
  'openssh-server', 'openssh-sftp-server', 'iproute2', 'iptables', 'curl', 'ca-certificates', 'procps', 'iputils-ping',
];

/** Packages whose versions the build record lists. */
const recordedPackages = ['docker.io', 'docker-cli', 'containerd', 'runc', 'etcd-server', 'etcd-client', 'openssh-server'];

/** Where the modern rootfs and its build record live in the image cache. */
export interface ModernRootfsFiles {
  /** The finished rootfs (read-only lower layer of every modern node). */
  readonly rootfs: string;
  /** Build directory while building (renamed to {@link rootfs} when complete). */
  readonly building: string;
  /** JSON build record ({@link ModernRootfsRecord}). */
  readonly record: string;
  /** debootstrap + chroot apt-get output of the last build. */
  readonly log: string;
}

/** What the build recorded. */
export interface ModernRootfsRecord {
  readonly suite: string;
  readonly mirror: string;
  /** ISO time the build finished. */
  readonly builtAt: string;
  /** Milliseconds for debootstrap and for the chroot package install. */
  readonly debootstrapMs: number;
  readonly installMs: number;
  readonly totalMs: number;
  /** Size of the rootfs in bytes (du). */
  readonly bytes: number;
  /** Package → installed version (dpkg-query). */
  readonly packages: Readonly<Record<string, string>>;
}

/** Paths of the modern rootfs in the image cache (`<cache>/modern-trixie/`). */
export function modernRootfsFiles(paths: LabPaths): ModernRootfsFiles {
  const dir = path.join(paths.cache, `modern-${modernSuite}`);
  return {
    rootfs: path.join(dir, 'rootfs'),
    building: path.join(dir, 'rootfs.building'),
    record: path.join(dir, 'build.json'),
    log: path.join(dir, 'build.log'),
  };
}

/** The build record, or undefined when the rootfs is missing or incomplete. */
export function readModernRootfsRecord(paths: LabPaths): ModernRootfsRecord | undefined {
  const f = modernRootfsFiles(paths);
  if (!fs.existsSync(path.join(f.rootfs, 'usr', 'sbin', 'dockerd'))) { return undefined; }
  try {
    return JSON.parse(fs.readFileSync(f.record, 'utf8')) as ModernRootfsRecord;
  } catch {
    return undefined;
  }
}

/** apt sources of the rootfs: the same mirror as the host, trixie main (deb822). */
export function modernAptSources(mirror: string): string {
  return [
    'Types: deb',
    `URIs: ${mirror}`,
    `Suites: ${modernSuite} ${modernSuite}-updates`,
    'Components: main',
    'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg',
    '',
  ].join('\n');
}

/** Parses `dpkg-query -W -f '${Package} ${Version}\n'` output. */
export function parseDpkgVersions(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const [name, version] = line.trim().split(/\s+/);
    if (name !== undefined && name !== '' && version !== undefined) { out[name] = version; }
  }
  return out;
}

async function checkHostCanBuild(): Promise<void> {
  if (!fs.existsSync(`/usr/share/debootstrap/scripts/${modernSuite}`)) {
    throw new LabError('LabProvisionFailed',
      `This debootstrap has no script for Debian ${modernSuite}; install a newer debootstrap (Debian 12's 1.0.128+nmu2+deb12u1 or later has it).`);
  }
  const keyring = '/usr/share/keyrings/debian-archive-keyring.gpg';
  const keys = await run('gpg', ['--no-default-keyring', '--keyring', keyring, '--list-keys']);
  if (keys.code === 0 && !keys.stdout.includes(`/${modernSuite})`)) {
    throw new LabError('LabProvisionFailed',
      `${keyring} has no Debian ${modernSuite} signing key; update debian-archive-keyring (bookworm's 2023.3+deb12u1 or later has it).`);
  }
}

/**
 * Builds the modern nodes' root filesystem when it is missing: `debootstrap --variant=minbase trixie` from the
 * host's apt mirror, then `apt-get install` of {@link modernPackages} in a chroot (inside a private mount namespace,
 * no service started: policy-rc.d), apt sources pointing at the same mirror, image-specific SSH host keys removed.
 * Builds into a side directory and renames it when complete, so a half build is never used.
 * @returns the build record (an existing one when nothing was built).
 * @throws LabError `LabProvisionFailed` when debootstrap or apt-get fails (the log file is named).
 */
export async function ensureModernRootfs(paths: LabPaths, log: (line: string) => void): Promise<{ record: ModernRootfsRecord; built: boolean }> {
  const existing = readModernRootfsRecord(paths);
  if (existing !== undefined) { return { record: existing, built: false }; }
  const f = modernRootfsFiles(paths);
  await checkHostCanBuild();
  const mirror = configuredAptMirror();
  fs.mkdirSync(path.dirname(f.rootfs), { recursive: true });
  fs.rmSync(f.building, { recursive: true, force: true });
  fs.rmSync(f.rootfs, { recursive: true, force: true });
  const t0 = Date.now();
  log(`building the modern rootfs: debootstrap ${modernSuite} minbase from ${mirror} …`);
  const logParts: string[] = [];
  const boot = await run('debootstrap', ['--variant=minbase', modernSuite, f.building, mirror], { timeoutMs: 900_000 });
  logParts.push(boot.stdout, boot.stderr);
  fs.writeFileSync(f.log, logParts.join(''));
  if (boot.code !== 0) {
    throw new LabError('LabProvisionFailed', `debootstrap ${modernSuite} failed (exit ${boot.code}); see ${f.log}.`);
  }
  const debootstrapMs = Date.now() - t0;
  log(`  debootstrap: ${debootstrapMs} ms; installing ${modernPackages.join(' ')} …`);

  const root = f.building;
  fs.rmSync(path.join(root, 'etc', 'apt', 'sources.list'), { force: true });
  fs.writeFileSync(path.join(root, 'etc', 'apt', 'sources.list.d', 'debian.sources'), modernAptSources(mirror));
  const policy = path.join(root, 'usr', 'sbin', 'policy-rc.d');
  fs.writeFileSync(policy, '#!/bin/sh\nexit 101\n', { mode: 0o755 });
  fs.copyFileSync('/etc/resolv.conf', path.join(root, 'etc', 'resolv.conf'));
  const t1 = Date.now();
  const inner = [
    'mount -t proc proc "$1/proc"',
    'mount --rbind /dev "$1/dev"',
    'mount -t sysfs sysfs "$1/sys"',
    `chroot "$1" /bin/sh -ec 'export DEBIAN_FRONTEND=noninteractive; apt-get update -qq; ` +
      `apt-get install -y -qq --no-install-recommends ${modernPackages.join(' ')}; apt-get clean; rm -rf /var/lib/apt/lists/*'`,
  ].join('\n');
  const inst = await run('unshare', ['--mount', '--propagation', 'private', '--', 'sh', '-ec', inner, 'modern-chroot', root], { timeoutMs: 900_000 });
  logParts.push(inst.stdout, inst.stderr);
  fs.writeFileSync(f.log, logParts.join(''));
  if (inst.code !== 0) {
    throw new LabError('LabProvisionFailed', `Installing the modern node packages in the ${modernSuite} chroot failed (exit ${inst.code}); see ${f.log}.`);
  }
  const installMs = Date.now() - t1;
  fs.rmSync(policy, { force: true });
  fs.writeFileSync(path.join(root, 'etc', 'resolv.conf'), '');
  // every node gets its own host key from the lab; none baked into the shared image
  for (const e of fs.readdirSync(path.join(root, 'etc', 'ssh'))) {
    if (e.startsWith('ssh_host_')) { fs.rmSync(path.join(root, 'etc', 'ssh', e), { force: true }); }
  }
  fs.mkdirSync(path.join(root, 'var', 'lib', 'apt', 'lists', 'partial'), { recursive: true });
  const versions = parseDpkgVersions(await runOk('chroot', [root, 'dpkg-query', '-W', '-f', '${Package} ${Version}\n', ...recordedPackages]));
  const du = await run('du', ['-sb', root]);
  fs.renameSync(f.building, f.rootfs);
  const record: ModernRootfsRecord = {
    suite: modernSuite,
    mirror,
    builtAt: new Date().toISOString(),
    debootstrapMs,
    installMs,
    totalMs: Date.now() - t0,
    bytes: Number.parseInt(du.stdout.split(/\s+/)[0] ?? '0', 10) || 0,
    packages: versions,
  };
  fs.writeFileSync(f.record, `${JSON.stringify(record, null, 2)}\n`);
  log(`  modern rootfs built in ${record.totalMs} ms (${Math.round(record.bytes / 1048576)} MB): docker.io ${versions['docker.io'] ?? '?'}, etcd ${versions['etcd-server'] ?? '?'}`);
  return { record, built: true };
}
