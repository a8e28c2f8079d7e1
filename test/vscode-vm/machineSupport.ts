// What both own-machine suites need: the vscode.window prompts they answer by stubs (and put back), the
// global settings they change (and put back), and a command run on a node over ssh with the lab's key and
// known_hosts, optionally as root through `sudo -S` with the password on stdin.
import { spawnSync } from 'node:child_process';
import * as vscode from 'vscode';
import { labKnownHostsFile } from '../../src/core/nodes/localLabPaths';
import { shellQuote } from '../../src/core/util/shellQuote';

const prompts = ['showQuickPick', 'showInputBox', 'showWarningMessage', 'showInformationMessage', 'showErrorMessage'] as const;

/** vscode.window as a record the suites assign stubs to; `restore` puts the five prompt functions back. */
export function stubbableWindow(): { readonly w: Record<string, unknown>; readonly restore: () => void } {
  const w = vscode.window as unknown as Record<string, unknown>;
  const saved = Object.fromEntries(prompts.map((p) => [p, w[p]]));
  return { w, restore: () => { Object.assign(w, saved); } };
}

/** The global values of `keys` now; `restore` writes them back (undefined removes the setting). */
export function globalSettings(keys: readonly string[]): { readonly restore: () => Promise<void> } {
  const config = vscode.workspace.getConfiguration();
  const before = keys.map((k) => [k, config.inspect(k)?.globalValue] as const);
  return {
    restore: async () => {
      for (const [k, v] of before) { await config.update(k, v, vscode.ConfigurationTarget.Global); }
    },
  };
}

/** Where and as whom {@link onMachine} logs in. */
export interface MachineLogin {
  readonly user: string;
  readonly host: string;
  readonly port: number;
  readonly keyFile: string;
}

/**
 * Runs `command` on a machine over ssh (BatchMode, the lab's known_hosts, strict host key checking), or as root
 * through `sudo -S -p ''` with `sudoPassword` on stdin. stdout, stderr and a spawn error come back together.
 */
export function onMachine(m: MachineLogin, command: string, options: { readonly input?: string; readonly sudoPassword?: string } = {}): { code: number; out: string } {
  const root = options.sudoPassword !== undefined;
  const r = spawnSync('ssh', [
    '-i', m.keyFile, '-p', String(m.port), '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=10', '-o', `UserKnownHostsFile=${labKnownHostsFile()}`,
    '-o', 'StrictHostKeyChecking=yes', '-o', 'GlobalKnownHostsFile=/dev/null', `${m.user}@${m.host}`,
    root ? `sudo -S -p '' sh -c ${shellQuote(command)}` : command,
  ], { input: root ? `${options.sudoPassword ?? ''}\n` : (options.input ?? ''), encoding: 'utf8', timeout: 60_000 });
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}${r.error === undefined ? '' : r.error.message}` };
}
