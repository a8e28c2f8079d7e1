import { coerce, gte, lt } from 'semver';
import { describeError, isLabError } from '../errors';
import type { ShellProvider } from '../remoteShell';
import type { FactKind } from './factKinds';
import { fillCommandTemplate, fillTemplate } from './fixTemplate';
import { iptablesDeleteCommand, parseIptablesRule } from './iptablesRule';
import { gatherNodeFacts } from './nodeFacts';
import type { NodeFacts } from './nodeFacts';
import type { Facts, Finding, Severity } from './ruleTypes';

interface StateRule {
  readonly id: string;
  readonly title: string;
  readonly cause: string;
  readonly fix: string;
  readonly severity: Severity;
  readonly step: string;
  readonly links: readonly string[];
  readonly fixAction?: string;
  readonly destructive?: boolean;
  /** The kind of every fact `fix` uses (see {@link DiagnosticRule.factKinds}). */
  readonly factKinds?: Readonly<Record<string, FactKind>>;
}

/** The rules behind the state checks (ids prefixed `state-`). */
export const stateRules = {
  clusterStoreOnModernDocker: {
    id: 'state-cluster-store-on-modern-docker',
    title: 'Cluster store configured on Docker {dockerVersion}',
    cause: 'Docker 23.0 refuses to start with --cluster-store/--cluster-advertise, and 24.0 and later do not know the flags. This node runs {dockerVersion}, so the 2017 overlay path cannot work here.',
    fix: '# either run Docker 20.10.x for the 2017 path, or remove the cluster store options and use swarm mode:\nsudo systemctl restart docker\ndocker swarm init --advertise-addr {address}',
    severity: 'error', step: 'ch4-dockerd-cluster-store', links: ['https://docs.docker.com/engine/deprecated/'], fixAction: 'swarm.switchToSwarm', destructive: true,
    factKinds: { address: 'ipAddress' },
  },
  etcdV2Missing: {
    id: 'state-etcd-v2-disabled',
    title: 'dockerd uses the cluster store but etcd {etcdVersion} serves no v2 API',
    cause: 'Docker\'s cluster store speaks only the etcd v2 API. etcd 3.4 and 3.5 serve it only with --enable-v2; etcd 3.6 has removed it.',
    fix: '# etcd 3.4/3.5: add --enable-v2=true to the etcd command line on every member, then restart etcd\nsudo systemctl restart etcd\ncurl -s http://127.0.0.1:2379/v2/keys/',
    severity: 'error', step: 'ch4-etcd-cluster', links: ['https://etcd.io/docs/v3.5/op-guide/configuration/'], fixAction: 'etcd.enableV2', destructive: true,
  },
  kernelTooOld: {
    id: 'state-kernel-too-old-for-overlay',
    title: 'Kernel {kernel} is too old for overlay networks',
    cause: 'Overlay networks need VXLAN inside network namespaces, which arrived in Linux 3.16. {extra}',
    fix: 'uname -r\n# CentOS 7: install kernel-lt from ELRepo and boot it\nsudo yum --enablerepo=elrepo-kernel install -y kernel-lt\nsudo grub2-set-default 0 && sudo grub2-mkconfig -o /boot/grub2/grub.cfg && sudo reboot',
    severity: 'error', step: 'ch4-kernel-upgrade', links: ['https://github.com/moby/libnetwork/issues/394'], destructive: true,
  },
  duplicateHostname: {
    id: 'state-duplicate-hostname',
    title: 'Nodes {nodes} share the hostname {hostname}',
    cause: 'The legacy overlay gossips peers by hostname, so two nodes with one name collide (cloned VMs). The tutorial renames them first.',
    fix: 'sudo hostnamectl set-hostname {name}   # on {name}; a different name on each node\nsudo systemctl restart docker',
    severity: 'error', step: 'ch4-hostnames', links: ['https://github.com/moby/moby/issues/19301'], fixAction: 'ch4-hostnames', destructive: true,
    factKinds: { name: 'hostname' },
  },
  firewallBlocks: {
    id: 'state-firewall-blocks-lab-ports',
    title: '{firewall} on {name} blocks {ports}',
    cause: 'The nodes must reach each other on etcd (2379 client, 2380 peer), the Docker API (2375), swarm (2377), gossip (7946 tcp/udp) and VXLAN (4789 udp). The tutorial stopped firewalld instead; opening the ports is kinder.',
    // the fix is built by checkFirewall from the parsed rules, not from a template
    fix: '',
    severity: 'error', step: 'ch4-firewall', links: ['https://docs.docker.com/engine/swarm/swarm-tutorial/#open-protocols-and-ports-between-the-hosts'], fixAction: 'firewall.openLabPorts',
  },
  lowMtu: {
    id: 'state-underlay-mtu-low',
    title: 'Underlay MTU {mtu} on {iface} is below 1500',
    cause: 'VXLAN adds 50 bytes per frame. With an underlay MTU of {mtu}, the overlay must use {overlayMtu} or less, or large packets vanish (ping works, HTTP stalls).',
    fix: 'docker network create -d overlay --opt com.docker.network.driver.mtu={overlayMtu} {network}',
    severity: 'warning', step: 'ch4-create-overlay', links: ['https://github.com/moby/libnetwork/issues/2661'],
    factKinds: { overlayMtu: 'number', network: 'networkName' },
  },
} as const satisfies Record<string, StateRule>;

function finding(rule: StateRule, facts: Record<string, string>): Finding {
  return {
    ruleId: rule.id,
    title: fillTemplate(rule.title, facts),
    cause: fillTemplate(rule.cause, facts),
    fix: fillCommandTemplate(rule.fix, rule.factKinds ?? {}, [facts]).text,
    severity: rule.severity,
    line: 0,
    endLine: 0,
    lastLine: 0,
    count: 1,
    facts,
    step: rule.step,
    text: '',
    links: rule.links,
    destructive: rule.destructive === true,
    ...(rule.fixAction === undefined ? {} : { fixAction: rule.fixAction }),
  };
}

function baseFacts(n: NodeFacts): Record<string, string> {
  const f: Record<string, string> = { node: n.name, name: n.name };
  if (n.address !== undefined) { f['address'] = n.address; f['ownIp'] = n.address; }
  return f;
}

/** True when the node's dockerd is configured with the cluster store (flags or daemon.json). */
export function usesClusterStore(n: NodeFacts): boolean {
  const inArgs = (n.dockerdArgs ?? []).some((a) => /^--cluster-(store|advertise)(=|$)/.test(a));
  const inJson = n.daemonJson !== undefined && ('cluster-store' in n.daemonJson || 'cluster-advertise' in n.daemonJson);
  return inArgs || inJson;
}

/** Docker ≥ 23 with cluster store options: that daemon cannot run them. */
export function checkClusterStoreOnModernDocker(n: NodeFacts): Finding[] {
  const v = coerce(n.dockerVersion ?? '');
  if (v === null || !gte(v, '23.0.0') || !usesClusterStore(n)) { return []; }
  return [finding(stateRules.clusterStoreOnModernDocker, { ...baseFacts(n), dockerVersion: n.dockerVersion ?? '' })];
}

/** dockerd uses the cluster store while the local etcd has no v2 API (3.4/3.5 without --enable-v2, or 3.6+). */
export function checkEtcdV2(n: NodeFacts): Finding[] {
  if (!usesClusterStore(n)) { return []; }
  const v = coerce(n.etcdVersion ?? '');
  const removed = v !== null && gte(v, '3.6.0');
  if (!removed && n.etcdV2Enabled !== false) { return []; }
  return [finding(stateRules.etcdV2Missing, { ...baseFacts(n), etcdVersion: n.etcdVersion ?? '(unknown version)' })];
}

/** Kernel older than 3.16 (with a special word for CentOS 7's 3.10). */
export function checkKernel(n: NodeFacts): Finding[] {
  const v = coerce(n.kernel ?? '');
  if (v === null || !lt(v, '3.16.0')) { return []; }
  const el7 = /\.el7\./.test(n.kernel ?? '');
  const extra = el7
    ? 'This is CentOS 7\'s stock 3.10 kernel: its vxlan/netns backports are incomplete, which the tutorial met as "Failed to deserialize netlink ndmsg". The tutorial boots an ELRepo kernel.'
    : 'Upgrade the kernel before creating overlay networks.';
  return [finding(stateRules.kernelTooOld, { ...baseFacts(n), kernel: n.kernel ?? '', extra })];
}

/** Two or more nodes with the same hostname. */
export function checkHostnames(nodes: readonly NodeFacts[]): Finding[] {
  const byName = new Map<string, NodeFacts[]>();
  for (const n of nodes) {
    if (n.hostname === undefined || n.hostname === '') { continue; }
    byName.set(n.hostname, [...(byName.get(n.hostname) ?? []), n]);
  }
  const out: Finding[] = [];
  for (const [hostname, same] of byName) {
    if (same.length < 2) { continue; }
    for (const n of same.slice(1)) {
      out.push(finding(stateRules.duplicateHostname, { ...baseFacts(n), hostname, nodes: same.map((s) => s.name).join(', ') }));
    }
  }
  return out;
}

/**
 * Firewall blocking lab ports. The iptables fix deletes each blocking rule by its exact spec, parsed
 * and checked in TypeScript ({@link parseIptablesRule}); a rule the parser refuses makes the fix not
 * available (`fixRefused`). Nothing the node printed is ever run as shell code.
 */
export function checkFirewall(n: NodeFacts): Finding[] {
  const fw = n.firewall;
  if (fw === undefined || fw.blockedPorts.length === 0) { return []; }
  const ports = fw.blockedPorts.join(', ');
  // the ports come from labPorts (our own table), not from the node
  const portParts = fw.blockedPorts.flatMap((p) => {
    const m = /^([0-9]{1,5})\/(tcp|udp)$/.exec(p);
    return m === null ? [] : [{ num: m[1] ?? '', proto: m[2] ?? 'tcp' }];
  });
  let commands: string[];
  const refused: string[] = [];
  if (fw.kind === 'firewalld') {
    commands = [...portParts.map((p) => `firewall-cmd --permanent --add-port=${p.num}/${p.proto}`), 'firewall-cmd --reload && systemctl restart docker'];
  } else {
    commands = [];
    for (const line of fw.blockingRules ?? []) {
      const rule = parseIptablesRule(line);
      if (rule.ok && rule.chain === 'INPUT') { commands.push(iptablesDeleteCommand(rule)); continue; }
      refused.push(`the rule ${JSON.stringify(line.slice(0, 200))} on ${n.name} cannot be deleted by the fix (${rule.ok ? 'not in INPUT' : rule.reason}): remove it by hand with iptables -D INPUT <number> (see iptables -L INPUT --line-numbers)`);
    }
    for (const p of portParts) {
      commands.push(`iptables -S INPUT | grep -q '^-P INPUT ACCEPT' || iptables -I INPUT -p ${p.proto} --dport ${p.num} -j ACCEPT`);
    }
  }
  const fix = commands.join('\n');
  const base = finding(stateRules.firewallBlocks, { ...baseFacts(n), firewall: fw.kind, ports });
  return [{ ...base, fix, ...(refused.length > 0 ? { fixRefused: refused.join('; ') } : { fixCommands: commands }) }];
}

/** Underlay MTU below 1500. */
export function checkMtu(n: NodeFacts, network = 'my-overlay'): Finding[] {
  if (n.mtu === undefined || n.mtu >= 1500) { return []; }
  return [finding(stateRules.lowMtu, { ...baseFacts(n), mtu: String(n.mtu), overlayMtu: String(n.mtu - 50), iface: n.underlayInterface ?? '<interface>', network })];
}

/** Every state check over the lab's nodes, node by node, then the cross-node ones. */
export function runStateChecks(nodes: readonly NodeFacts[], context: Facts = {}): Finding[] {
  const out: Finding[] = [];
  for (const n of nodes) {
    out.push(...checkClusterStoreOnModernDocker(n), ...checkEtcdV2(n), ...checkKernel(n), ...checkFirewall(n), ...checkMtu(n, context['network']));
  }
  out.push(...checkHostnames(nodes));
  return out;
}

/** Facts of one node, or why they could not be gathered. */
export interface NodeFactsResult {
  readonly node: string;
  readonly facts?: NodeFacts;
  /** The error's code and message when the node could not be asked. */
  readonly error?: { readonly code: string; readonly message: string };
}

/**
 * Gathers the facts of every node of `provider` (in parallel) and runs the state checks over the
 * nodes that answered. Never throws for one unreachable node: it is reported in `nodes[].error`.
 * @param addressOf the LAN address of a node (selects its underlay interface and own processes).
 * @throws LabError `Cancelled` when `signal` is aborted.
 */
export async function checkLabState(
  provider: ShellProvider,
  addressOf: (node: string) => string | undefined,
  signal?: AbortSignal,
): Promise<{ nodes: NodeFactsResult[]; findings: Finding[] }> {
  const nodes = await Promise.all(provider.nodeNames().map(async (node): Promise<NodeFactsResult> => {
    try {
      const shell = await provider.shell(node, signal);
      return { node, facts: await gatherNodeFacts(shell, addressOf(node), signal) };
    } catch (e) {
      if (isLabError(e, 'Cancelled')) { throw e; }
      return { node, error: { code: isLabError(e) ? e.code : 'CommandFailed', message: describeError(e) } };
    }
  }));
  const facts = nodes.flatMap((n) => (n.facts === undefined ? [] : [n.facts]));
  return { nodes, findings: runStateChecks(facts) };
}
