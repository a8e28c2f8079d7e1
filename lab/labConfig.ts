import { createHash } from 'node:crypto';
import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';
import { LabError } from '../src/core/errors';
import type { NodesFile } from '../src/core/nodes/nodesFile';
import type { NodeConfig } from '../src/core/nodes/nodeConfig';
import { shellQuote } from '../src/core/util/shellQuote';
import type { LabMode, LabNode, LabPaths, NodePaths } from './labLayout';
import type { LabProfile } from './labProfiles';
import { dockerTcpPort, etcdClientPort, etcdPeerPort, labHostIp, labModes, labNodes } from './labLayout';

/** A parsed `lab` command line. */
export type LabArgs =
  | { readonly action: 'up'; readonly mode: LabMode; readonly modeGiven: boolean; readonly profile?: LabProfile }
  | { readonly action: 'down'; readonly purge: boolean }
  | { readonly action: 'status'; readonly json: boolean };

/** Usage text of `docker-net-lab lab`. */
export const labUsage = [
  'usage: docker-net-lab lab up [--mode cluster|swarm|plain] [--profile legacy|modern|mixed|vm|vm-legacy]',
  '       docker-net-lab lab status [--json]',
  '       docker-net-lab lab down [--purge]',
].join('\n');

/**
 * Parses the arguments after `lab`.
 * @throws LabError `InvalidInput` for an unknown action, option or mode.
 */
export function parseLabArgs(args: readonly string[]): LabArgs {
  const [action, ...rest] = args;
  const bad = (msg: string): LabError => new LabError('InvalidInput', `${msg}\n${labUsage}`);
  let values: Record<string, unknown>;
  try {
    const options: ParseArgsConfig['options'] = action === 'up'
      ? { mode: { type: 'string' }, profile: { type: 'string' } }
      : action === 'down'
        ? { purge: { type: 'boolean' } }
        : { json: { type: 'boolean' } };
    values = parseArgs({ args: [...rest], options, strict: true, allowPositionals: false }).values;
  } catch (e) {
    throw bad((e as Error).message);
  }
  switch (action) {
    case 'up': {
      const mode = values['mode'];
      const profile = values['profile'];
      if (profile !== undefined && (typeof profile !== 'string' || !['legacy', 'modern', 'mixed', 'vm', 'vm-legacy'].includes(profile))) {
        throw bad(`Unknown profile "${typeof profile === 'string' ? profile : ''}": use legacy, modern, mixed, vm or vm-legacy.`);
      }
      const prof = profile === undefined ? {} : { profile: profile as LabProfile };
      if (mode === undefined) { return { action, mode: 'cluster', modeGiven: false, ...prof }; }
      if (typeof mode !== 'string' || !(labModes as readonly string[]).includes(mode)) {
        throw bad(`Unknown mode "${typeof mode === 'string' ? mode : ''}": use cluster, swarm or plain.`);
      }
      return { action, mode: mode as LabMode, modeGiven: true, ...prof };
    }
    case 'down': return { action, purge: values['purge'] === true };
    case 'status': return { action, json: values['json'] === true };
    default: throw bad(action === undefined ? 'Missing action.' : `Unknown action "${action}".`);
  }
}

/** /etc/hosts of every node: both nodes by name. */
export function hostsFile(): string {
  const lines = ['127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback'];
  for (const n of labNodes) { lines.push(`${n.ip}\t${n.name}`); }
  return `${lines.join('\n')}\n`;
}

/** resolv.conf of every node: a nameserver inside the lab, so no DNS query leaves it (nobody answers). */
export function resolvConf(): string {
  return `nameserver ${labHostIp}\n`;
}

/** sshd_config of a node: key authentication only, root by key, everything in the node's state dir. */
export function sshdConfig(node: LabNode, np: NodePaths): string {
  return [
    `ListenAddress ${node.ip}:22`,
    'ListenAddress 127.0.0.1:22',
    `HostKey ${np.hostKey}`,
    // the lab writes sshd.pid itself (pid and start time); sshd would overwrite it with the pid only
    'PidFile none',
    'PermitRootLogin prohibit-password',
    'PubkeyAuthentication yes',
    `AuthorizedKeysFile ${np.authorizedKeys}`,
    'StrictModes no',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'PrintMotd no',
    'Subsystem sftp /usr/lib/openssh/sftp-server',
    '',
  ].join('\n');
}

/** etcd 3.4 arguments of a node: the tutorial's two-member static cluster plus `--enable-v2` (Docker's cluster store). */
export function etcdArgs(node: LabNode, np: NodePaths): string[] {
  const cluster = labNodes.map((n) => `${n.name}=http://${n.ip}:${etcdPeerPort}`).join(',');
  return [
    '--name', node.name,
    '--data-dir', np.etcdData,
    '--initial-advertise-peer-urls', `http://${node.ip}:${etcdPeerPort}`,
    '--listen-peer-urls', `http://${node.ip}:${etcdPeerPort}`,
    '--listen-client-urls', `http://${node.ip}:${etcdClientPort},http://127.0.0.1:${etcdClientPort}`,
    '--advertise-client-urls', `http://${node.ip}:${etcdClientPort}`,
    '--initial-cluster-token', 'etcd-cluster',
    '--initial-cluster', cluster,
    '--initial-cluster-state', 'new',
    '--enable-v2',
  ];
}

/** The dockerd flags a mode adds to the base flags (cluster: the etcd cluster store; swarm and plain: none). */
export function modeFlags(mode: LabMode, node: LabNode): string[] {
  return mode === 'cluster'
    ? [`--cluster-store=etcd://${node.ip}:${etcdClientPort}`, `--cluster-advertise=${node.ip}:${dockerTcpPort}`]
    : [];
}

/**
 * Infers the mode from the saved-flags file text: `--cluster-store` means cluster; otherwise the `# mode: …`
 * line lab-dockerd writes (swarm or plain); otherwise plain. Swarm being active is a live fact checked elsewhere.
 */
export function modeFromFlagsText(text: string): LabMode {
  if (parseFlagsFile(text).some((f) => f.startsWith('--cluster-store'))) { return 'cluster'; }
  const saved = /^# mode: (swarm|plain)$/m.exec(text)?.[1];
  return saved === 'swarm' ? 'swarm' : 'plain';
}

/**
 * dockerd flags every lab dockerd gets: TCP 2375 without TLS (`--tls=false`, else dockerd 20.10 sleeps 15 s),
 * the node's unix socket, the pidfile in the lab state dir, and a per-node cgroup parent so that `down`
 * finds every container process even when dockerd was killed.
 */
export function dockerdBaseArgs(node: LabNode, np: NodePaths): string[] {
  return [
    '-H', `tcp://0.0.0.0:${dockerTcpPort}`,
    '-H', 'unix:///var/run/docker.sock',
    '--tls=false',
    '--pidfile', np.dockerdPid,
    `--cgroup-parent=/${node.name}`,
  ];
}

/**
 * The saved-flags file format of lab-dockerd: one dockerd flag per line.
 * @returns the flags, blank lines and `#` comments dropped.
 */
export function parseFlagsFile(text: string): string[] {
  return text.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
}

/**
 * Keeps the lines of /proc/self/mounts that mount the cgroup hierarchies, as `type dir options` lines
 * for the anchor script (which re-creates them inside a node: `ip netns exec` re-mounts /sys).
 */
export function cgroupMountLines(procMounts: string): string {
  const out: string[] = [];
  for (const line of procMounts.split('\n')) {
    const [, dir, type, opts] = line.split(' ');
    if (dir === undefined || type === undefined || opts === undefined) { continue; }
    if (dir === '/sys/fs/cgroup' || dir.startsWith('/sys/fs/cgroup/')) { out.push(`${type} ${dir} ${opts}`); }
  }
  return out.length === 0 ? '' : `${out.join('\n')}\n`;
}

/**
 * The namespace anchor: runs as `ip netns exec NODE unshare --mount --uts --propagation private -- sh anchor NODE DIR CGROUPS`,
 * gives the node its own hostname, cgroup mounts, /run, /etc files, /var/lib/docker, /usr/local/sbin and the
 * Debian docker client, writes its pid and stays alive holding the namespaces.
 */
export function anchorScript(): string {
  return `#!/bin/sh
# docker-net-lab node anchor (generated by "docker-net-lab lab up"; do not edit).
# usage: node-anchor.sh NODE NODE_DIR CGROUP_MOUNTS
set -eu
node=$1; dir=$2; cgroups=$3
hostname "$node"
while read -r type target opts; do
  mkdir -p "$target"
  mount -t "$type" -o "$opts" "$type" "$target"
done < "$cgroups"
mount -t tmpfs -o mode=755 tmpfs /run
mkdir -p /run/sshd /run/lock
for f in hosts hostname resolv.conf docker; do mount --bind "$dir/etc/$f" "/etc/$f"; done
mount --bind "$dir/docker" /var/lib/docker
mount --bind "$dir/sbin" /usr/local/sbin
if [ -e /usr/local/bin/docker ] && [ -x /usr/bin/docker ]; then mount --bind /usr/bin/docker /usr/local/bin/docker; fi
echo $$ > "$dir/run/anchor.pid"
exec sleep infinity
`;
}

/**
 * lab-dockerd, the in-node dockerd controller (bind-mounted at /usr/local/sbin/lab-dockerd in the node).
 * Flags live in the node's /etc/docker/lab-dockerd.flags; the pidfile and log in the lab state dir.
 */
export function labDockerdScript(node: LabNode, np: NodePaths): string {
  const q = shellQuote;
  const base = dockerdBaseArgs(node, np).map(q).join(' ');
  const cluster = modeFlags('cluster', node).map(q).join(' ');
  return `#!/bin/bash
# lab-dockerd: start, stop or restart this lab node's dockerd with chosen flags
# (generated by "docker-net-lab lab up" for ${node.name}; do not edit).
#   lab-dockerd start|restart [cluster|swarm|plain | DOCKERD_FLAG...]   (no argument: the saved flags)
#   lab-dockerd stop | status | flags [cluster|swarm|plain | DOCKERD_FLAG...]
set -u
PIDFILE=${q(np.dockerdPid)}
LOG=${q(np.logDir)}/dockerd.log
FLAGS=/etc/docker/lab-dockerd.flags
BASE=(${base})
DOCKER=/usr/bin/docker
[ -x "$DOCKER" ] || DOCKER=docker

pid_alive() { [ -s "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }
ping_ok() { [ "$(curl -s -m 2 --unix-socket /var/run/docker.sock http://docker/_ping 2>/dev/null)" = OK ]; }
save_flags() {
  local tmp="$FLAGS.tmp"
  case "\${1:-}" in
    cluster) printf '# mode: cluster\\n' > "$tmp"; printf '%s\\n' ${cluster} >> "$tmp" ;;
    swarm|plain) printf '# mode: %s\\n' "$1" > "$tmp" ;;
    *) : > "$tmp"; for f in "$@"; do printf '%s\\n' "$f" >> "$tmp"; done ;;
  esac
  mv "$tmp" "$FLAGS"
}
read_flags() { EXTRA=(); [ -f "$FLAGS" ] && while IFS= read -r l; do case "$l" in ''|'#'*) ;; *) EXTRA+=("$l") ;; esac; done < "$FLAGS"; return 0; }
do_start() {
  if pid_alive; then
    if ping_ok; then echo "dockerd already running (pid $(cat "$PIDFILE"))"; return 0; fi
  fi
  read_flags
  echo "=== $(date -u +%FT%TZ) dockerd \${BASE[*]} \${EXTRA[*]}" >> "$LOG"
  setsid dockerd "\${BASE[@]}" "\${EXTRA[@]}" < /dev/null >> "$LOG" 2>&1 &
  local child=$! i
  for i in $(seq 1 240); do
    if ping_ok; then echo "dockerd running (pid $(cat "$PIDFILE" 2>/dev/null || echo $child)) with: \${EXTRA[*]:-no extra flags}"; return 0; fi
    if ! kill -0 "$child" 2>/dev/null; then echo "dockerd exited; last log lines:" >&2; tail -n 5 "$LOG" >&2; return 1; fi
    sleep 0.25
  done
  echo "dockerd did not answer within 60 s; see $LOG" >&2; return 1
}
do_stop() {
  if ! pid_alive; then rm -f "$PIDFILE"; echo "dockerd not running"; return 0; fi
  local pid i ids
  pid=$(cat "$PIDFILE")
  # SIGKILL the containers first: dockerd would wait 10 s for each one that ignores SIGTERM
  # (bounded: a dockerd that stopped answering must still be stoppable)
  ids=$(timeout 10 "$DOCKER" -H unix:///var/run/docker.sock ps -q 2>/dev/null || true)
  [ -n "$ids" ] && timeout 30 "$DOCKER" -H unix:///var/run/docker.sock kill $ids > /dev/null 2>&1
  kill "$pid" 2>/dev/null
  for i in $(seq 1 120); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid" 2>/dev/null; sleep 0.5; fi
  rm -f "$PIDFILE"; echo "dockerd stopped"
}
cmd=\${1:-status}; [ $# -gt 0 ] && shift
case "$cmd" in
  start) [ $# -gt 0 ] && save_flags "$@"; do_start ;;
  stop) do_stop ;;
  restart) [ $# -gt 0 ] && save_flags "$@"; do_stop && do_start ;;
  status)
    if pid_alive && ping_ok; then echo "dockerd running (pid $(cat "$PIDFILE"))"; read_flags; echo "flags: \${EXTRA[*]:-none}"; exit 0; fi
    echo "dockerd not running"; exit 3 ;;
  flags) if [ $# -gt 0 ]; then save_flags "$@"; fi; read_flags; printf '%s\\n' "\${EXTRA[@]}" ;;
  *) echo "usage: lab-dockerd {start|stop|restart|status|flags} [cluster|swarm|plain | DOCKERD_FLAG...]" >&2; exit 2 ;;
esac
`;
}

/**
 * SHA256 fingerprint of an OpenSSH public key line (`ssh-ed25519 AAAA… comment`), as ssh-keygen -l prints it.
 * @throws LabError `InvalidInput` when the line has no base64 key blob.
 */
export function hostKeyFingerprint(publicKeyLine: string): string {
  const blob = publicKeyLine.trim().split(/\s+/)[1];
  if (blob === undefined || !/^[A-Za-z0-9+/]+=*$/.test(blob)) {
    throw new LabError('InvalidInput', 'Not an OpenSSH public key line.');
  }
  const digest = createHash('sha256').update(Buffer.from(blob, 'base64')).digest('base64');
  return `SHA256:${digest.replace(/=+$/, '')}`;
}

/** known_hosts lines for the nodes (`name,ip type key`). */
export function knownHostsText(entries: readonly { readonly node: LabNode; readonly publicKeyLine: string }[]): string {
  return entries.map(({ node, publicKeyLine }) => {
    const [type, key] = publicKeyLine.trim().split(/\s+/);
    return `${node.name},${node.ip} ${type ?? ''} ${key ?? ''}\n`;
  }).join('');
}

/** Facts the lab records in its nodes file. */
export interface LabFacts {
  readonly mode: LabMode;
  readonly dockerVersion: string;
  readonly etcdVersion: string;
}

/** The nodes file of the local lab: both nodes, key auth as root, host keys pinned, Docker over SSH. */
export function buildLabNodesFile(paths: LabPaths, fingerprints: readonly string[], facts: LabFacts): NodesFile {
  const nodes: NodeConfig[] = labNodes.map((n, i) => ({
    name: n.name,
    host: n.ip,
    port: 22,
    user: 'root',
    auth: 'key',
    keyFile: paths.keyFile,
    hostKeyFingerprints: fingerprints[i] === undefined ? [] : [fingerprints[i]],
    docker: { transport: 'ssh', tcpPort: dockerTcpPort },
  }));
  return {
    version: 1,
    source: 'local-lab',
    lab: { profile: 'local', mode: facts.mode, dockerVersion: facts.dockerVersion, etcdVersion: facts.etcdVersion, lan: '10.99.0.0/24' },
    nodes,
  };
}

/**
 * The first http(s) URI of the Debian archive in apt sources (deb822 `.sources` or one-line format),
 * skipping security and updates archives.
 */
export function aptMirrorFromSources(texts: readonly string[]): string | undefined {
  for (const text of texts) {
    for (const line of text.split('\n')) {
      const t = line.trim();
      const uris = /^URIs:\s*(.+)$/i.exec(t)?.[1]?.split(/\s+/) ?? (/^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/.exec(t)?.slice(1, 2) ?? []);
      for (const u of uris) {
        if (/^https?:\/\//.test(u) && /\/debian\/?$/.test(u)) { return u.replace(/\/$/, ''); }
      }
    }
  }
  return undefined;
}
