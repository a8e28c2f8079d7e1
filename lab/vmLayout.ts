import * as path from 'node:path';
import type { LabNode, LabPaths } from './labLayout';
import { labNodes } from './labLayout';
import type { VmFlavour } from './vmFlavours';

/** The unprivileged user every lab VM has (in the groups docker and sudo; sudo asks for a password). */
export const vmUser = 'learner';
/** Guest memory per VM in MiB. */
export const vmMemoryMiB = 1024;
/** Size of each VM's (sparse) root disk. */
export const vmDiskSize = '8G';
/** Port of the lab apt repository on the lab machine's LAN address (lab/vmAptRepo.ts). */
export const vmRepoPort = 8090;

/** Files of the image cache for one VM flavour (shared by every lab: no secrets in here). */
export interface VmCacheFiles {
  readonly dir: string;
  /** The finished root filesystem (renamed into place when complete). */
  readonly rootfs: string;
  readonly building: string;
  /** JSON {@link VmRootfsRecord} with the content key. */
  readonly record: string;
  readonly log: string;
  /** The flat apt repository with the newer kernel (bookworm only). */
  readonly kernelRepo: string;
}

/** Cache files of `flavour` (`<cache>/vm/<flavour>/`). */
export function vmCacheFiles(paths: LabPaths, flavour: VmFlavour): VmCacheFiles {
  const dir = path.join(paths.cache, 'vm', flavour);
  return {
    dir,
    rootfs: path.join(dir, 'rootfs'),
    building: path.join(dir, 'rootfs.building'),
    record: path.join(dir, 'build.json'),
    log: path.join(dir, 'build.log'),
    kernelRepo: path.join(dir, 'kernel-repo'),
  };
}

/** Lab state of the VMs (root only: password, host keys, disks). */
export interface VmStateFiles {
  readonly dir: string;
  /** The learner's sudo password (mode 600). */
  readonly sudoPassword: string;
  /** The accelerator verdict ({@link import('./vmAccel').AccelChoice}). */
  readonly accel: string;
  /** Pidfile of the lab apt repository server. */
  readonly repoPid: string;
  readonly repoLog: string;
}

/** Files of the VM state (`<home>/vm/`). */
export function vmStateFiles(paths: LabPaths): VmStateFiles {
  const dir = path.join(paths.home, 'vm');
  return {
    dir,
    sudoPassword: path.join(dir, 'sudo-password'),
    accel: path.join(dir, 'accel.json'),
    repoPid: path.join(dir, 'apt-repo.pid'),
    repoLog: path.join(dir, 'apt-repo.log'),
  };
}

/** Files of one VM. */
export interface VmNodeFiles {
  /** Per node, kept across flavours: the SSH host key. */
  readonly hostKey: string;
  /** Per flavour and node: */
  readonly dir: string;
  /** The node's raw ext4 disk (rootfs + its identity), rebuilt when its key changes. */
  readonly disk: string;
  readonly diskRecord: string;
  /** The ready state: a qcow2 over {@link disk} and the RAM/device state saved with it. */
  readonly warmDisk: string;
  readonly warmState: string;
  readonly warmRecord: string;
  /** The running lab's disk: a qcow2 over {@link warmDisk}, removed by `lab down`. */
  readonly sessionDisk: string;
  /** Kernel and initrd QEMU boots (copied out of the disk). */
  readonly kernel: string;
  readonly initrd: string;
  readonly console: string;
  readonly supervisorLog: string;
  readonly supervisorPid: string;
  readonly supervisorConfig: string;
  readonly qemuPid: string;
  /** QMP socket of the supervisor (events) and of the lab commands (stop, migrate, quit). */
  readonly qmpSupervisor: string;
  readonly qmpControl: string;
  /** Tap device in the lab switch. */
  readonly tap: string;
  readonly mac: string;
}

/** Files of `node` for `flavour`. */
export function vmNodeFiles(paths: LabPaths, flavour: VmFlavour, node: LabNode): VmNodeFiles {
  const state = vmStateFiles(paths);
  const dir = path.join(state.dir, flavour, node.name);
  const index = Math.max(0, labNodes.findIndex((n) => n.name === node.name)) + 1;
  return {
    hostKey: path.join(state.dir, 'host-keys', node.name, 'ssh_host_ed25519_key'),
    dir,
    disk: path.join(dir, 'disk.img'),
    diskRecord: path.join(dir, 'disk.json'),
    warmDisk: path.join(dir, 'warm.qcow2'),
    warmState: path.join(dir, 'warm.state'),
    warmRecord: path.join(dir, 'warm.json'),
    sessionDisk: path.join(dir, 'session.qcow2'),
    kernel: path.join(dir, 'vmlinuz'),
    initrd: path.join(dir, 'initrd.img'),
    console: path.join(dir, 'console.log'),
    supervisorLog: path.join(dir, 'supervisor.log'),
    supervisorPid: path.join(dir, 'supervisor.pid'),
    supervisorConfig: path.join(dir, 'supervisor.json'),
    qemuPid: path.join(dir, 'qemu.pid'),
    qmpSupervisor: path.join(dir, 'qmp-supervisor.sock'),
    qmpControl: path.join(dir, 'qmp-control.sock'),
    tap: `vmtap${index}`,
    mac: `52:54:00:99:00:${(10 + index).toString(16).padStart(2, '0')}`,
  };
}
