import { LabError } from '../src/core/errors';
import type { LabNode } from './labLayout';
import { dockerTcpPort, etcdClientPort, etcdPeerPort, labNodes } from './labLayout';
import { run } from './labProc';

/**
 * The chain of the lab's port guard. It lives in the raw table of each node's own network namespace and is
 * jumped to from raw PREROUTING, so it is consulted before filter INPUT: the tutorial's firewall steps, the
 * diagnostics' `iptables -S INPUT` and a learner's `iptables -I INPUT … -j ACCEPT` neither see nor undo it.
 */
export const guardChain = 'DNL-LAB-GUARD';

/** TCP ports only the lab's nodes may reach: dockerd without TLS, etcd client and etcd peer. */
export const guardedPorts: readonly number[] = [dockerTcpPort, etcdClientPort, etcdPeerPort];

/** The PREROUTING rule (after `-t raw -A|-C|-I PREROUTING`) that sends the guarded ports to {@link guardChain}. */
export function guardJump(): string[] {
  return ['-p', 'tcp', '-m', 'multiport', '--dports', guardedPorts.join(','), '-j', guardChain];
}

/**
 * The `iptables-restore --noflush` input that (re)builds {@link guardChain} in one commit: connections to the
 * guarded ports pass from loopback (the node itself, and the lab's provisioning path, which runs inside the
 * node's namespace) and, for IPv4, from the lab's nodes; everything else (the machine at 10.99.0.1 and with it
 * every local user, the nodes' containers) is dropped. Declaring the chain flushes it, so a re-run replaces it.
 */
export function guardRestoreInput(family: 4 | 6): string {
  const lines = ['*raw', `:${guardChain} - [0:0]`, `-A ${guardChain} -i lo -j RETURN`];
  if (family === 4) {
    for (const n of labNodes) { lines.push(`-A ${guardChain} -s ${n.ip}/32 -j RETURN`); }
  }
  lines.push(`-A ${guardChain} -j DROP`, 'COMMIT', '');
  return lines.join('\n');
}

function inNetns(node: LabNode, program: string, args: readonly string[]): string[] {
  return ['--net=/run/netns/' + node.name, '--', program, ...args];
}

/**
 * Puts the port guard into the node's network namespace (idempotent: the chain is replaced atomically, the
 * jump added once). Goes away with the namespace on `lab down`. The IPv6 guard is best effort (the guarded
 * daemons listen on IPv4 only): a kernel without IPv6 netfilter gets a note instead.
 * @returns notes for the user (empty when both guards are in place).
 * @throws LabError `LabProvisionFailed` when the IPv4 guard cannot be set.
 */
export async function applyNodeGuard(node: LabNode): Promise<string[]> {
  const notes: string[] = [];
  for (const [program, family] of [['iptables', 4], ['ip6tables', 6]] as const) {
    const restore = await run('nsenter', inNetns(node, `${program}-restore`, ['--noflush']), { input: guardRestoreInput(family), timeoutMs: 30_000 });
    if (restore.code !== 0 && family === 6) {
      notes.push(`${node.name}: no IPv6 port guard (${restore.stderr.trim().split('\n')[0] ?? ''}); the guarded daemons listen on IPv4 only`);
      continue;
    }
    if (restore.code !== 0) {
      throw new LabError('LabProvisionFailed', `${node.name}: ${program}-restore of the port guard failed: ${restore.stderr.trim()}`, { node: node.name });
    }
    const has = await run('nsenter', inNetns(node, program, ['-w', '-t', 'raw', '-C', 'PREROUTING', ...guardJump()]), { timeoutMs: 30_000 });
    if (has.code === 0) { continue; }
    const add = await run('nsenter', inNetns(node, program, ['-w', '-t', 'raw', '-I', 'PREROUTING', '1', ...guardJump()]), { timeoutMs: 30_000 });
    if (add.code !== 0) {
      throw new LabError('LabProvisionFailed', `${node.name}: ${program} could not add the port guard: ${add.stderr.trim()}`, { node: node.name });
    }
  }
  return notes;
}

/** True when the node's raw PREROUTING jumps to the guard and the guard ends in DROP (IPv4). */
export async function nodeGuardInPlace(node: LabNode): Promise<boolean> {
  const jump = await run('nsenter', inNetns(node, 'iptables', ['-w', '-t', 'raw', '-C', 'PREROUTING', ...guardJump()]), { timeoutMs: 30_000 });
  if (jump.code !== 0) { return false; }
  const chain = await run('nsenter', inNetns(node, 'iptables', ['-w', '-t', 'raw', '-S', guardChain]), { timeoutMs: 30_000 });
  return chain.code === 0 && chain.stdout.trim().endsWith(`-A ${guardChain} -j DROP`);
}
