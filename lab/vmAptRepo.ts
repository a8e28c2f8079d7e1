import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LabError } from '../src/core/errors';
import type { LabPaths } from './labLayout';
import { labHostIp } from './labLayout';
import type { RunResult } from './labProc';
import { httpGet, isLabProcess, pidAlive, readPidRecord, runOk, terminate, waitFor, writePidRecord } from './labProc';
import type { VmFlavour } from './vmFlavours';
import { vmCacheFiles, vmRepoPort, vmStateFiles } from './vmLayout';

/** What {@link buildKernelRepo} put into the repository. */
export interface KernelRepo {
  readonly debs: readonly string[];
  /** Release of the newer kernel, e.g. `6.12.48+deb12-amd64`. */
  readonly kernel: string;
  readonly log: string;
}

/** Writes the index (Packages, Packages.gz) of the flat repository in `dir` with dpkg-scanpackages. */
export async function indexRepo(dir: string): Promise<void> {
  const packages = await runOk('dpkg-scanpackages', ['--multiversion', '.', '/dev/null'], { cwd: dir });
  fs.writeFileSync(path.join(dir, 'Packages'), packages);
  await runOk('sh', ['-c', 'gzip -9c Packages > Packages.gz'], { cwd: dir });
}

/** An empty but valid flat repository (the forky VMs have no newer kernel to get). */
export async function emptyRepoIndex(dir: string): Promise<void> {
  fs.mkdirSync(dir, { recursive: true });
  await indexRepo(dir);
}

/**
 * Fetches `suite`'s linux-image-amd64 and the packages it needs beyond what the rootfs `root` has (apt-get
 * --download-only in its chroot, with `suite` added for this one call) into the flat repository `dir`, and
 * indexes it. The rootfs keeps no trace of the extra source.
 * @throws LabError `LabProvisionFailed` when apt-get fails or no kernel image was fetched.
 */
export async function buildKernelRepo(root: string, dir: string, mirror: string, suite: string,
  inChroot: (script: string) => Promise<RunResult>): Promise<KernelRepo> {
  const extra = path.join(root, 'etc', 'apt', 'sources.list.d', 'docker-net-lab-kernel.list');
  const archives = path.join(root, 'var', 'cache', 'apt', 'archives');
  fs.writeFileSync(extra, `deb ${mirror} ${suite} main\n`);
  const r = await inChroot([
    'export DEBIAN_FRONTEND=noninteractive',
    'apt-get clean',
    'apt-get update -qq',
    `apt-get install --download-only -y -qq --no-install-recommends -t ${suite} linux-image-amd64`,
  ].join('\n'));
  fs.rmSync(extra, { force: true });
  const logText = r.stdout + r.stderr;
  if (r.code !== 0) { throw new LabError('LabProvisionFailed', `Fetching ${suite}'s kernel failed (exit ${r.code}): ${logText.trim().split('\n').slice(-3).join(' ')}`); }
  fs.mkdirSync(dir, { recursive: true });
  const debs = fs.readdirSync(archives).filter((e) => e.endsWith('.deb'));
  for (const d of debs) { fs.renameSync(path.join(archives, d), path.join(dir, d)); }
  const image = debs.map((d) => /^linux-image-(\d[^_]*-amd64)(?:-unsigned)?_/.exec(d)?.[1]).find((k) => k !== undefined);
  if (image === undefined) { throw new LabError('LabProvisionFailed', `No linux-image package came from ${suite} (got: ${debs.join(', ') || 'nothing'}).`); }
  await indexRepo(dir);
  return { debs, kernel: image, log: logText };
}

/** Finds a program of this project next to the running module (dist/ for the bundled CLI, out/lab for tsc output). */
export function labProgram(name: string): string {
  for (const dir of [__dirname, path.join(__dirname, '..', 'dist'), path.join(__dirname, '..', '..', 'dist')]) {
    const file = path.join(dir, `${name}.js`);
    if (fs.existsSync(file)) { return file; }
  }
  throw new LabError('NotFound', `${name}.js was not found next to ${__dirname}; run "npm run build".`);
}

// the lab commands run in the machine's own network namespace (PID 1's is not always readable)
const rootNetns = '/proc/self/ns/net';

/** True when the lab apt repository server recorded in its pidfile runs. */
export function aptRepoRunning(paths: LabPaths): boolean {
  return isLabProcess(readPidRecord(vmStateFiles(paths).repoPid), ['node'], rootNetns);
}

/**
 * Starts the lab apt repository: a small HTTP server of ours (lab/vmRepoServer.ts) on
 * http://10.99.0.1:8090/ only, serving the flavour's repository read-only; pidfile "PID START". A running one is
 * replaced (it may serve the other flavour).
 * @throws LabError `LabProvisionFailed` when it does not answer within 10 s.
 */
export async function startAptRepo(paths: LabPaths, flavour: VmFlavour): Promise<number> {
  await stopAptRepo(paths);
  const state = vmStateFiles(paths);
  const dir = vmCacheFiles(paths, flavour).kernelRepo;
  const out = fs.openSync(state.repoLog, 'a');
  try {
    const child = spawn(process.execPath, [labProgram('vmRepoServer'), labHostIp, String(vmRepoPort), dir], { detached: true, stdio: ['ignore', out, out] });
    child.unref();
    if (child.pid === undefined) { throw new LabError('LabProvisionFailed', 'Cannot start the lab apt repository server.'); }
    writePidRecord(state.repoPid, child.pid);
    const up = await waitFor(async () => (await httpStatus(`http://${labHostIp}:${vmRepoPort}/Packages`)) === 200, 10_000, 100);
    if (!up) { throw new LabError('LabProvisionFailed', `The lab apt repository did not answer on ${labHostIp}:${vmRepoPort}; see ${state.repoLog}.`); }
    return child.pid;
  } finally {
    fs.closeSync(out);
  }
}

async function httpStatus(url: string): Promise<number | undefined> {
  return (await httpGet(url, 1000))?.status;
}

/** Stops the lab apt repository server by its pidfile (only when it is the recorded process). */
export async function stopAptRepo(paths: LabPaths): Promise<number | undefined> {
  const state = vmStateFiles(paths);
  const rec = readPidRecord(state.repoPid);
  let stopped: number | undefined;
  if (rec !== undefined && isLabProcess(rec, ['node'], rootNetns)) {
    await terminate([rec.pid], 3000);
    stopped = rec.pid;
  }
  if (rec === undefined || !pidAlive(rec.pid) || stopped !== undefined) { fs.rmSync(state.repoPid, { force: true }); }
  return stopped;
}

/** True when the repository answers on its address (for `lab status`). */
export async function aptRepoAnswers(): Promise<boolean> {
  return (await httpStatus(`http://${labHostIp}:${vmRepoPort}/Packages`)) === 200;
}
