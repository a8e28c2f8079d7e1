import * as path from 'node:path';

/**
 * The one fixed place where the local two-node lab keeps its state, outside any checkout, so that
 * every clone, CI run, the CLI and the extension find the same lab. `DOCKER_NET_LAB_HOME` overrides
 * it (tests of the provisioner logic only).
 */
export function labHome(env: NodeJS.ProcessEnv = process.env): string {
  return env['DOCKER_NET_LAB_HOME'] ?? '/var/lib/docker-net-lab';
}

/** Where built lab images are cached (outside any checkout; survives `lab down --purge`). */
export function labImageCache(env: NodeJS.ProcessEnv = process.env): string {
  return env['DOCKER_NET_LAB_CACHE'] ?? '/var/cache/docker-net-lab';
}

/** The nodes file the lab writes and the CLI and the extension read. */
export function labNodesFile(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(labHome(env), 'nodes.json');
}

/** The lab client's private key. */
export function labKeyFile(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(labHome(env), 'ssh', 'id_ed25519');
}

/** A known_hosts file holding the lab nodes' host keys (for `ssh -o UserKnownHostsFile=`). */
export function labKnownHostsFile(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(labHome(env), 'ssh', 'known_hosts');
}
