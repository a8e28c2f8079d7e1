import { LabError } from '../errors';
import type { RemoteShell } from '../remoteShell';
import { displayText } from '../util/displayText';

/** A firewall as seen on a node. */
export interface FirewallFacts {
  /** Which firewall filters input traffic. */
  readonly kind: 'firewalld' | 'iptables' | 'none' | 'unknown';
  /** Lab ports (`2379/tcp`, `4789/udp`, …) this firewall does not let in. */
  readonly blockedPorts: readonly string[];
  /**
   * iptables only: the `-A INPUT …` lines of `iptables -S INPUT`, as the node printed them (data, never
   * code), that block one of `blockedPorts` (in order; a rule printed twice is listed twice).
   */
  readonly blockingRules?: readonly string[];
}

/** What the state checks need to know about one node. Every field but `name` may be unknown. */
export interface NodeFacts {
  /** The node's name in the lab (docker-node1, …). */
  readonly name: string;
  /** The node's LAN address, when known. */
  readonly address?: string;
  /** Docker server version (`20.10.24`, `26.1.5`). */
  readonly dockerVersion?: string;
  /** The running dockerd's command line arguments (after `dockerd`). */
  readonly dockerdArgs?: readonly string[];
  /** Parsed /etc/docker/daemon.json. */
  readonly daemonJson?: Readonly<Record<string, unknown>>;
  /** etcd server version (`3.4.23`). */
  readonly etcdVersion?: string;
  /** Whether the local etcd serves the v2 API. */
  readonly etcdV2Enabled?: boolean;
  /** `uname -r`. */
  readonly kernel?: string;
  /** The node's hostname. */
  readonly hostname?: string;
  /** Firewall state. */
  readonly firewall?: FirewallFacts;
  /** MTU of the interface that carries the node's LAN address (the underlay). */
  readonly mtu?: number;
  /** Name of that interface. */
  readonly underlayInterface?: string;
  /** /etc/os-release PRETTY_NAME. */
  readonly os?: string;
}

/** The ports the tutorial needs open between the nodes. */
export const labPorts: readonly string[] = ['2375/tcp', '2377/tcp', '2379/tcp', '2380/tcp', '7946/tcp', '7946/udp', '4789/udp'];

const marker = '@@dnl:';
const sections = ['docker', 'dockerd', 'daemonjson', 'etcd', 'etcdargs', 'etcdv2', 'kernel', 'hostname', 'firewalld', 'fwports', 'iptables', 'addr', 'link', 'os'] as const;
type Section = (typeof sections)[number];

/** The one shell script that prints every fact, each section after a `@@dnl:<name>` line. */
export const nodeFactsScript = [
  `echo ${marker}docker; docker version --format '{{.Server.Version}}' 2>/dev/null`,
  `echo ${marker}dockerd; ps -eo args= 2>/dev/null | grep -E '^([^ ]*/)?dockerd( |$)'`,
  `echo ${marker}daemonjson; cat /etc/docker/daemon.json 2>/dev/null`,
  `echo ${marker}etcd; etcd --version 2>/dev/null | head -n 1`,
  `echo ${marker}etcdargs; ps -eo args= 2>/dev/null | grep -E '^([^ ]*/)?etcd( |$)'`,
  `echo ${marker}etcdv2; curl -s -m 3 -o /dev/null -w '%{http_code}' http://127.0.0.1:2379/v2/keys/ 2>/dev/null; echo`,
  `echo ${marker}kernel; uname -r`,
  `echo ${marker}hostname; hostname`,
  `echo ${marker}firewalld; firewall-cmd --state 2>/dev/null`,
  `echo ${marker}fwports; firewall-cmd --list-ports 2>/dev/null`,
  `echo ${marker}iptables; iptables -S INPUT 2>/dev/null`,
  `echo ${marker}addr; ip -o -4 addr show 2>/dev/null`,
  `echo ${marker}link; ip -o link show 2>/dev/null`,
  `echo ${marker}os; (. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME")`,
].join('\n');

function splitSections(stdout: string): Partial<Record<Section, string>> {
  const out: Partial<Record<Section, string>> = {};
  let current: Section | undefined;
  let buf: string[] = [];
  const flush = (): void => { if (current !== undefined) { out[current] = buf.join('\n').trim(); } };
  for (const raw of stdout.split('\n')) {
    const at = raw.indexOf(marker);
    if (at !== -1) {
      // A section without a final newline leaves its text in front of the next marker.
      if (at > 0) { buf.push(raw.slice(0, at)); }
      flush();
      const name = raw.slice(at + marker.length).trim();
      current = (sections as readonly string[]).includes(name) ? (name as Section) : undefined;
      buf = [];
    } else {
      buf.push(raw);
    }
  }
  flush();
  return out;
}

function expandPorts(spec: string): string[] {
  const m = /^(\d+)(?:-(\d+))?\/(tcp|udp)$/.exec(spec.trim());
  if (m === null) { return []; }
  const from = Number(m[1]);
  const to = m[2] === undefined ? from : Number(m[2]);
  return labPorts.filter((p) => {
    const [n, proto] = p.split('/');
    return proto === m[3] && Number(n) >= from && Number(n) <= to;
  });
}

/**
 * Works out which lab ports a firewall blocks from `firewall-cmd --state`, `--list-ports` and
 * `iptables -S INPUT` output. firewalld (running) blocks every port not listed; iptables blocks
 * ports with a DROP/REJECT rule, or all ports not accepted when the INPUT policy is DROP.
 */
export function parseFirewall(firewalldState: string, firewalldPorts: string, iptablesRules: string): FirewallFacts {
  if (firewalldState.trim() === 'running') {
    const open = new Set(firewalldPorts.split(/\s+/).flatMap(expandPorts));
    return { kind: 'firewalld', blockedPorts: labPorts.filter((p) => !open.has(p)) };
  }
  if (iptablesRules.trim() === '') { return { kind: firewalldState.trim() === '' ? 'unknown' : 'none', blockedPorts: [] }; }
  const blocked = new Set<string>();
  const accepted = new Set<string>();
  const blockingRules: string[] = [];
  let policyDrop = false;
  let acceptAll = false;
  for (const line of iptablesRules.split('\n')) {
    if (/^-P INPUT (DROP|REJECT)/.test(line)) { policyDrop = true; continue; }
    if (!line.startsWith('-A INPUT')) { continue; }
    const target = /-j (ACCEPT|DROP|REJECT)\b/.exec(line)?.[1];
    if (target === undefined) { continue; }
    const proto = /-p (tcp|udp)\b/.exec(line)?.[1];
    const dport = /--dports? (\d+(?:[:,]\d+)*)/.exec(line)?.[1];
    if (dport === undefined) {
      if (target === 'ACCEPT' && proto === undefined && !/ -[sdi] | -m (state|conntrack)/.test(line)) { acceptAll = true; }
      continue;
    }
    const ports: string[] = [];
    for (const part of dport.split(',')) {
      const [a, b] = part.split(':');
      for (const pr of proto === undefined ? ['tcp', 'udp'] : [proto]) { ports.push(...expandPorts(`${a}${b === undefined ? '' : `-${b}`}/${pr}`)); }
    }
    let blocks = false;
    for (const p of ports) {
      if (accepted.has(p)) { continue; }
      if (target === 'ACCEPT') { if (!blocked.has(p)) { accepted.add(p); } continue; }
      blocked.add(p);
      blocks = true;
    }
    if (blocks) { blockingRules.push(line); }
  }
  if (policyDrop && !acceptAll) {
    for (const p of labPorts) { if (!accepted.has(p)) { blocked.add(p); } }
  }
  return { kind: 'iptables', blockedPorts: labPorts.filter((p) => blocked.has(p)), blockingRules };
}

function parseUnderlay(addr: string, link: string, address: string | undefined): { iface?: string; mtu?: number } {
  let iface: string | undefined;
  for (const line of addr.split('\n')) {
    const m = /^\d+:\s+(\S+)\s+inet (\d+\.\d+\.\d+\.\d+)\//.exec(line);
    if (m === null || m[1] === undefined) { continue; }
    const name = m[1];
    if (address !== undefined ? m[2] === address : !/^(lo|docker\d*|br-|veth|docker_gwbridge|vx)/.test(name)) { iface = name; break; }
  }
  if (iface === undefined) { return {}; }
  for (const line of link.split('\n')) {
    const m = /^\d+:\s+([^:@\s]+)(?:@\S+)?:.*\smtu (\d+)/.exec(line);
    if (m?.[1] === iface) { return { iface, mtu: Number(m[2]) }; }
  }
  return { iface };
}

function splitArgs(cmdline: string): string[] {
  return cmdline.split(/\s+/).filter((w) => w !== '').slice(1);
}

/** The process line of this node: several nodes may share one PID namespace (the local lab), so prefer the one naming its address. */
function pickProcess(lines: string | undefined, address: string | undefined): string {
  const all = (lines ?? '').split('\n').map((l) => l.trim()).filter((l) => l !== '');
  return (address === undefined ? undefined : all.find((l) => l.includes(address))) ?? all[0] ?? '';
}

/**
 * Parses the output of {@link nodeFactsScript} into {@link NodeFacts}. Missing or empty sections
 * leave the field unknown. Never throws (a daemon.json that does not parse is left out).
 */
export function parseNodeFacts(name: string, stdout: string, address?: string): NodeFacts {
  const s = splitSections(stdout);
  let daemonJson: Record<string, unknown> | undefined;
  if (s.daemonjson !== undefined && s.daemonjson !== '') {
    try {
      const parsed: unknown = JSON.parse(s.daemonjson);
      if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) { daemonJson = parsed as Record<string, unknown>; }
    } catch { /* an invalid file is reported by dockerd itself */ }
  }
  const etcdVersion = /etcd Version: (\S+)/.exec(s.etcd ?? '')?.[1];
  const etcdArgs = pickProcess(s.etcdargs, address);
  const dockerdLine = pickProcess(s.dockerd, address);
  let etcdV2Enabled: boolean | undefined;
  if (s.etcdv2 === '200') { etcdV2Enabled = true; } else if (s.etcdv2 === '404') { etcdV2Enabled = false; } else if (etcdArgs !== '') {
    etcdV2Enabled = /--enable-v2(?:=true)?(?:\s|$)/.test(etcdArgs);
  }
  const underlay = parseUnderlay(s.addr ?? '', s.link ?? '', address);
  const firewall = s.firewalld === undefined && s.iptables === undefined ? undefined : parseFirewall(s.firewalld ?? '', s.fwports ?? '', s.iptables ?? '');
  const facts: NodeFacts = {
    name,
    ...(address === undefined ? {} : { address }),
    ...(s.docker ? { dockerVersion: s.docker } : {}),
    ...(dockerdLine === '' ? {} : { dockerdArgs: splitArgs(dockerdLine) }),
    ...(daemonJson === undefined ? {} : { daemonJson }),
    ...(etcdVersion === undefined ? {} : { etcdVersion }),
    ...(etcdV2Enabled === undefined ? {} : { etcdV2Enabled }),
    ...(s.kernel ? { kernel: s.kernel } : {}),
    ...(s.hostname ? { hostname: s.hostname } : {}),
    ...(firewall === undefined ? {} : { firewall }),
    ...(underlay.mtu === undefined ? {} : { mtu: underlay.mtu }),
    ...(underlay.iface === undefined ? {} : { underlayInterface: underlay.iface }),
    ...(s.os ? { os: s.os } : {}),
  };
  return facts;
}

// What sudo prints when it refuses: a wrong password, no password, no sudo rights, no terminal.
const sudoRefusal = /^sudo: |Sorry, try again|incorrect password|is not in the sudoers|not allowed to (?:run|execute) sudo|a password is required|a terminal is required/m;

/**
 * Gathers {@link NodeFacts} from a node with one remote command (run with sudo when the node is
 * configured for it, so iptables can be read). A script that did not run (its first section is
 * missing from the output) is an error, never a node without facts.
 * @param address the node's LAN address; it selects the underlay interface.
 * @throws LabError `SudoFailed` when sudo refused (wrong password, no sudo rights), `CommandFailed`
 *   when the script did not run for another reason, or the shell's errors (Unreachable, Timeout, Cancelled, …).
 */
export async function gatherNodeFacts(shell: RemoteShell, address?: string, signal?: AbortSignal): Promise<NodeFacts> {
  const result = await shell.exec(nodeFactsScript, { sudo: true, timeoutMs: 20_000, ...(signal === undefined ? {} : { signal }) });
  if (!result.stdout.includes(`${marker}docker`)) {
    const said = displayText(result.stderr.trim().split('\n').slice(-2).join(' ').slice(0, 300));
    const exit = result.code ?? result.signal ?? '?';
    if (sudoRefusal.test(result.stderr)) {
      throw new LabError('SudoFailed', `sudo on ${shell.node} refused to run the node checks (exit ${exit}${said === '' ? '' : `: ${said}`}), so nothing was checked there.`, {
        node: shell.node, fix: 'Check the sudo password saved for this node (DOCKER_NET_LAB_SUDO_PASSWORD for the CLI) and that its user may run sudo.',
      });
    }
    throw new LabError('CommandFailed', `The node checks did not run on ${shell.node} (exit ${exit}${said === '' ? '' : `: ${said}`}), so nothing was checked there.`, { node: shell.node });
  }
  return parseNodeFacts(shell.node, result.stdout, address);
}
