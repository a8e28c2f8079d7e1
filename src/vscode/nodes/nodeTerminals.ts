import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { labKnownHostsFile } from '../../core/nodes/localLabPaths';
import type { NodeServices } from './nodeServices';
import { dockerExecCommand, sshTerminalArgs, terminalKey } from './nodeTerminalArgs';
import { SessionPty } from './sessionPty';

/**
 * Integrated terminals on a node (or `docker exec -it <id> sh` in a container), keyed by node and
 * container id and reused while still open. Default: a Pseudoterminal over the core's SSH session;
 * `dockerNetLab.terminal.mode: "ssh"` runs the ssh binary with StrictHostKeyChecking=yes instead.
 */
export class NodeTerminals implements vscode.Disposable {
  private readonly terminals = new Map<string, vscode.Terminal>();
  private readonly subscription: vscode.Disposable;

  constructor(private readonly services: NodeServices) {
    this.subscription = vscode.window.onDidCloseTerminal((t) => {
      for (const [k, v] of this.terminals) { if (v === t) { this.terminals.delete(k); } }
    });
  }

  /** Shows the terminal of a node or container, creating it when none is open. */
  open(node: string, container?: { id: string; name: string }): vscode.Terminal {
    const key = terminalKey(node, container?.id);
    const existing = this.terminals.get(key);
    if (existing !== undefined && existing.exitStatus === undefined) {
      existing.show();
      return existing;
    }
    const config = this.services.nodeConfig(node);
    const name = container === undefined ? `${node}` : `${container.name} @ ${node}`;
    const iconPath = new vscode.ThemeIcon(container === undefined ? 'vm' : 'package');
    let terminal: vscode.Terminal;
    if (vscode.workspace.getConfiguration('dockerNetLab').get<string>('terminal.mode', 'session') === 'ssh') {
      const labFile = labKnownHostsFile();
      const lab = this.services.labNodeNames().has(node) && fs.existsSync(labFile);
      const knownHostsFiles = lab ? [labFile] : [path.join(os.homedir(), '.ssh', 'known_hosts'), this.services.acceptedKnownHosts];
      terminal = vscode.window.createTerminal({
        name, iconPath, isTransient: true, shellPath: 'ssh',
        shellArgs: sshTerminalArgs(config, { knownHostsFiles, ...(container === undefined ? {} : { containerId: container.id }) }),
      });
    } else {
      // the container id is checked by sshTerminalArgs' rule: hex only, so it is safe on a command line
      const command = container === undefined ? undefined : dockerExecCommand(config, container.id);
      terminal = vscode.window.createTerminal({ name, iconPath, isTransient: true, pty: new SessionPty(() => this.services.session(node), command) });
    }
    this.terminals.set(key, terminal);
    terminal.show();
    return terminal;
  }

  dispose(): void {
    this.subscription.dispose();
    this.terminals.clear();
  }
}
