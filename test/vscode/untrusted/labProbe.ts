// What the untrusted-workspace suite looks at outside the extension: the lab nodes through our own
// direct ssh (lab key, pinned known_hosts), each node's sshd log (a login attempt as a user that exists
// nowhere else leaves an "Invalid user" line), and this extension host's own TCP sockets. Also the stand-ins for the window's dialogs, so a test sees every message and question.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { labHome, labKeyFile, labKnownHostsFile, labNodesFile } from '../../../src/core/nodes/localLabPaths';
import type { NodesFile } from '../../../src/core/nodes/nodesFile';
import { sshAsync } from '../../lab/reliabilityHelpers';

/** The local lab's nodes file, or undefined when the lab is not up. */
export function readLabNodes(): NodesFile | undefined {
  try {
    return JSON.parse(fs.readFileSync(labNodesFile(), 'utf8')) as NodesFile;
  } catch {
    return undefined;
  }
}

/** One lab node as ssh reaches it. */
export interface LabHost {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly user: string;
}

/** Runs a shell script on a lab node over our own ssh (not the extension's); resolves with its stdout, rejects on a non-zero exit. */
export async function sshNode(node: LabHost, script: string, timeoutMs = 30_000): Promise<string> {
  const r = await sshAsync(node.host, script, timeoutMs);
  if (r.code !== 0) { throw new Error(`ssh ${node.name}: exit ${r.code} ${r.err}`); }
  return r.out;
}

/** Tries an ssh login as `user` (which does not exist on the node); resolves when ssh gave up. */
export function sshLoginAttempt(node: LabHost, user: string): Promise<void> {
  const args = ['-F', '/dev/null', '-i', labKeyFile(), '-o', 'IdentitiesOnly=yes', '-o', `UserKnownHostsFile=${labKnownHostsFile()}`,
    '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=10', '-p', String(node.port), `${user}@${node.host}`, 'true'];
  return new Promise((resolve) => { execFile('ssh', args, { timeout: 20_000 }, () => { resolve(); }); });
}

/** Lines written to a file since byte `offset` (empty when it is missing). */
export function linesSince(file: string, offset: number): string[] {
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      const buf = Buffer.alloc(Math.max(0, size - offset));
      fs.readSync(fd, buf, 0, buf.length, offset);
      return buf.toString('utf8').split('\n').filter((l) => l !== '');
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return [];
  }
}

/** The sshd log of a local-lab node (written by the lab's sshd; see docs/lab.md). */
export function sshdLogFile(node: string): string {
  return path.join(labHome(), 'nodes', node, 'log', 'sshd.log');
}

/** The size of a file now (0 when missing): where to start reading its new lines later. */
export function fileSize(file: string): number {
  try { return fs.statSync(file).size; } catch { return 0; }
}

function ipv4FromProcHex(hex: string): string {
  // /proc/net/tcp prints the address as the in-memory 32-bit word (little-endian on x86 and arm)
  const n = Number.parseInt(hex, 16);
  return [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, (n >>> 24) & 255].join('.');
}

/**
 * TCP sockets of THIS process (the extension host: the extension's SSH sessions would live here)
 * whose remote end is in `lanPrefix` (e.g. "10.99.0."), as "local port -> ip:port".
 */
export function ownSocketsTo(lanPrefix: string): string[] {
  const inodes = new Set<string>();
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/self/fd/${fd}`));
      if (m?.[1] !== undefined) { inodes.add(m[1]); }
    } catch { /* fd closed meanwhile */ }
  }
  const out: string[] = [];
  for (const line of fs.readFileSync('/proc/self/net/tcp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    const [local, remote, inode] = [f[1], f[2], f[9]];
    if (local === undefined || remote === undefined || inode === undefined || !inodes.has(inode)) { continue; }
    const [rip, rport] = remote.split(':');
    const ip = ipv4FromProcHex(rip ?? '0');
    if (ip.startsWith(lanPrefix)) { out.push(`${Number.parseInt(local.split(':')[1] ?? '0', 16)} -> ${ip}:${Number.parseInt(rport ?? '0', 16)}`); }
  }
  return out;
}

/** Samples {@link ownSocketsTo} every 50 ms until stopped; `seen` keeps every socket ever found. */
export class SocketWatch {
  readonly seen = new Set<string>();
  private readonly timer: NodeJS.Timeout;
  constructor(private readonly lanPrefix: string) {
    this.sample();
    this.timer = setInterval(() => { this.sample(); }, 50);
  }
  sample(): void {
    for (const s of ownSocketsTo(this.lanPrefix)) { this.seen.add(s); }
  }
  stop(): void {
    clearInterval(this.timer);
    this.sample();
  }
}

/** One message or question the extension put up. */
export interface ShownMessage {
  readonly kind: 'info' | 'warning' | 'error' | 'quickPick' | 'inputBox';
  readonly text: string;
  readonly modal: boolean;
  /** The buttons a message offered (titles). */
  readonly actions: readonly string[];
}

/**
 * Replaces the window's message boxes, quick pick and input box while a test runs. Modal questions are
 * answered YES (the first offered action other than "Manage Workspace Trust": the worst case, a user who
 * confirms everything); non-modal ones are dismissed, or answered with `click` when they offer it; a quick
 * pick takes `pick` (or its first item); an input box is cancelled. `restore()` puts the originals back.
 */
export function stubWindow(pick?: string, click?: string): { shown: ShownMessage[]; restore: () => void } {
  const w = vscode.window as unknown as Record<string, unknown>;
  const names = ['showInformationMessage', 'showWarningMessage', 'showErrorMessage', 'showQuickPick', 'showInputBox'] as const;
  const saved = Object.fromEntries(names.map((n) => [n, w[n]]));
  const shown: ShownMessage[] = [];
  const message = (kind: ShownMessage['kind']) => (text: string, ...rest: unknown[]): Promise<unknown> => {
    const options = rest[0];
    const modal = typeof options === 'object' && options !== null && (options as { modal?: unknown }).modal === true;
    const items = rest.filter((i) => typeof i === 'string' || (typeof i === 'object' && i !== null && 'title' in i))
      .map((i) => (typeof i === 'string' ? i : String(i.title)));
    shown.push({ kind, text, modal, actions: items });
    if (!modal) { return Promise.resolve(click !== undefined && items.includes(click) ? click : undefined); }
    return Promise.resolve(items.find((i) => i !== 'Manage Workspace Trust'));
  };
  w['showInformationMessage'] = message('info');
  w['showWarningMessage'] = message('warning');
  w['showErrorMessage'] = message('error');
  w['showQuickPick'] = (items: readonly (string | vscode.QuickPickItem)[] | Thenable<readonly (string | vscode.QuickPickItem)[]>, o?: vscode.QuickPickOptions) =>
    Promise.resolve(items).then((list) => {
      shown.push({ kind: 'quickPick', text: o?.placeHolder ?? '', modal: false, actions: [] });
      return list.find((i) => (typeof i === 'string' ? i : i.label) === pick) ?? list[0];
    });
  w['showInputBox'] = (o?: vscode.InputBoxOptions) => {
    shown.push({ kind: 'inputBox', text: o?.prompt ?? o?.title ?? '', modal: false, actions: [] });
    return Promise.resolve(undefined);
  };
  return { shown, restore: () => { Object.assign(w, saved); } };
}

/**
 * Records the ids of the commands in `ids` run through vscode.commands.executeCommand (by the
 * extension too: it shares this API object) and runs none of them; every other id runs as usual.
 */
export function stubCommands(ids: readonly string[]): { ran: string[]; restore: () => void } {
  const c = vscode.commands as unknown as Record<string, unknown>;
  const original = c['executeCommand'] as (id: string, ...a: unknown[]) => Thenable<unknown>;
  const ran: string[] = [];
  c['executeCommand'] = (id: string, ...a: unknown[]): Thenable<unknown> => {
    if (ids.includes(id)) { ran.push(id); return Promise.resolve(undefined); }
    return original.call(vscode.commands, id, ...a);
  };
  return { ran, restore: () => { c['executeCommand'] = original; } };
}
