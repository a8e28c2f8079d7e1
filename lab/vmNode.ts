import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LabError } from '../src/core/errors';
import { shellJoin, shellQuote } from '../src/core/util/shellQuote';
import type { LabNode, LabPaths } from './labLayout';
import { labBridge, labSwitchNs } from './labLayout';
import type { RunResult } from './labProc';
import { isLabProcess, readPidRecord, run, runOk, sleep, tcpBanner, terminate, waitFor } from './labProc';
import { labProgram } from './vmAptRepo';
import type { AccelChoice } from './vmAccel';
import type { VmFlavour } from './vmFlavours';
import type { VmNodeFiles } from './vmLayout';
import { vmMemoryMiB, vmNodeFiles, vmUser } from './vmLayout';
import type { SupervisorConfig } from './vmSupervisor';
import { connectQmp } from './vmQmp';

/** The lab switch's namespace file: the supervisors and QEMU live there, next to the bridge their taps join. */
export const switchNetns = `/run/netns/${labSwitchNs}`;
/** /proc/PID/comm of QEMU (cut to 15 characters by the kernel). */
export const qemuComm = 'qemu-system-x86';
const qemuBinary = 'qemu-system-x86_64';

/** Options of {@link vmSsh}. */
export interface VmSshOptions {
  readonly input?: string;
  /** A file fed to the remote command's stdin (e.g. an image tarball for `docker import -`). */
  readonly stdinFile?: string;
  readonly timeoutMs?: number;
}

/** The ssh arguments that reach `node` as the learner with the lab key and the pinned host key. */
export function vmSshArgs(paths: LabPaths, node: LabNode): string[] {
  return ['-i', paths.keyFile, '-o', `UserKnownHostsFile=${paths.knownHosts}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes',
    '-o', 'ConnectTimeout=5', '-o', 'LogLevel=ERROR', '-o', 'ServerAliveInterval=10', `${vmUser}@${node.ip}`];
}

/** Runs `command` (a shell command line) on the VM as the learner over SSH; never throws for a non-zero exit. */
export function vmSsh(paths: LabPaths, node: LabNode, command: string, opts: VmSshOptions = {}): Promise<RunResult> {
  const args = [...vmSshArgs(paths, node), command];
  if (opts.stdinFile === undefined) { return run('ssh', args, { ...(opts.input === undefined ? {} : { input: opts.input }), timeoutMs: opts.timeoutMs ?? 60_000 }); }
  const fd = fs.openSync(opts.stdinFile, 'r');
  return new Promise((resolve) => {
    const child = spawn('ssh', args, { stdio: [fd, 'pipe', 'pipe'] });
    fs.closeSync(fd);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (b: Buffer) => out.push(b));
    child.stderr?.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 600_000);
    child.on('close', (code) => { clearTimeout(timer); resolve({ code: code ?? 1, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }); });
    child.on('error', (e) => { clearTimeout(timer); resolve({ code: 127, stdout: '', stderr: e.message }); });
  });
}

/** Like {@link vmSsh} but throws. @throws LabError `LabProvisionFailed` with the node and the command's stderr. */
export async function vmSshOk(paths: LabPaths, node: LabNode, command: string, opts: VmSshOptions = {}): Promise<string> {
  const r = await vmSsh(paths, node, command, opts);
  if (r.code !== 0) {
    throw new LabError('LabProvisionFailed', `${node.name}: "${command}" failed (exit ${r.code}): ${(r.stderr.trim() || r.stdout.trim()).split('\n').slice(-4).join('\n')}`, { node: node.name });
  }
  return r.stdout;
}

/** Runs `command` as root on the VM through sudo, the password on stdin (never on a command line). */
export function vmSudo(paths: LabPaths, node: LabNode, password: string, command: string, timeoutMs = 120_000): Promise<RunResult> {
  return vmSsh(paths, node, `sudo -S -p '' sh -c ${shellQuote(command)}`, { input: `${password}\n`, timeoutMs });
}

/** The VM's supervisor pid when the recorded process runs (in the lab switch's namespace). */
export function supervisorPid(files: VmNodeFiles): number | undefined {
  const rec = readPidRecord(files.supervisorPid);
  return rec !== undefined && isLabProcess(rec, ['node'], switchNetns) ? rec.pid : undefined;
}

/** The VM's QEMU pid when the recorded process runs. */
export function qemuPid(files: VmNodeFiles): number | undefined {
  const rec = readPidRecord(files.qemuPid);
  return rec !== undefined && isLabProcess(rec, [qemuComm], switchNetns) ? rec.pid : undefined;
}

async function ensureTap(files: VmNodeFiles): Promise<void> {
  if ((await run('ip', ['-n', labSwitchNs, 'link', 'show', 'dev', files.tap])).code !== 0) {
    await runOk('ip', ['-n', labSwitchNs, 'tuntap', 'add', 'dev', files.tap, 'mode', 'tap']);
  }
  await runOk('ip', ['-n', labSwitchNs, 'link', 'set', files.tap, 'master', labBridge, 'up']);
}

/** The kernel command line of every lab VM (serial console; notices shown so the kernel banner is seen). */
export const vmKernelAppend = 'root=/dev/vda rw console=ttyS0 loglevel=6 systemd.show_status=false';

/** QEMU arguments of one VM (the same for a cold boot and a resume: a saved state needs the same machine). */
export function vmMachineArgs(accel: AccelChoice, files: VmNodeFiles, disk: string, node: LabNode): string[] {
  return [
    ...accel.args, '-smp', '1', '-m', String(vmMemoryMiB), '-name', node.name, '-nodefaults', '-display', 'none', '-monitor', 'none',
    '-drive', `file=${disk},format=qcow2,if=virtio,cache=unsafe,discard=unmap`,
    '-netdev', `tap,id=n0,ifname=${files.tap},script=no,downscript=no`, '-device', `virtio-net-pci,netdev=n0,mac=${files.mac}`,
    '-device', 'virtio-rng-pci',
  ];
}

/**
 * Starts the VM's supervisor (lab/vmSupervisor.ts) in the lab switch's namespace: it runs QEMU on `disk` (a qcow2),
 * resuming `incoming` when given, else booting the kernel and initrd of the node's files. Resolves once the
 * supervisor's and QEMU's pidfiles name live processes.
 * @throws LabError `LabProvisionFailed` when they do not appear within 20 s (the supervisor log is named).
 */
export async function startVm(flavour: VmFlavour, node: LabNode, paths: LabPaths, accel: AccelChoice, disk: string, incoming?: string): Promise<void> {
  const files = vmNodeFiles(paths, flavour, node);
  await ensureTap(files);
  for (const f of [files.supervisorPid, files.qemuPid]) { fs.rmSync(f, { force: true }); }
  const cfg: SupervisorConfig = {
    name: node.name, qemu: qemuBinary, args: vmMachineArgs(accel, files, disk, node), append: vmKernelAppend,
    kernel: files.kernel, initrd: files.initrd, disk, ...(incoming === undefined ? {} : { incoming }),
    pidFile: files.supervisorPid, qemuPid: files.qemuPid, qmpSupervisor: files.qmpSupervisor, qmpControl: files.qmpControl, console: files.console,
  };
  fs.writeFileSync(files.supervisorConfig, `${JSON.stringify(cfg, null, 2)}\n`);
  const out = fs.openSync(files.supervisorLog, 'a');
  try {
    const child = spawn('nsenter', [`--net=${switchNetns}`, '--', process.execPath, labProgram('vmSupervisor'), files.supervisorConfig],
      { detached: true, stdio: ['ignore', out, out] });
    child.unref();
  } finally {
    fs.closeSync(out);
  }
  const ok = await waitFor(() => supervisorPid(files) !== undefined && qemuPid(files) !== undefined, 20_000, 100);
  if (!ok) { throw new LabError('LabProvisionFailed', `${node.name}: the VM did not start; see ${files.supervisorLog}.`, { node: node.name }); }
}

/** True when the VM answers SSH with a banner. */
export async function sshAnswers(node: LabNode): Promise<boolean> {
  return (await tcpBanner(node.ip, 22, 2000))?.startsWith('SSH-') === true;
}

/** Docker's server version on the VM over SSH (as the learner, in group docker), or undefined when it does not answer. */
export async function vmDockerVersion(paths: LabPaths, node: LabNode): Promise<string | undefined> {
  const r = await vmSsh(paths, node, "docker version --format '{{.Server.Version}}'", { timeoutMs: 20_000 });
  const v = r.stdout.trim();
  return r.code === 0 && /^\d+\.\d+/.test(v) ? v : undefined;
}

/** Timings of {@link waitVmReady}, ms after the start. */
export interface VmReadyTimes {
  readonly sshMs: number;
  readonly dockerMs: number;
}

/**
 * Waits until the VM answers SSH and Docker answers over it.
 * @throws LabError `Timeout` naming the console log when it takes longer than `timeoutMs`.
 */
export async function waitVmReady(paths: LabPaths, flavour: VmFlavour, node: LabNode, timeoutMs: number): Promise<VmReadyTimes> {
  const t0 = Date.now();
  const files = vmNodeFiles(paths, flavour, node);
  const alive = (): boolean => supervisorPid(files) !== undefined;
  if (!(await waitFor(async () => !alive() || (await sshAnswers(node)), timeoutMs, 500)) || !alive()) {
    throw new LabError('Timeout', `${node.name}: no SSH within ${Math.round(timeoutMs / 1000)} s; see ${files.console} and ${files.supervisorLog}.`, { node: node.name });
  }
  const sshMs = Date.now() - t0;
  if (!(await waitFor(async () => !alive() || (await vmDockerVersion(paths, node)) !== undefined, Math.max(10_000, timeoutMs - sshMs), 1000)) || !alive()) {
    throw new LabError('Timeout', `${node.name}: Docker did not answer over SSH; see ${files.console}.`, { node: node.name });
  }
  return { sshMs, dockerMs: Date.now() - t0 };
}

/** Runs one QMP command on the VM's control socket. */
export async function vmQmp(files: VmNodeFiles, command: string, args?: Record<string, unknown>): Promise<unknown> {
  const qmp = await connectQmp(files.qmpControl);
  try {
    return await qmp.execute(command, args);
  } finally {
    qmp.close();
  }
}

/**
 * Saves the running VM's state to `stateFile` (QMP: stop, migrate to a file through `exec:cat`) and quits QEMU,
 * so the disk stays exactly as the state left it; the supervisor exits with it.
 * @throws LabError `LabProvisionFailed` when the migration fails.
 */
export async function saveVmState(files: VmNodeFiles, stateFile: string): Promise<number> {
  const t0 = Date.now();
  const qmp = await connectQmp(files.qmpControl);
  try {
    await qmp.execute('stop');
    await qmp.execute('migrate-set-parameters', { 'max-bandwidth': 8 * 1024 * 1024 * 1024 });
    fs.rmSync(stateFile, { force: true });
    await qmp.execute('migrate', { uri: `exec:cat > ${shellQuote(stateFile)}` });
    for (;;) {
      const s = (await qmp.execute('query-migrate')) as { status?: string; 'error-desc'?: string };
      if (s.status === 'completed') { break; }
      if (s.status === 'failed' || s.status === 'cancelled') { throw new LabError('LabProvisionFailed', `Saving the VM state failed: ${s['error-desc'] ?? s.status}`); }
      await sleep(200);
    }
    await qmp.execute('quit').catch(() => undefined);
  } finally {
    qmp.close();
  }
  await waitFor(() => supervisorPid(files) === undefined && qemuPid(files) === undefined, 20_000, 100);
  return Date.now() - t0;
}

/**
 * Waits until a resumed VM runs. The state was saved from a stopped VM, so QEMU keeps it paused after the
 * incoming migration completes: `cont` then starts it. Polls QMP query-status up to `timeoutMs`.
 */
export async function waitResumed(files: VmNodeFiles, timeoutMs: number): Promise<boolean> {
  return waitFor(async () => {
    try {
      const s = (await vmQmp(files, 'query-status')) as { status?: string };
      if (s.status === 'running') { return true; }
      if (s.status === 'paused' || s.status === 'postmigrate') {
        const m = (await vmQmp(files, 'query-migrate')) as { status?: string };
        if (m.status === undefined || m.status === 'completed') { await vmQmp(files, 'cont'); }
      }
      return false;
    } catch {
      return false;
    }
  }, timeoutMs, 200);
}

/**
 * Stops the VM: SIGTERM to its supervisor (it quits QEMU), then QEMU by its pidfile if it is still there; both
 * only when they are the recorded processes. Removes the tap.
 * @returns what was stopped.
 */
export async function stopVm(files: VmNodeFiles): Promise<string[]> {
  const stopped: string[] = [];
  const sup = supervisorPid(files);
  if (sup !== undefined) {
    await terminate([sup], 15_000);
    stopped.push(`supervisor ${sup}`);
  }
  const q = qemuPid(files);
  if (q !== undefined) {
    await terminate([q], 5000);
    stopped.push(`qemu ${q}`);
  }
  for (const f of [files.supervisorPid, files.qemuPid, files.qmpSupervisor, files.qmpControl]) { fs.rmSync(f, { force: true }); }
  if (fs.existsSync(switchNetns)) { await run('ip', ['-n', labSwitchNs, 'link', 'del', files.tap]); }
  return stopped;
}

/** The tar of a build context directory (for `docker build -` over SSH). */
async function contextTar(dir: string, out: string): Promise<string> {
  await runOk('tar', ['-C', dir, '-cf', out, '.']);
  return out;
}

/**
 * Loads the lab's images into the VM's Docker over SSH: busybox and the apps rootfs with `docker import -` from
 * the image cache's tarballs, nginx, redis and flask-redis with `docker build -` (legacy builder, no network)
 * from their build contexts. Images already there are skipped.
 * @returns the images added.
 */
export async function seedVm(paths: LabPaths, node: LabNode, sources: { busybox: string; apps: string; appsTag: string; contexts: Record<string, string>; appDir: string }, workDir: string): Promise<string[]> {
  const have = new Set((await vmSshOk(paths, node, "docker image ls --format '{{.Repository}}'")).split('\n').map((s) => s.trim()));
  const added: string[] = [];
  if (!have.has('busybox')) {
    await vmSshOk(paths, node, `docker import -c 'CMD ["sh"]' - busybox:latest`, { stdinFile: sources.busybox });
    added.push('busybox');
  }
  const builds: [string, string, string[]][] = [
    ['nginx', sources.contexts['nginx'] ?? '', []],
    ['redis', sources.contexts['redis'] ?? '', []],
    ['flask-redis', sources.appDir, ['--build-arg', `BASE=${sources.appsTag}`]],
  ];
  const missing = builds.filter(([name]) => !have.has(name));
  if (missing.length > 0 && !have.has(sources.appsTag.split(':')[0] ?? '')) {
    await vmSshOk(paths, node, `docker import -c 'CMD ["bash"]' - ${shellQuote(sources.appsTag)}`, { stdinFile: sources.apps, timeoutMs: 900_000 });
  }
  for (const [name, dir, extra] of missing) {
    const tar = await contextTar(dir, path.join(workDir, `${node.name}-${name}.tar`));
    await vmSshOk(paths, node, `DOCKER_BUILDKIT=0 docker build -q ${shellJoin(extra)} -t ${shellQuote(`${name}:latest`)} - 2>&1`, { stdinFile: tar, timeoutMs: 600_000 });
    fs.rmSync(tar, { force: true });
    added.push(name);
  }
  return added;
}
