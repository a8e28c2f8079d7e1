import * as fs from 'node:fs';
import * as path from 'node:path';
import { LabError } from '../src/core/errors';
import type { LabNode, LabPaths } from './labLayout';
import { dockerTcpPort } from './labLayout';
import { aptMirrorFromSources } from './labConfig';
import { run, runOk } from './labProc';

/** Rootfs tarballs in the image cache. */
export interface ImageCacheFiles {
  readonly busybox: string;
  readonly debian: string;
  readonly apps: string;
}

/** Tag of the imported apps rootfs on every node (the base of nginx, redis and flask-redis). */
export const appsImageTag = 'lab/debian-apps:bookworm';

/** Images every node gets, with the tutorial's names. */
export const seededImages: readonly string[] = ['busybox', 'nginx', 'redis', 'flask-redis'];

/** Packages of the apps rootfs. */
export const appsPackages: readonly string[] = [
  'nginx', 'redis-server', 'python3-flask', 'python3-redis', 'curl', 'iputils-ping', 'iproute2', 'procps',
];

/** File names of the cached rootfs tarballs. */
export function imageCacheFiles(paths: LabPaths): ImageCacheFiles {
  return {
    busybox: path.join(paths.cache, 'busybox.tar'),
    debian: path.join(paths.cache, 'debian-bookworm-minbase.tar'),
    apps: path.join(paths.cache, 'debian-bookworm-apps.tar'),
  };
}

/** The Debian mirror configured for apt on this machine (falls back to deb.debian.org). */
export function configuredAptMirror(): string {
  const texts: string[] = [];
  for (const f of ['/etc/apt/sources.list']) {
    try { texts.push(fs.readFileSync(f, 'utf8')); } catch { /* none */ }
  }
  try {
    for (const e of fs.readdirSync('/etc/apt/sources.list.d').sort()) {
      if (e.endsWith('.sources') || e.endsWith('.list')) {
        texts.push(fs.readFileSync(path.join('/etc/apt/sources.list.d', e), 'utf8'));
      }
    }
  } catch { /* none */ }
  return aptMirrorFromSources(texts) ?? 'http://deb.debian.org/debian';
}

async function tarDir(dir: string, out: string): Promise<void> {
  await runOk('tar', ['-C', dir, '--numeric-owner', '-cf', `${out}.tmp`, '.']);
  fs.renameSync(`${out}.tmp`, out);
}

async function buildBusybox(work: string, out: string): Promise<void> {
  const root = path.join(work, 'busybox');
  fs.rmSync(root, { recursive: true, force: true });
  for (const d of ['bin', 'etc', 'tmp', 'root', 'proc', 'sys', 'dev']) { fs.mkdirSync(path.join(root, d), { recursive: true }); }
  const bin = fs.existsSync('/bin/busybox') ? '/bin/busybox' : '/usr/bin/busybox';
  fs.copyFileSync(bin, path.join(root, 'bin', 'busybox'));
  fs.chmodSync(path.join(root, 'bin', 'busybox'), 0o755);
  const applets = (await runOk(bin, ['--list'])).split('\n').map((s) => s.trim()).filter((s) => s !== '' && s !== 'busybox');
  for (const a of applets) { fs.symlinkSync('busybox', path.join(root, 'bin', a)); }
  fs.writeFileSync(path.join(root, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  fs.writeFileSync(path.join(root, 'etc', 'group'), 'root:x:0:\n');
  fs.chmodSync(path.join(root, 'tmp'), 0o1777);
  await tarDir(root, out);
  fs.rmSync(root, { recursive: true, force: true });
}

async function buildDebian(work: string, out: string, mirror: string, logFile: string): Promise<void> {
  const root = path.join(work, 'bookworm');
  fs.rmSync(root, { recursive: true, force: true });
  const r = await run('debootstrap', ['--variant=minbase', 'bookworm', root, mirror]);
  fs.writeFileSync(logFile, r.stdout + r.stderr);
  if (r.code !== 0) {
    throw new LabError('LabProvisionFailed', `debootstrap failed (exit ${r.code}); see ${logFile}.`);
  }
  fs.rmSync(path.join(root, 'var', 'lib', 'apt', 'lists'), { recursive: true, force: true });
  fs.mkdirSync(path.join(root, 'var', 'lib', 'apt', 'lists', 'partial'), { recursive: true });
  await run('find', [path.join(root, 'var', 'cache', 'apt', 'archives'), '-name', '*.deb', '-delete']);
  await tarDir(root, out);
  fs.rmSync(root, { recursive: true, force: true });
}

async function buildApps(work: string, debianTar: string, out: string, logFile: string): Promise<void> {
  const root = path.join(work, 'apps');
  fs.rmSync(root, { recursive: true, force: true });
  fs.mkdirSync(root, { recursive: true });
  await runOk('tar', ['-C', root, '--numeric-owner', '-xf', debianTar]);
  const policy = path.join(root, 'usr', 'sbin', 'policy-rc.d');
  fs.writeFileSync(policy, '#!/bin/sh\nexit 101\n', { mode: 0o755 });
  fs.copyFileSync('/etc/resolv.conf', path.join(root, 'etc', 'resolv.conf'));
  // a private mount namespace: /proc and /dev inside the chroot vanish with it
  const inner = [
    `mount -t proc proc "$1/proc"`,
    `mount --rbind /dev "$1/dev"`,
    `chroot "$1" /bin/sh -ec 'export DEBIAN_FRONTEND=noninteractive; apt-get update -qq; ` +
      `apt-get install -y -qq --no-install-recommends ${appsPackages.join(' ')}; apt-get clean; rm -rf /var/lib/apt/lists/*'`,
  ].join('\n');
  const r = await run('unshare', ['--mount', '--propagation', 'private', '--', 'sh', '-ec', inner, 'apps-chroot', root]);
  fs.writeFileSync(logFile, r.stdout + r.stderr);
  if (r.code !== 0) {
    throw new LabError('LabProvisionFailed', `Installing the apps packages in the chroot failed (exit ${r.code}); see ${logFile}.`);
  }
  fs.rmSync(policy, { force: true });
  fs.writeFileSync(path.join(root, 'etc', 'resolv.conf'), '');
  await tarDir(root, out);
  fs.rmSync(root, { recursive: true, force: true });
}

/**
 * Builds the missing rootfs tarballs in the image cache (busybox from busybox-static, Debian bookworm minbase
 * with debootstrap from the configured mirror, the apps rootfs with apt-get in a chroot). Existing ones are kept.
 * @returns the names of the tarballs built now (empty when the cache was complete).
 * @throws LabError `LabProvisionFailed` when a build step fails (its log is in the cache dir).
 */
export async function ensureImageCache(paths: LabPaths, log: (line: string) => void): Promise<string[]> {
  const files = imageCacheFiles(paths);
  fs.mkdirSync(paths.cache, { recursive: true });
  const work = path.join(paths.cache, 'work');
  const built: string[] = [];
  const step = async (name: string, fn: () => Promise<void>): Promise<void> => {
    const t0 = Date.now();
    log(`building image cache: ${name} …`);
    await fn();
    built.push(name);
    log(`  ${name}: ${Date.now() - t0} ms`);
  };
  if (!fs.existsSync(files.busybox)) { await step('busybox', () => buildBusybox(work, files.busybox)); }
  if (!fs.existsSync(files.debian)) {
    const mirror = configuredAptMirror();
    await step(`debian bookworm minbase (${mirror})`, () => buildDebian(work, files.debian, mirror, path.join(paths.cache, 'debootstrap.log')));
  }
  if (!fs.existsSync(files.apps)) {
    await step('apps rootfs', () => buildApps(work, files.debian, files.apps, path.join(paths.cache, 'apps-chroot.log')));
  }
  fs.rmSync(work, { recursive: true, force: true });
  return built;
}

const dockerCli = fs.existsSync('/usr/bin/docker') ? '/usr/bin/docker' : 'docker';

function nodeDocker(node: LabNode, args: readonly string[], extraEnv: NodeJS.ProcessEnv = {}): ReturnType<typeof run> {
  // from inside the node's namespace: its port guard drops 2375 from the machine
  return run('nsenter', [`--net=/run/netns/${node.name}`, '--', dockerCli, '-H', `tcp://127.0.0.1:${dockerTcpPort}`, ...args], {
    env: { ...process.env, DOCKER_BUILDKIT: '0', ...extraEnv },
    timeoutMs: 600_000,
  });
}

async function hasImage(node: LabNode, ref: string): Promise<boolean> {
  return (await nodeDocker(node, ['image', 'inspect', '--format', '{{.Id}}', ref])).code === 0;
}

/** Writes the build contexts of the offline nginx and redis images (FROM the apps image, no network step). */
export function writeBuildContexts(paths: LabPaths): { nginx: string; redis: string } {
  const nginx = path.join(paths.buildDir, 'nginx');
  const redis = path.join(paths.buildDir, 'redis');
  fs.mkdirSync(nginx, { recursive: true });
  fs.mkdirSync(redis, { recursive: true });
  fs.writeFileSync(path.join(nginx, 'Dockerfile'),
    `FROM ${appsImageTag}\nLABEL org.docker-net-lab.seed="nginx"\nEXPOSE 80\nCMD ["nginx", "-g", "daemon off;"]\n`);
  fs.writeFileSync(path.join(redis, 'Dockerfile'),
    `FROM ${appsImageTag}\nLABEL org.docker-net-lab.seed="redis"\nEXPOSE 6379\nCMD ["redis-server", "--protected-mode", "no"]\n`);
  return { nginx, redis };
}

/**
 * Finds the project's flask-redis app (labs/docker-networking/app) from this module's location
 * (works from out/lab and from the dist bundle).
 * @throws LabError `NotFound` when it is not there.
 */
export function findAppDir(start: string = __dirname): string {
  let dir = start;
  for (let i = 0; i < 6; i++) {
    const candidate = path.join(dir, 'labs', 'docker-networking', 'app');
    if (fs.existsSync(path.join(candidate, 'Dockerfile'))) { return candidate; }
    dir = path.dirname(dir);
  }
  throw new LabError('NotFound', 'The flask-redis app (labs/docker-networking/app) was not found next to the CLI.');
}

/**
 * Seeds one node with busybox, nginx, redis and flask-redis (docker import + offline docker build on the node).
 * Images already present are skipped.
 * @returns the images added now.
 * @throws LabError `LabProvisionFailed` when an import or build fails.
 */
export async function seedNode(node: LabNode, paths: LabPaths, appDir: string): Promise<string[]> {
  const files = imageCacheFiles(paths);
  const missing: string[] = [];
  for (const img of seededImages) { if (!(await hasImage(node, img))) { missing.push(img); } }
  if (missing.length === 0) { return []; }
  const must = async (args: readonly string[]): Promise<void> => {
    const r = await nodeDocker(node, args);
    if (r.code !== 0) {
      throw new LabError('LabProvisionFailed', `${node.name}: docker ${args.join(' ')} failed: ${(r.stderr || r.stdout).trim().split('\n').slice(-4).join('\n')}`, { node: node.name });
    }
  };
  if (missing.includes('busybox')) { await must(['import', '-c', 'CMD ["sh"]', files.busybox, 'busybox:latest']); }
  if (missing.some((m) => m !== 'busybox') && !(await hasImage(node, appsImageTag))) {
    await must(['import', '-c', 'CMD ["bash"]', files.apps, appsImageTag]);
  }
  const ctx = writeBuildContexts(paths);
  if (missing.includes('nginx')) { await must(['build', '-q', '-t', 'nginx:latest', ctx.nginx]); }
  if (missing.includes('redis')) { await must(['build', '-q', '-t', 'redis:latest', ctx.redis]); }
  if (missing.includes('flask-redis')) {
    await must(['build', '-q', '--build-arg', `BASE=${appsImageTag}`, '-t', 'flask-redis:latest', appDir]);
  }
  return missing;
}
