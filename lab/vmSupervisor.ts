/**
 * The supervisor of one lab VM (a program of its own: `node vmSupervisor.js CONFIG.json`, started by lab/vmNode.ts
 * in the lab switch's network namespace). It writes its pidfile ("PID START"), runs QEMU with `-no-reboot` and
 * watches QEMU's SHUTDOWN events on a QMP socket of its own. When the guest reboots (reason `guest-reset`) QEMU
 * exits; the supervisor then reads the kernel and initrd the guest's /vmlinuz and /initrd.img name out of the
 * disk (lab/vmBootFiles.ts) and starts QEMU again with them: a reboot boots the kernel the guest installed. A
 * guest power-off, a QMP `quit` or SIGTERM to the supervisor ends it (and QEMU).
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { shellQuote } from '../src/core/util/shellQuote';
import { sleep, writePidRecord } from './labProc';
import { readBootFiles } from './vmBootFiles';
import type { QmpClient } from './vmQmp';
import { connectQmp } from './vmQmp';

/** What the supervisor runs (written by lab/vmNode.ts). */
export interface SupervisorConfig {
  readonly name: string;
  readonly qemu: string;
  /** QEMU arguments except kernel, initrd, append, monitors, serial and incoming. */
  readonly args: readonly string[];
  readonly append: string;
  readonly kernel: string;
  readonly initrd: string;
  /** The disk the guest writes (read after a guest reboot for the next kernel). */
  readonly disk: string;
  /** A saved VM state to resume from on the first start (warm start). */
  readonly incoming?: string;
  readonly pidFile: string;
  readonly qemuPid: string;
  readonly qmpSupervisor: string;
  readonly qmpControl: string;
  readonly console: string;
}

/** The full QEMU command line of one start. */
export function qemuArgs(cfg: SupervisorConfig, incoming: string | undefined): string[] {
  return [
    ...cfg.args,
    '-kernel', cfg.kernel, '-initrd', cfg.initrd, '-append', cfg.append,
    '-no-reboot',
    '-qmp', `unix:${cfg.qmpSupervisor},server=on,wait=off`,
    '-qmp', `unix:${cfg.qmpControl},server=on,wait=off`,
    '-chardev', `file,id=console0,path=${cfg.console},append=on`, '-serial', 'chardev:console0',
    ...(incoming === undefined ? [] : ['-incoming', `exec:cat ${shellQuote(incoming)}`]),
  ];
}

function say(line: string): void {
  process.stdout.write(`${new Date().toISOString()} ${line}\n`);
}

async function connectWhenReady(file: string, child: ChildProcess, onReason: (r: string) => void): Promise<QmpClient | undefined> {
  for (let i = 0; i < 100 && child.exitCode === null; i++) {
    try {
      return await connectQmp(file, (e) => {
        if (e.event === 'SHUTDOWN') { onReason(typeof e.data?.['reason'] === 'string' ? e.data['reason'] : 'unknown'); }
      }, 5000);
    } catch { await sleep(100); }
  }
  return undefined;
}

async function main(configFile: string): Promise<number> {
  const cfg = JSON.parse(fs.readFileSync(configFile, 'utf8')) as SupervisorConfig;
  writePidRecord(cfg.pidFile, process.pid);
  let stopping = false;
  let child: ChildProcess | undefined;
  let qmp: QmpClient | undefined;
  const stop = (): void => {
    stopping = true;
    say('SIGTERM: stopping the VM');
    if (qmp !== undefined) { qmp.execute('quit').catch(() => undefined); }
    const c = child;
    setTimeout(() => { if (c !== undefined && c.exitCode === null) { c.kill('SIGKILL'); } }, 10_000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  let incoming = cfg.incoming;
  let kernel = cfg.kernel;
  let initrd = cfg.initrd;
  for (let start = 1; ; start++) {
    const args = qemuArgs({ ...cfg, kernel, initrd }, incoming);
    say(`start ${start}: ${cfg.qemu} ${args.join(' ')}`);
    for (const s of [cfg.qmpSupervisor, cfg.qmpControl]) { fs.rmSync(s, { force: true }); }
    const c = spawn(cfg.qemu, args, { stdio: ['ignore', 'inherit', 'inherit'] });
    child = c;
    if (c.pid === undefined) { say('cannot start QEMU'); return 1; }
    writePidRecord(cfg.qemuPid, c.pid);
    const exited = new Promise<number>((r) => c.on('exit', (code, sig) => r(code ?? (sig === null ? 1 : 128))));
    let reason = 'none';
    qmp = await connectWhenReady(cfg.qmpSupervisor, c, (r) => { reason = r; say(`SHUTDOWN event: ${r}`); });
    if (stopping && qmp !== undefined) { qmp.execute('quit').catch(() => undefined); }
    const code = await exited;
    qmp?.close();
    qmp = undefined;
    fs.rmSync(cfg.qemuPid, { force: true });
    say(`QEMU exited (${code}), shutdown reason ${reason}`);
    if (stopping || reason !== 'guest-reset') { break; }
    // a reboot of the guest: boot what its own boot configuration names now
    incoming = undefined;
    try {
      const boot = await readBootFiles(cfg.disk, `${cfg.kernel}.next`, `${cfg.initrd}.next`);
      kernel = `${cfg.kernel}.next`;
      initrd = `${cfg.initrd}.next`;
      say(`guest reboot: booting ${boot.kernelPath} with ${boot.initrdPath} (from the guest's /vmlinuz and /initrd.img)`);
    } catch (e) {
      say(`guest reboot: cannot read the guest's kernel (${(e as Error).message}); booting the previous one`);
    }
    if (stopping) { break; }
  }
  for (const s of [cfg.qmpSupervisor, cfg.qmpControl]) { fs.rmSync(s, { force: true }); }
  fs.rmSync(cfg.pidFile, { force: true });
  return 0;
}

const file = process.argv[2];
if (require.main === module && file !== undefined) {
  main(file).then((code) => process.exit(code), (e: unknown) => { say(`supervisor failed: ${String(e)}`); process.exit(1); });
}
