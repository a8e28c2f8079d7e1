import type { LabMode } from './labLayout';

/** The Debian releases a lab VM can run. */
export type VmFlavour = 'forky' | 'bookworm';

/** What one VM flavour is built from and what it runs. */
export interface VmFlavourSpec {
  readonly flavour: VmFlavour;
  /** Debian suite given to debootstrap. */
  readonly suite: string;
  /** debootstrap script (bookworm's debootstrap has no forky script: the sid one builds it). */
  readonly debootstrapScript: string;
  /** Packages installed in the chroot on top of minbase. */
  readonly packages: readonly string[];
  /** One line for `lab up`: what the VM runs. */
  readonly summary: string;
  /** The lab mode (tutorial path) of a profile with this flavour when none is given. */
  readonly defaultMode: LabMode;
  /** The Debian suite whose newer kernel the lab's apt repository serves (undefined: none). */
  readonly newerKernelSuite?: string;
}

const common: readonly string[] = [
  'linux-image-amd64', 'systemd-sysv', 'udev', 'dbus', 'kmod', 'openssh-server', 'sudo', 'ufw', 'iptables',
  'iproute2', 'iputils-ping', 'curl', 'ca-certificates', 'procps', 'tcpdump', 'less',
  'docker.io', 'containerd', 'etcd-server', 'etcd-client',
  // Debian's kernels enable AppArmor and a Debian install has its tools: Docker then loads docker-default (20.10
  // refuses to start containers without apparmor_parser on an AppArmor kernel)
  'apparmor',
];

/** The flavours: forky (Docker 28, swarm path) and bookworm (Docker 20.10, the etcd cluster-store path). */
export const vmFlavours: Readonly<Record<VmFlavour, VmFlavourSpec>> = {
  forky: {
    flavour: 'forky',
    suite: 'forky',
    debootstrapScript: '/usr/share/debootstrap/scripts/sid',
    // docker.io no longer ships the CLI in forky; initramfs-tools instead of forky's default dracut: its initrd
    // boots in about half the time under TCG
    packages: [...common, 'docker-cli', 'nftables', 'initramfs-tools'],
    summary: 'Debian forky VM: kernel 7.2, systemd 262, Docker 28.5, containerd 2.1, etcd 3.5, OpenSSH 10.6',
    defaultMode: 'swarm',
  },
  bookworm: {
    flavour: 'bookworm',
    suite: 'bookworm',
    debootstrapScript: '/usr/share/debootstrap/scripts/bookworm',
    packages: common,
    summary: 'Debian bookworm VM: kernel 6.1, systemd 252, Docker 20.10, etcd 3.4, OpenSSH 9.2 (a newer kernel waits in the lab apt repository)',
    defaultMode: 'cluster',
    newerKernelSuite: 'bookworm-backports',
  },
};
