/**
 * Distro-aware kernel upgrade plans for the overlay chapter. The tutorial hit
 * `Failed to deserialize netlink ndmsg: invalid argument` on CentOS 7's 3.10 kernel: the overlay driver
 * needs VXLAN inside network namespaces, which works from Linux 3.16 on. Plans are pure data
 * (commands to run as root, then a reboot); the runner shows, confirms, runs them (through sudo on a
 * non-root node), reboots the node and verifies the kernel it comes back with.
 */
import { LabError } from '../errors';
import { displayText } from '../util/displayText';

/** Parses a minimum kernel given as text (`6.2`), or `undefined` when it is not `major.minor`. */
export function parseMinimumKernel(text: string): readonly [number, number] | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})$/.exec(text.trim());
  return m === null ? undefined : [Number(m[1]), Number(m[2])];
}

/**
 * The environment variable that raises the kernel the kernel step wants (`major.minor`), read by the CLI and
 * the extension alike: a teacher (or a test) can make the upgrade needed on nodes whose kernel is new enough.
 */
export const minimumKernelVariable = 'DOCKER_NET_LAB_MIN_KERNEL';

/**
 * The minimum kernel {@link minimumKernelVariable} asks for in `env`, or undefined when it is unset or empty. Pure.
 * @throws LabError `InvalidInput` when it is not `major.minor`.
 */
export function minimumKernelFromEnv(env: Readonly<Record<string, string | undefined>>): readonly [number, number] | undefined {
  const text = env[minimumKernelVariable];
  if (text === undefined || text === '') { return undefined; }
  const v = parseMinimumKernel(text);
  if (v === undefined) {
    throw new LabError('InvalidInput', `${minimumKernelVariable} must be major.minor (e.g. 6.2), not "${displayText(text.slice(0, 40))}".`);
  }
  return v;
}

/** The kernel version from which no upgrade is needed. */
export const minimumKernel: readonly [number, number] = [3, 16];

/** Which family of plan applies. */
export type KernelDistro = 'centos7' | 'el8' | 'el9' | 'ubuntu' | 'debian' | 'unknown';

/** A plan for one node. */
export interface KernelPlan {
  /** An upgrade is needed (kernel older than {@link minimumKernel}). */
  readonly needed: boolean;
  readonly distro: KernelDistro;
  /** The running kernel (`uname -r`). */
  readonly currentKernel: string;
  /** One or two sentences: why (not) needed, what the plan does. */
  readonly reason: string;
  /** Commands to run as root, in order (empty when not needed or no automatic plan exists). */
  readonly commands: readonly string[];
  /** The node must reboot after the commands. */
  readonly reboot: boolean;
  /** Caveats worth showing before confirming (end-of-life mirrors, archived repos). */
  readonly notes: readonly string[];
}

/** Parses the numeric head of a kernel release (`3.10.0-1160.el7.x86_64` → [3, 10, 0]). */
export function parseKernelVersion(release: string): number[] | undefined {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(release.trim());
  if (m === null) { return undefined; }
  return [Number(m[1]), Number(m[2]), Number(m[3] ?? '0')];
}

/** True when `release` is at least major.minor. Unknown releases count as recent (nothing to plan). */
export function kernelAtLeast(release: string, min: readonly [number, number] = minimumKernel): boolean {
  const v = parseKernelVersion(release);
  if (v === undefined) { return true; }
  const [major = 0, minor = 0] = v;
  return major > min[0] || (major === min[0] && minor >= min[1]);
}

function distroOf(os: Readonly<Record<string, string>>): { distro: KernelDistro; major: number; version: string; codename: string } {
  const id = (os['ID'] ?? '').toLowerCase();
  const like = (os['ID_LIKE'] ?? '').toLowerCase().split(/\s+/);
  const version = os['VERSION_ID'] ?? '';
  const major = Number(/^(\d+)/.exec(version)?.[1] ?? 'NaN');
  const codename = os['VERSION_CODENAME'] ?? /\(([a-z]+)\)/.exec(os['VERSION'] ?? '')?.[1] ?? '';
  const rhelLike = ['rhel', 'centos', 'rocky', 'almalinux', 'ol'].includes(id) || like.includes('rhel') || like.includes('centos');
  if (rhelLike && major === 7) { return { distro: 'centos7', major, version, codename }; }
  if (rhelLike && major === 8) { return { distro: 'el8', major, version, codename }; }
  if (rhelLike && major === 9) { return { distro: 'el9', major, version, codename }; }
  if (id === 'ubuntu') { return { distro: 'ubuntu', major, version, codename }; }
  if (id === 'debian' || like.includes('debian')) { return { distro: 'debian', major, version, codename }; }
  return { distro: 'unknown', major, version, codename };
}

/** Debian releases whose backports moved to archive.debian.org. */
const archivedDebian: readonly string[] = ['wheezy', 'jessie', 'stretch', 'buster'];

/** Options of {@link kernelPlan}. */
export interface KernelPlanOptions {
  /** ELRepo flavour on RHEL-like systems: long-term (`kernel-lt`, default) or mainline (`kernel-ml`). */
  readonly flavour?: 'lt' | 'ml';
  /**
   * The kernel from which no upgrade is needed (default {@link minimumKernel}). A lab that needs a newer
   * one, or a test that makes an upgrade needed on a recent kernel, raises it.
   */
  readonly minimumKernel?: readonly [number, number];
}

/**
 * The plan for a node, from its /etc/os-release (parsed) and `uname -r`. Pure.
 */
export function kernelPlan(os: Readonly<Record<string, string>>, kernel: string, options: KernelPlanOptions = {}): KernelPlan {
  const d = distroOf(os);
  const pkg = `kernel-${options.flavour ?? 'lt'}`;
  const min = options.minimumKernel ?? minimumKernel;
  if (kernelAtLeast(kernel, min)) {
    return {
      needed: false, distro: d.distro, currentKernel: kernel, commands: [], reboot: false, notes: [],
      reason: `Not needed: kernel ${kernel} is ${min.join('.')} or newer, so VXLAN inside network namespaces (the overlay driver) works.`,
    };
  }
  const old = min === minimumKernel
    ? `Kernel ${kernel} is older than ${min.join('.')}: overlay networks fail there (netlink "invalid argument").`
    : `Kernel ${kernel} is older than ${min.join('.')}, the minimum this lab asks for.`;
  switch (d.distro) {
    case 'centos7':
      return {
        needed: true, distro: d.distro, currentKernel: kernel, reboot: true,
        reason: `${old} The plan points yum at vault.centos.org, adds ELRepo and installs its ${pkg} kernel as the default boot entry.`,
        notes: [
          'CentOS 7 reached its end of life on 2024-06-30: its mirrors moved to vault.centos.org.',
          'ELRepo archived its el7 packages; if the install finds no kernel, move the node to a supported distribution instead.',
        ],
        commands: [
          "sed -i -e 's/^mirrorlist=/#mirrorlist=/' -e 's|^#\\?baseurl=http://mirror.centos.org|baseurl=http://vault.centos.org|' /etc/yum.repos.d/CentOS-*.repo",
          'rpm --import https://www.elrepo.org/RPM-GPG-KEY-elrepo.org',
          'yum install -y https://www.elrepo.org/elrepo-release-7.el7.elrepo.noarch.rpm',
          `yum --enablerepo=elrepo-kernel install -y ${pkg}`,
          'grub2-set-default 0',
          'grub2-mkconfig -o /boot/grub2/grub.cfg',
        ],
      };
    case 'el8':
    case 'el9':
      return {
        needed: true, distro: d.distro, currentKernel: kernel, reboot: true,
        reason: `${old} The plan installs ELRepo's ${pkg} kernel for el${d.major} (or update the distribution kernel with "dnf -y update kernel").`,
        notes: [],
        commands: [
          'rpm --import https://www.elrepo.org/RPM-GPG-KEY-elrepo.org',
          `dnf install -y https://www.elrepo.org/elrepo-release-${d.major}.el${d.major}.elrepo.noarch.rpm`,
          `dnf --enablerepo=elrepo-kernel install -y ${pkg}`,
          'grubby --set-default "$(ls -t /boot/vmlinuz-*elrepo* | head -n 1)"',
        ],
      };
    case 'ubuntu': {
      const meta = d.version === '14.04' ? 'linux-generic-lts-xenial' : `linux-generic-hwe-${d.version}`;
      return {
        needed: true, distro: d.distro, currentKernel: kernel, reboot: true,
        reason: `${old} The plan installs Ubuntu's hardware-enablement kernel (${meta}).`,
        notes: d.major <= 16 ? ['This Ubuntu release is out of standard support; its packages may only be on old-releases.ubuntu.com.'] : [],
        commands: ['apt-get update', `DEBIAN_FRONTEND=noninteractive apt-get install -y --install-recommends ${meta}`],
      };
    }
    case 'debian': {
      // the codename goes into a sources line: only a plain Debian codename is used, else "stable"
      const codename = /^[a-z]{2,20}$/.test(d.codename) ? d.codename : 'stable';
      // backports of releases out of support live on archive.debian.org, the others on deb.debian.org
      const mirror = archivedDebian.includes(codename) ? 'http://archive.debian.org/debian' : 'http://deb.debian.org/debian';
      const image = '"linux-image-$(dpkg --print-architecture)"';
      return {
        needed: true, distro: d.distro, currentKernel: kernel, reboot: true,
        reason: `${old} The plan installs a newer kernel from the node's own apt sources when they offer one, else from ${codename}-backports.`,
        notes: [`${codename}-backports is added (${mirror}) only when the configured sources have no newer kernel.`],
        commands: [
          'apt-get update',
          `if apt-get -s install ${image} | grep -q '^Inst linux-image-'; then ` +
            `DEBIAN_FRONTEND=noninteractive apt-get install -y ${image}; ` +
          `else echo 'deb ${mirror} ${codename}-backports main' > /etc/apt/sources.list.d/docker-net-lab-backports.list && ` +
            'apt-get -o Acquire::Check-Valid-Until=false update && ' +
            `DEBIAN_FRONTEND=noninteractive apt-get install -y -t ${codename}-backports ${image}; fi`,
        ],
      };
    }
    default:
      return {
        needed: true, distro: 'unknown', currentKernel: kernel, reboot: false, commands: [],
        reason: `${old} There is no automatic plan for ${os['PRETTY_NAME'] ?? 'this distribution'}: install a kernel ${min.join('.')} or newer with its package manager, reboot, then run this step again.`,
        notes: [],
      };
  }
}
