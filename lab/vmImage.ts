import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LabError } from '../src/core/errors';
import type { LabNode, LabPaths } from './labLayout';
import { labHostIp, labPrefixLength } from './labLayout';
import { configuredAptMirror } from './labImages';
import { run, runOk, withLock } from './labProc';
import type { VmFlavour, VmFlavourSpec } from './vmFlavours';
import { vmFlavours } from './vmFlavours';
import type { VmNodeFiles } from './vmLayout';
import { vmCacheFiles, vmDiskSize, vmNodeFiles, vmRepoPort, vmStateFiles, vmUser } from './vmLayout';
import { buildKernelRepo, emptyRepoIndex } from './vmAptRepo';

/** Bump when the recipe below changes in a way the package list does not show: every cached rootfs is rebuilt. */
const rootfsRecipeVersion = 4;
/** Bump when the per-node configuration changes: every node disk is rebuilt. */
const nodeRecipeVersion = 3;

/** What a finished rootfs build recorded. */
export interface VmRootfsRecord {
  readonly flavour: VmFlavour;
  /** Content key of the recipe ({@link vmRootfsKey}); a record with another key is rebuilt. */
  readonly key: string;
  readonly mirror: string;
  readonly builtAt: string;
  readonly debootstrapMs: number;
  readonly installMs: number;
  readonly totalMs: number;
  /** Package → version of the packages that matter (dpkg-query). */
  readonly packages: Readonly<Record<string, string>>;
  /** The kernel release the image boots first (from /vmlinuz). */
  readonly kernel: string;
  /** The newer kernel the lab apt repository holds (bookworm), e.g. `6.12.48+deb12-amd64`. */
  readonly repoKernel?: string;
}

/** The apt source line of every lab VM: the lab machine's repository, nothing else. */
export function vmAptSourceLine(): string {
  return `deb [trusted=yes] http://${labHostIp}:${vmRepoPort}/ ./`;
}

/** Content key of a flavour's rootfs: suite, script, packages, mirror and the recipe version. */
export function vmRootfsKey(spec: VmFlavourSpec, mirror: string): string {
  const recipe = { v: rootfsRecipeVersion, suite: spec.suite, script: spec.debootstrapScript, packages: spec.packages, mirror,
    kernelSuite: spec.newerKernelSuite ?? null, apt: vmAptSourceLine() };
  return createHash('sha256').update(JSON.stringify(recipe)).digest('hex').slice(0, 16);
}

/** The build record of a flavour's rootfs, or undefined when missing, incomplete or built from another recipe. */
export function readVmRootfsRecord(paths: LabPaths, flavour: VmFlavour, mirror: string = configuredAptMirror()): VmRootfsRecord | undefined {
  const f = vmCacheFiles(paths, flavour);
  try {
    const rec = JSON.parse(fs.readFileSync(f.record, 'utf8')) as VmRootfsRecord;
    if (rec.key !== vmRootfsKey(vmFlavours[flavour], mirror) || !fs.existsSync(path.join(f.rootfs, 'vmlinuz'))) { return undefined; }
    return rec;
  } catch {
    return undefined;
  }
}

/** Runs `script` (sh) in a private mount namespace with /proc, /sys and /dev mounted in the chroot `root` ($1). */
function inChroot(root: string, script: string, timeoutMs = 1_200_000): ReturnType<typeof run> {
  const inner = 'mount -t proc proc "$1/proc"; mount --rbind /dev "$1/dev"; mount -t sysfs sysfs "$1/sys"; exec chroot "$1" /bin/sh -ec "$2"';
  return run('unshare', ['--mount', '--propagation', 'private', '--', 'sh', '-ec', inner, 'vm-chroot', root, script], { timeoutMs });
}

/** The target of a symlink in the rootfs, as a path inside the rootfs (absolute or relative to its directory). */
export function resolveInRoot(root: string, link: string): string {
  let p = link;
  for (let i = 0; i < 8; i++) {
    const full = path.join(root, p);
    let target: string;
    try { target = fs.readlinkSync(full); } catch { return p; }
    p = target.startsWith('/') ? target : path.posix.join(path.posix.dirname(p), target);
  }
  return p;
}

/** The kernel release of a `/boot/vmlinuz-<release>` path. */
export function kernelRelease(vmlinuzPath: string): string {
  return path.posix.basename(vmlinuzPath).replace(/^vmlinuz-/, '');
}

function parseVersions(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const [name, version] = line.trim().split(/\s+/);
    if (name !== undefined && name !== '' && version !== undefined) { out[name] = version; }
  }
  return out;
}

/** Writes the configuration every VM of the flavour shares (no secrets: the cache is world-readable). */
function configureRootfs(root: string): void {
  const w = (rel: string, text: string, mode = 0o644): void => {
    const file = path.join(root, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.rmSync(file, { force: true });
    fs.writeFileSync(file, text, { mode });
  };
  w('etc/fstab', '/dev/vda / ext4 defaults,errors=remount-ro 0 1\n');
  // the lab LAN has no resolver and no way out: names of the lab are in /etc/hosts, the rest fails at once
  w('etc/resolv.conf', `nameserver ${labHostIp}\n`);
  fs.rmSync(path.join(root, 'etc', 'apt', 'sources.list.d'), { recursive: true, force: true });
  fs.mkdirSync(path.join(root, 'etc', 'apt', 'sources.list.d'), { recursive: true });
  w('etc/apt/sources.list', `# the lab machine's apt repository (docker-net-lab): the VMs reach nothing else\n${vmAptSourceLine()}\n`);
  w('etc/apt/apt.conf.d/80docker-net-lab', 'Acquire::Languages "none";\nAPT::Install-Recommends "false";\n');
  // ufw as Debian/Ubuntu servers have it: enabled, incoming denied but SSH
  const ufwConf = path.join(root, 'etc', 'ufw', 'ufw.conf');
  w('etc/ufw/ufw.conf', fs.readFileSync(ufwConf, 'utf8').replace(/^ENABLED=.*$/m, 'ENABLED=yes'));
  fs.rmSync(path.join(root, 'usr', 'sbin', 'policy-rc.d'), { force: true });
  for (const e of fs.readdirSync(path.join(root, 'etc', 'ssh'))) {
    if (e.startsWith('ssh_host_')) { fs.rmSync(path.join(root, 'etc', 'ssh', e), { force: true }); }
  }
  fs.rmSync(path.join(root, 'var', 'lib', 'apt', 'lists'), { recursive: true, force: true });
  fs.mkdirSync(path.join(root, 'var', 'lib', 'apt', 'lists', 'partial'), { recursive: true });
  w('etc/machine-id', '');
}

/**
 * Builds the root filesystem of a VM flavour into the image cache when it is missing or its recipe changed:
 * `debootstrap --variant=minbase` from the configured mirror (forky with the sid script), the flavour's packages
 * with apt-get in a chroot (private mount namespace, no service started), user `learner` (groups sudo, docker,
 * no password yet), ufw enabled with 22/tcp allowed, apt sources pointing at the lab repository only; for
 * bookworm also the lab apt repository with bookworm-backports' kernel. Holds the cache's build lock (not the
 * lab lock). Builds into a side directory and renames it when complete.
 * @throws LabError `LabProvisionFailed` naming the log when debootstrap or apt-get fails.
 */
export async function ensureVmRootfs(paths: LabPaths, flavour: VmFlavour, log: (line: string) => void): Promise<{ record: VmRootfsRecord; built: boolean }> {
  const mirror = configuredAptMirror();
  const existing = readVmRootfsRecord(paths, flavour, mirror);
  if (existing !== undefined) { return { record: existing, built: false }; }
  const f = vmCacheFiles(paths, flavour);
  fs.mkdirSync(f.dir, { recursive: true });
  return withLock(path.join(paths.cache, 'vm', 'build.lock'), 40 * 60_000, (holder) => log(`waiting for another VM image build (pid ${holder}) …`), async () => {
    const again = readVmRootfsRecord(paths, flavour, mirror);
    if (again !== undefined) { return { record: again, built: false }; }
    return { record: await buildRootfs(paths, flavour, mirror, log), built: true };
  });
}

async function buildRootfs(paths: LabPaths, flavour: VmFlavour, mirror: string, log: (line: string) => void): Promise<VmRootfsRecord> {
  const spec = vmFlavours[flavour];
  const f = vmCacheFiles(paths, flavour);
  const spec0 = spec.debootstrapScript;
  if (!fs.existsSync(spec0)) { throw new LabError('LabProvisionFailed', `debootstrap has no script ${spec0}; install debootstrap.`); }
  fs.rmSync(f.building, { recursive: true, force: true });
  const logParts: string[] = [];
  const flush = (): void => fs.writeFileSync(f.log, logParts.join(''));
  const t0 = Date.now();
  log(`building the ${flavour} VM rootfs: debootstrap ${spec.suite} minbase from ${mirror} …`);
  const boot = await run('debootstrap', ['--variant=minbase', spec.suite, f.building, mirror, spec.debootstrapScript], { timeoutMs: 1_200_000 });
  logParts.push(boot.stdout, boot.stderr);
  flush();
  if (boot.code !== 0) { throw new LabError('LabProvisionFailed', `debootstrap ${spec.suite} failed (exit ${boot.code}); see ${f.log}.`); }
  const debootstrapMs = Date.now() - t0;
  log(`  debootstrap: ${debootstrapMs} ms; installing ${spec.packages.length} packages …`);
  const root = f.building;
  fs.writeFileSync(path.join(root, 'etc', 'apt', 'sources.list'), `deb ${mirror} ${spec.suite} main\n`);
  fs.writeFileSync(path.join(root, 'usr', 'sbin', 'policy-rc.d'), '#!/bin/sh\nexit 101\n', { mode: 0o755 });
  fs.copyFileSync('/etc/resolv.conf', path.join(root, 'etc', 'resolv.conf'));
  // dracut (forky) in a chroot cannot see the VM's hardware and left ext4 out: a generic initrd with the VM's
  // disk and filesystem drivers, uncompressed (nothing to unpack under TCG); bookworm's initramfs-tools has them
  fs.mkdirSync(path.join(root, 'etc', 'dracut.conf.d'), { recursive: true });
  fs.writeFileSync(path.join(root, 'etc', 'dracut.conf.d', '10-docker-net-lab.conf'),
    'hostonly="no"\nadd_drivers+=" ext4 virtio_blk virtio_pci virtio_net "\ncompress="cat"\n' +
    'omit_dracutmodules+=" plymouth crypt lvm mdraid dm multipath iscsi nbd nfs cifs fcoe network network-legacy kernel-network-modules "\n');
  const t1 = Date.now();
  // a mirror that serves an older snapshot of a testing suite has an expired Release file: accept it
  const apt = 'apt-get -o Acquire::Check-Valid-Until=false';
  const install = await inChroot(root, [
    'export DEBIAN_FRONTEND=noninteractive',
    `${apt} update -qq`,
    `${apt} install -y -qq --no-install-recommends ${spec.packages.join(' ')}`,
    `useradd -m -s /bin/bash -G sudo,docker ${vmUser}`,
    'ufw allow 22/tcp',
    'systemctl enable systemd-networkd',
    `${apt} clean`,
  ].join('\n'));
  logParts.push(install.stdout, install.stderr);
  flush();
  if (install.code !== 0) { throw new LabError('LabProvisionFailed', `Installing the ${flavour} VM packages failed (exit ${install.code}); see ${f.log}.`); }
  const installMs = Date.now() - t1;
  let repoKernel: string | undefined;
  fs.rmSync(f.kernelRepo, { recursive: true, force: true });
  fs.mkdirSync(f.kernelRepo, { recursive: true });
  if (spec.newerKernelSuite !== undefined) {
    log(`  fetching ${spec.newerKernelSuite}'s linux-image-amd64 for the lab apt repository …`);
    const r = await buildKernelRepo(root, f.kernelRepo, mirror, spec.newerKernelSuite, (script) => inChroot(root, script));
    logParts.push(r.log);
    flush();
    repoKernel = r.kernel;
    log(`  lab apt repository: ${r.debs.length} packages (kernel ${r.kernel})`);
  } else {
    await emptyRepoIndex(f.kernelRepo);
  }
  configureRootfs(root);
  const versions = parseVersions(await runOk('chroot', [root, 'dpkg-query', '-W', '-f', '${Package} ${Version}\n',
    'docker.io', 'containerd', 'etcd-server', 'systemd', 'openssh-server', 'linux-image-amd64', 'ufw']));
  const kernel = kernelRelease(resolveInRoot(root, '/vmlinuz'));
  fs.rmSync(f.rootfs, { recursive: true, force: true });
  fs.renameSync(f.building, f.rootfs);
  const record: VmRootfsRecord = {
    flavour, key: vmRootfsKey(spec, mirror), mirror, builtAt: new Date().toISOString(), debootstrapMs, installMs,
    totalMs: Date.now() - t0, packages: versions, kernel, ...(repoKernel === undefined ? {} : { repoKernel }),
  };
  fs.writeFileSync(f.record, `${JSON.stringify(record, null, 2)}\n`);
  log(`  ${flavour} VM rootfs built in ${record.totalMs} ms: kernel ${kernel}, docker.io ${versions['docker.io'] ?? '?'}, etcd ${versions['etcd-server'] ?? '?'}, systemd ${versions['systemd'] ?? '?'}`);
  return record;
}

/**
 * The learner's sudo password of this lab: read from `<home>/vm/sudo-password` (mode 600), created with 18
 * random characters the first time. Never written to the nodes file.
 */
export function vmSudoPassword(paths: LabPaths): string {
  const file = vmStateFiles(paths).sudoPassword;
  try {
    const pw = fs.readFileSync(file, 'utf8').trim();
    if (/^[A-Za-z0-9_-]{12,}$/.test(pw)) { return pw; }
  } catch { /* first time */ }
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const pw = randomBytes(14).toString('base64url').slice(0, 18);
  fs.writeFileSync(file, `${pw}\n`, { mode: 0o600 });
  fs.chmodSync(file, 0o600);
  return pw;
}

/** The node's SSH host key (generated once per node, kept across flavours and rebuilds). */
async function ensureHostKey(files: VmNodeFiles, node: LabNode): Promise<string> {
  if (!fs.existsSync(files.hostKey)) {
    fs.mkdirSync(path.dirname(files.hostKey), { recursive: true, mode: 0o700 });
    await runOk('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `root@${node.name}`, '-f', files.hostKey]);
  }
  return fs.readFileSync(`${files.hostKey}.pub`, 'utf8').trim();
}

/** What a node disk was built from. */
interface VmDiskRecord {
  readonly key: string;
  readonly kernel: string;
}

/** Per-node files of the guest (hostname, hosts, address, machine id). */
export function vmIdentityFiles(node: LabNode): Record<string, string> {
  return {
    'etc/hostname': `${node.name}\n`,
    'etc/hosts': `127.0.0.1\tlocalhost\n127.0.1.1\t${node.name}\n::1\tlocalhost ip6-localhost ip6-loopback\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n`,
    // a static address and no gateway: nothing leaves the lab LAN
    'etc/systemd/network/10-lab.network': `[Match]\nName=en* eth*\n\n[Network]\nAddress=${node.ip}/${labPrefixLength}\nLinkLocalAddressing=no\nIPv6AcceptRA=no\n`,
    'etc/machine-id': `${createHash('sha256').update(`docker-net-lab ${node.name}`).digest('hex').slice(0, 32)}\n`,
  };
}

/**
 * Writes the node's disk image (raw ext4, sparse) from the flavour's rootfs plus the node's identity (hostname,
 * address, machine id, SSH host key, the learner's password hash and the lab's public key), with `mkfs.ext4 -d`:
 * no mount, no loop device. The rootfs is hard-linked into a staging tree and every file of the node is
 * replaced (unlinked first), never edited in place. Also copies the kernel and initrd that /vmlinuz and
 * /initrd.img name. Skipped when the disk's key (rootfs key, node, password, keys) is unchanged.
 * @returns whether the disk was written now.
 */
export async function ensureVmNodeDisk(paths: LabPaths, flavour: VmFlavour, node: LabNode, rootfs: VmRootfsRecord, log: (line: string) => void): Promise<boolean> {
  const files = vmNodeFiles(paths, flavour, node);
  fs.mkdirSync(files.dir, { recursive: true, mode: 0o700 });
  const hostPub = await ensureHostKey(files, node);
  const password = vmSudoPassword(paths);
  const labPub = fs.readFileSync(`${paths.keyFile}.pub`, 'utf8').trim();
  const key = createHash('sha256').update(JSON.stringify({ v: nodeRecipeVersion, rootfs: rootfs.key, node, password, labPub, hostPub, size: vmDiskSize })).digest('hex').slice(0, 16);
  try {
    const rec = JSON.parse(fs.readFileSync(files.diskRecord, 'utf8')) as VmDiskRecord;
    if (rec.key === key && fs.existsSync(files.disk) && fs.existsSync(files.kernel) && fs.existsSync(files.initrd)) { return false; }
  } catch { /* build */ }
  const t0 = Date.now();
  const src = vmCacheFiles(paths, flavour).rootfs;
  const stage = path.join(files.dir, 'stage');
  fs.rmSync(stage, { recursive: true, force: true });
  await runOk('cp', ['-al', src, stage]);
  const put = (rel: string, text: string, mode = 0o644, uid = 0, gid = 0): void => {
    const file = path.join(stage, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.rmSync(file, { force: true });
    fs.writeFileSync(file, text, { mode });
    fs.chmodSync(file, mode);
    fs.chownSync(file, uid, gid);
  };
  for (const [rel, text] of Object.entries(vmIdentityFiles(node))) { put(rel, text); }
  put('etc/ssh/ssh_host_ed25519_key', fs.readFileSync(files.hostKey, 'utf8'), 0o600);
  put('etc/ssh/ssh_host_ed25519_key.pub', `${hostPub}\n`);
  const passwd = fs.readFileSync(path.join(stage, 'etc', 'passwd'), 'utf8');
  const entry = passwd.split('\n').find((l) => l.startsWith(`${vmUser}:`))?.split(':');
  const uid = Number(entry?.[2]);
  const gid = Number(entry?.[3]);
  if (!Number.isInteger(uid) || !Number.isInteger(gid)) { throw new LabError('LabProvisionFailed', `The ${flavour} rootfs has no user ${vmUser}.`); }
  const hash = (await runOk('openssl', ['passwd', '-6', '-stdin'], { input: `${password}\n` })).trim();
  const shadowFile = path.join(stage, 'etc', 'shadow');
  const shadow = fs.readFileSync(shadowFile, 'utf8').split('\n').map((l) => {
    const parts = l.split(':');
    if (parts[0] !== vmUser) { return l; }
    parts[1] = hash;
    return parts.join(':');
  }).join('\n');
  const shadowStat = fs.statSync(shadowFile);
  put('etc/shadow', shadow, 0o640, 0, shadowStat.gid);
  const sshDir = path.join(stage, 'home', vmUser, '.ssh');
  fs.mkdirSync(sshDir, { recursive: true, mode: 0o700 });
  fs.chownSync(sshDir, uid, gid);
  put(`home/${vmUser}/.ssh/authorized_keys`, `${labPub}\n`, 0o600, uid, gid);
  const tmp = `${files.disk}.tmp`;
  fs.rmSync(tmp, { force: true });
  await runOk('mkfs.ext4', ['-q', '-F', '-L', 'root', '-d', stage, tmp, vmDiskSize], { timeoutMs: 600_000 });
  const kernelPath = resolveInRoot(stage, '/vmlinuz');
  const initrdPath = resolveInRoot(stage, '/initrd.img');
  fs.copyFileSync(path.join(stage, kernelPath), files.kernel);
  fs.copyFileSync(path.join(stage, initrdPath), files.initrd);
  fs.rmSync(stage, { recursive: true, force: true });
  fs.renameSync(tmp, files.disk);
  fs.writeFileSync(files.diskRecord, `${JSON.stringify({ key, kernel: kernelRelease(kernelPath) } satisfies VmDiskRecord)}\n`);
  // the warm state was taken on the old disk
  for (const f of [files.warmDisk, files.warmState, files.warmRecord]) { fs.rmSync(f, { force: true }); }
  log(`${node.name}: ${flavour} disk written in ${Date.now() - t0} ms (mkfs.ext4 -d, kernel ${kernelRelease(kernelPath)})`);
  return true;
}
