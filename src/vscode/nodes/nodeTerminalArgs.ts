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
    if (!/^[0-9a-f]{12,64}$/.test(options.containerId)) {
      throw new LabError('InvalidInput', `"${options.containerId}" is not a container id.`);
    }
    args.push('-t', '--', `${node.user}@${node.host}`, ...(node.sudo === true ? ['sudo'] : []), 'docker', 'exec', '-it', options.containerId, 'sh');
  } else {
    args.push('--', `${node.user}@${node.host}`);
  }
  return args;
}

/** The key of a terminal: by node and container id, never by (reusable) name. */
export function terminalKey(node: string, containerId?: string): string {
  return containerId === undefined ? `node:${node}` : `container:${node}:${containerId}`;
}
