import { LabError } from '../errors';
import type { RemoteShell } from '../remoteShell';
import type { FirewallKind } from './labDefinition';
import { isIpv4 } from './template';

/** What the lab needs to know about one node before filling in commands. */
export interface NodeFacts {
  /** Configured node name (e.g. `docker-node1`). */
  readonly name: string;
  /** The node's address as the other node reaches it (IPv4). */
  readonly ip: string;
  /** `hostname` on the node. */
  readonly hostname: string;
  /** dockerd version (`20.10.24`), empty when dockerd does not answer. */
  readonly dockerVersion: string;
  /** etcd version (`3.4.23`), empty when no etcd binary is installed. */
  readonly etcdVersion: string;
  /** `uname -r`. */
  readonly kernel: string;
  /** Parsed /etc/os-release. */
  readonly osRelease: Readonly<Record<string, string>>;
  /** The local lab's `lab-dockerd` helper exists on the node. */
  readonly labDockerd: boolean;
  /** Which firewall filters incoming traffic (`none` when nothing drops or rejects). */
  readonly firewall: FirewallKind;
  /** `docker info` Swarm.LocalNodeState (`inactive`, `active`, …), empty when unknown. */
  readonly swarmState: string;
  /** `docker info` ClusterStore (Docker ≤ 22), empty when none. */
  readonly clusterStore: string;
}

/** The command that prints the facts, one `key=value` per line, then os-release after a marker. */
export const factsCommand = [
  'echo "hostname=$(hostname)"',
  `echo "docker=$(docker version -f '{{.Server.Version}}' 2>/dev/null)"`,
  `echo "etcd=$(etcd --version 2>/dev/null | sed -n 's/^etcd Version: *//p' | head -n 1)"`,
  'echo "kernel=$(uname -r)"',
  'if command -v lab-dockerd >/dev/null 2>&1; then echo labDockerd=yes; else echo labDockerd=no; fi',
  'fw=none; if command -v firewall-cmd >/dev/null 2>&1 && firewall-cmd --state >/dev/null 2>&1; then fw=firewalld;'
    + ' elif command -v ufw >/dev/null 2>&1 && ufw status 2>/dev/null | grep -q "Status: active"; then fw=ufw;'
    + ' elif command -v iptables >/dev/null 2>&1 && iptables -S INPUT 2>/dev/null | grep -Eq -- "-j (DROP|REJECT)|^-P INPUT (DROP|REJECT)"; then fw=iptables; fi; echo "firewall=$fw"',
  `echo "swarm=$(docker info -f '{{.Swarm.LocalNodeState}}' 2>/dev/null)"`,
  `echo "clusterStore=$(docker info -f '{{.ClusterStore}}' 2>/dev/null)"`,
  'echo "ips=$(hostname -I 2>/dev/null)"',
  'echo "--- os-release"',
  'cat /etc/os-release 2>/dev/null',
].join('; ');

/** Parses /etc/os-release text (`KEY=value`, values optionally quoted). */
export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m === null) { continue; }
    let v = m[2] ?? '';
    if ((v.startsWith('"') && v.endsWith('"')) || (v.startsWith("'") && v.endsWith("'"))) { v = v.slice(1, -1); }
    out[m[1] ?? ''] = v.replace(/\\(.)/g, '$1');
  }
  return out;
}

/**
 * Parses the output of {@link factsCommand}.
 * @param configuredHost the host the node is configured with; used as its IP when it is an IPv4 literal.
 * @throws LabError `CommandFailed` when no usable IPv4 address is found.
 */
export function parseFacts(name: string, configuredHost: string, stdout: string): NodeFacts {
  const [head = '', osText = ''] = stdout.split('--- os-release');
  const kv: Record<string, string> = {};
  for (const line of head.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) { kv[line.slice(0, i).trim()] = line.slice(i + 1).trim(); }
  }
  const ips = (kv['ips'] ?? '').split(/\s+/).filter(isIpv4);
  const ip = isIpv4(configuredHost) ? configuredHost : ips[0];
  if (ip === undefined) {
    throw new LabError('CommandFailed', `Cannot tell the IPv4 address of ${name} (hostname -I printed nothing usable).`, { node: name });
  }
  const fw = kv['firewall'];
  const dockerVersion = kv['docker'] ?? '';
  return {
    name,
    ip,
    hostname: kv['hostname'] ?? '',
    dockerVersion: /^\d+\.\d+/.test(dockerVersion) ? dockerVersion : '',
    etcdVersion: kv['etcd'] ?? '',
    kernel: kv['kernel'] ?? '',
    osRelease: parseOsRelease(osText),
    labDockerd: kv['labDockerd'] === 'yes',
    firewall: fw === 'firewalld' || fw === 'ufw' || fw === 'iptables' ? fw : 'none',
    swarmState: kv['swarm'] ?? '',
    clusterStore: (kv['clusterStore'] ?? '').replace(/^<no value>$/, ''),
  };
}

/**
 * Gathers the facts of one node with a single command, as root (through sudo on a non-root node configured
 * for it): the firewall is visible to root only (`iptables -S`, `ufw status`).
 * @throws LabError from the shell (connection, cancel, `SudoFailed`) or `CommandFailed`.
 */
export async function gatherNodeFacts(shell: RemoteShell, configuredHost: string, signal?: AbortSignal): Promise<NodeFacts> {
  const r = await shell.exec(factsCommand, { timeoutMs: 30_000, sudo: true, ...(signal === undefined ? {} : { signal }) });
  return parseFacts(shell.node, configuredHost, r.stdout);
}

/** Major version of a version string (`20.10.24` → 20), or `undefined`. */
export function majorVersion(v: string): number | undefined {
  const m = /^(\d+)\./.exec(v);
  return m === null ? undefined : Number(m[1]);
}

/** The etcdctl API for health checks: `v2` for etcd < 3.6 (v2 still available with --enable-v2), else `v3`. */
export function etcdApiOf(etcdVersion: string): 'v2' | 'v3' {
  const m = /^(\d+)\.(\d+)/.exec(etcdVersion);
  if (m === null) { return 'v3'; }
  const major = Number(m[1]);
  const minor = Number(m[2]);
  return major < 3 || (major === 3 && minor < 6) ? 'v2' : 'v3';
}
