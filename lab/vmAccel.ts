import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { run, sleep } from './labProc';

/** The accelerator QEMU runs the lab VMs with, and why. */
export interface AccelChoice {
  readonly accel: 'kvm' | 'tcg';
  /** QEMU arguments for it (`-accel …`, `-cpu …`). */
  readonly args: readonly string[];
  readonly reason: string;
  /** What the verdict holds for (host kernel release and QEMU version): probed again when it changes. */
  readonly hostKey: string;
}

/** TCG: every CPU emulated, on one host thread per guest CPU. */
export const tcgArgs: readonly string[] = ['-accel', 'tcg,thread=multi', '-cpu', 'max'];
/** KVM CPU models tried in order: the host's CPU, then QEMU's `max` (PVM's KVM makes QEMU abort on `-cpu host`). */
const kvmCandidates: readonly (readonly string[])[] = [['-accel', 'kvm', '-cpu', 'host'], ['-accel', 'kvm', '-cpu', 'max']];
/** How long a stock kernel may take under KVM to print its banner on the serial console. */
export const kvmProbeMs = 8000;

/** True when a serial console log shows the kernel started (its banner). */
export function kernelBannerSeen(consoleText: string): boolean {
  return /Linux version \d/.test(consoleText);
}

async function hostKey(qemu: string): Promise<string> {
  const v = (await run(qemu, ['--version'])).stdout.split('\n')[0] ?? '';
  return `${os.release()} ${v.trim()}`;
}

/**
 * Chooses KVM or TCG for the lab VMs. KVM only when /dev/kvm opens and a stock kernel (`kernel`/`initrd`, the
 * VM's own) prints its banner on the serial console within {@link kvmProbeMs}: a host whose KVM is PVM hangs such
 * a kernel right after "Probing EDD" (and `-cpu host` makes QEMU abort), so no banner means TCG. The verdict is
 * kept in `cacheFile` for this host kernel and QEMU version.
 */
export async function chooseAccel(qemu: string, kernel: string, initrd: string, cacheFile: string, log: (line: string) => void): Promise<AccelChoice> {
  const key = await hostKey(qemu);
  try {
    const cached = JSON.parse(fs.readFileSync(cacheFile, 'utf8')) as AccelChoice;
    if (cached.hostKey === key && (cached.accel === 'tcg' || cached.accel === 'kvm')) {
      log(`accelerator: ${cached.accel} (${cached.reason}; probed before on this host)`);
      return cached;
    }
  } catch { /* probe */ }
  const choice = await probe(qemu, kernel, initrd, key, path.dirname(cacheFile));
  fs.mkdirSync(path.dirname(cacheFile), { recursive: true });
  fs.writeFileSync(cacheFile, `${JSON.stringify(choice, null, 2)}\n`);
  log(`accelerator: ${choice.accel} (${choice.reason})`);
  return choice;
}

async function probe(qemu: string, kernel: string, initrd: string, key: string, dir: string): Promise<AccelChoice> {
  const tcg = (reason: string): AccelChoice => ({ accel: 'tcg', args: tcgArgs, reason, hostKey: key });
  try {
    fs.closeSync(fs.openSync('/dev/kvm', 'r+'));
  } catch (e) {
    return tcg(`no usable /dev/kvm: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  const outcomes: string[] = [];
  for (const args of kvmCandidates) {
    const r = await bootOnce(qemu, args, kernel, initrd, path.join(dir, 'kvm-probe.console'));
    const cpu = args[args.length - 1] ?? '';
    if (r.seen) { return { accel: 'kvm', args, reason: `a stock kernel booted under KVM with -cpu ${cpu} (banner after ${r.ms} ms)`, hostKey: key }; }
    outcomes.push(r.exited ? `-cpu ${cpu}: QEMU exited before the kernel started` : `-cpu ${cpu}: no kernel banner on the serial console within ${kvmProbeMs / 1000} s`);
  }
  return tcg(`KVM does not run a stock kernel here (e.g. PVM's KVM): ${outcomes.join('; ')}`);
}

/** Boots the kernel once with `args` and watches the serial console for its banner for up to {@link kvmProbeMs}. */
async function bootOnce(qemu: string, args: readonly string[], kernel: string, initrd: string, log: string): Promise<{ seen: boolean; exited: boolean; ms: number }> {
  fs.rmSync(log, { force: true });
  const child = spawn(qemu, [...args, '-m', '256', '-smp', '1', '-display', 'none', '-monitor', 'none', '-no-reboot', '-nodefaults',
    '-kernel', kernel, '-initrd', initrd, '-append', 'console=ttyS0 loglevel=6 panic=-1', '-serial', `file:${log}`], { stdio: 'ignore' });
  const t0 = Date.now();
  let exited = false;
  child.on('exit', () => { exited = true; });
  let seen = false;
  while (Date.now() - t0 < kvmProbeMs && !exited) {
    await sleep(200);
    try { seen = kernelBannerSeen(fs.readFileSync(log, 'utf8')); } catch { /* not yet */ }
    if (seen) { break; }
  }
  const ms = Date.now() - t0;
  const exitedByItself = exited;
  if (!exited) { child.kill('SIGKILL'); }
  await new Promise<void>((r) => { if (exited) { r(); } else { child.once('exit', () => r()); } });
  fs.rmSync(log, { force: true });
  return { seen, exited: exitedByItself && !seen, ms };
}
