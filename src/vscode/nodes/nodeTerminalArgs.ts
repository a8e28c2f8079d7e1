// Pure (no vscode import): the `ssh` command line of a node terminal or a container shell.
import { LabError } from '../../core/errors';
import type { NodeConfig } from '../../core/nodes/nodeConfig';

/** Options of {@link sshTerminalArgs}. */
export interface SshTerminalOptions {
  /** known_hosts files ssh checks the host key against (StrictHostKeyChecking=yes: unknown keys are refused). */
  readonly knownHostsFiles: readonly string[];
  /** A container to open `sh` in (`docker exec -it <id> sh`); the node's login shell otherwise. */
  readonly containerId?: string;
}

function quoteForSshOption(file: string): string {
  return /[\s"]/.test(file) ? `"${file.replace(/"/g, '')}"` : file;
}

/**
 * The arguments of `ssh` for an interactive terminal on a node (or in one of its containers). The
 * host key must already be known: the extension's own prompt (Connect) adds it first.
 * @throws LabError `InvalidInput` for a container id that is not a hex Docker id.
 */
export function sshTerminalArgs(node: NodeConfig, options: SshTerminalOptions): string[] {
  const args = ['-p', String(node.port), '-o', 'StrictHostKeyChecking=yes'];
  if (options.knownHostsFiles.length > 0) {
    args.push('-o', `UserKnownHostsFile=${options.knownHostsFiles.map(quoteForSshOption).join(' ')}`);
  }
  if (node.auth === 'key' && node.keyFile !== undefined) { args.push('-i', node.keyFile, '-o', 'IdentitiesOnly=yes'); }
  if (node.auth === 'password') { args.push('-o', 'PreferredAuthentications=keyboard-interactive,password'); }
  if (options.containerId !== undefined) {
    args.push('-t', '--', `${node.user}@${node.host}`, ...dockerExecCommand(node, options.containerId).split(' '));
  } else {
    args.push('--', `${node.user}@${node.host}`);
  }
  return args;
}

/** The key of a terminal: by node and container id, never by (reusable) name. */
export function terminalKey(node: string, containerId?: string): string {
  return containerId === undefined ? `node:${node}` : `container:${node}:${containerId}`;
}

/**
 * `docker exec -it <id> sh` (with sudo when the node needs it) for a shell in a container.
 * @throws LabError `InvalidInput` for a container id that is not a hex Docker id.
 */
export function dockerExecCommand(node: NodeConfig, containerId: string): string {
  if (!/^[0-9a-f]{12,64}$/.test(containerId)) {
    throw new LabError('InvalidInput', `"${containerId}" is not a container id.`);
  }
  return `${node.sudo === true ? 'sudo ' : ''}docker exec -it ${containerId} sh`;
}
