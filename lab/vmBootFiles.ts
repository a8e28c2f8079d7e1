import * as fs from 'node:fs';
import * as path from 'node:path';
import { LabError } from '../src/core/errors';
import { run, runOk } from './labProc';

/** The target of a symlink from debugfs `stat` output (`Fast link dest: "boot/vmlinuz-…"`), or undefined. */
export function linkTargetFromDebugfs(statOutput: string): string | undefined {
  const m = /Fast link dest:\s*"([^"]+)"/.exec(statOutput);
  return m?.[1];
}

async function debugfs(image: string, request: string): Promise<string> {
  const r = await run('debugfs', ['-R', request, image], { timeoutMs: 60_000 });
  return r.stdout + r.stderr;
}

/** Follows symlinks inside the ext4 image from `link` (absolute path in the guest) to a regular file's path. */
async function resolveInImage(image: string, link: string): Promise<string> {
  let p = link;
  for (let i = 0; i < 8; i++) {
    const out = await debugfs(image, `stat ${p}`);
    if (/Type:\s*regular/.test(out)) { return p; }
    const target = linkTargetFromDebugfs(out);
    if (target === undefined) { throw new LabError('LabProvisionFailed', `${link} is not in the guest's disk (debugfs: ${out.trim().split('\n').slice(-1)[0] ?? ''}).`); }
    p = target.startsWith('/') ? target : path.posix.join(path.posix.dirname(p), target);
  }
  throw new LabError('LabProvisionFailed', `${link}: too many symlinks in the guest's disk.`);
}

/** Kernel and initrd the guest's boot configuration names. */
export interface BootFiles {
  /** Guest paths /vmlinuz and /initrd.img point to, e.g. `/boot/vmlinuz-6.12.48+deb12-amd64`. */
  readonly kernelPath: string;
  readonly initrdPath: string;
}

/**
 * Reads the kernel and initrd that the guest's /vmlinuz and /initrd.img symlinks name (Debian's kernel
 * postinst keeps them on the newest installed kernel) out of the VM's disk while QEMU is stopped: the qcow2
 * chain is flattened to a temporary raw image with `qemu-img convert` and read with `debugfs` (no mount, no
 * loop or nbd device). Writes them to `kernelOut` and `initrdOut`.
 * @throws LabError `LabProvisionFailed` when a link or file is missing.
 */
export async function readBootFiles(disk: string, kernelOut: string, initrdOut: string): Promise<BootFiles> {
  const raw = `${kernelOut}.disk.raw`;
  fs.rmSync(raw, { force: true });
  try {
    await runOk('qemu-img', ['convert', '-O', 'raw', disk, raw], { timeoutMs: 600_000 });
    const kernelPath = await resolveInImage(raw, '/vmlinuz');
    const initrdPath = await resolveInImage(raw, '/initrd.img');
    for (const [from, to] of [[kernelPath, kernelOut], [initrdPath, initrdOut]] as const) {
      fs.rmSync(`${to}.new`, { force: true });
      await debugfs(raw, `dump ${from} ${to}.new`);
      if (!fs.existsSync(`${to}.new`) || fs.statSync(`${to}.new`).size === 0) { throw new LabError('LabProvisionFailed', `debugfs could not copy ${from} out of the guest's disk.`); }
      fs.renameSync(`${to}.new`, to);
    }
    return { kernelPath, initrdPath };
  } finally {
    fs.rmSync(raw, { force: true });
  }
}
