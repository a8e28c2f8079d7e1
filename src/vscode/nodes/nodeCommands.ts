import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { LabError } from '../../core/errors';
import type { AuthMethod, NodeConfig } from '../../core/nodes/nodeConfig';
import { importSshConfigFile } from '../../core/ssh/sshConfigImport';
import { registerCommand } from '../commands/registry';
import { inspectUri } from './inspectDocuments';
import { nodeCommandIds as ids } from './nodeCommandIds';
import type { NodeServices } from './nodeServices';
import { nodesSettingKey, parseUserHostPort, sshConfigFilePath, sshConfigFileSettingKey, suggestNodeName, validateNodeName } from './nodeSettings';
import type { NodeTerminals } from './nodeTerminals';
import type { NodesElement } from './nodesViewModel';
import { containerAddresses } from './nodesViewModel';

function isElement(a: unknown): a is NodesElement {
  return typeof a === 'object' && a !== null && typeof (a as { kind?: unknown }).kind === 'string';
}

function assertTrusted(): void {
  if (!vscode.workspace.isTrusted) {
    throw new LabError('NotSupported', 'This workspace is not trusted: nothing runs on the nodes. Use "Manage Workspace Trust" to trust it.');
  }
}

/** The node a command applies to: from a tree item, a node name argument, or a quick pick. */
async function pickNode(services: NodeServices, arg: unknown, placeHolder: string, filter?: (name: string) => boolean): Promise<string> {
  if (typeof arg === 'string') { return arg; }
  if (isElement(arg) && 'node' in arg && typeof arg.node === 'string') { return arg.node; }
  const names = services.configuration().nodes.map((n) => n.config.name).filter((n) => filter === undefined || filter(n));
  if (names.length === 0) { throw new LabError('NotFound', 'No node to choose from. Add one with "Add Node".'); }
  if (names.length === 1 && names[0] !== undefined) { return names[0]; }
  const snap = services.snapshot();
  const chosen = await vscode.window.showQuickPick(names.map((n) => {
    const rec = snap.nodes.find((x) => x.name === n);
    return { label: n, description: rec === undefined ? '' : `${rec.host} · ${rec.state}` };
  }), { placeHolder });
  if (chosen === undefined) { throw new LabError('Cancelled', 'Cancelled.'); }
  return chosen.label;
}

function settingsEntries(): unknown[] {
  const v = vscode.workspace.getConfiguration().inspect<unknown>(nodesSettingKey)?.globalValue;
  return Array.isArray(v) ? [...(v as unknown[])] : [];
}

async function writeSettingsEntries(entries: unknown[]): Promise<void> {
  const where = vscode.workspace.getConfiguration().inspect<unknown>(nodesSettingKey);
  if (where?.workspaceValue !== undefined || where?.workspaceFolderValue !== undefined) {
    // a workspace value replaces the user value as a whole (arrays are not merged): a user-level write would not show
    throw new LabError('NotSupported', `${nodesSettingKey} is set in this workspace's settings, which override your user settings; edit it there (Open Node Settings).`);
  }
  await vscode.workspace.getConfiguration().update(nodesSettingKey, entries, vscode.ConfigurationTarget.Global);
}

/** The settings index of a user node; lab nodes are refused with a clear message. */
function userNodeIndex(services: NodeServices, node: string): number {
  const entry = services.configuration().nodes.find((n) => n.config.name === node);
  if (entry === undefined) { throw new LabError('NotFound', `No node named "${node}" is configured.`); }
  if (entry.origin === 'localLab' || entry.index === undefined) {
    throw new LabError('NotSupported', `${node} is defined by the local lab's nodes file; "docker-net-lab lab up" writes it. Turn off "dockerNetLab.useLocalLab" to hide the lab nodes.`);
  }
  const entries = settingsEntries();
  const at = entries.findIndex((e) => typeof e === 'object' && e !== null && (e as { name?: unknown }).name === node);
  if (at < 0) { throw new LabError('NotSupported', `${node} is not in your user settings (it may be a workspace setting); edit it in settings.json.`); }
  return at;
}

async function askAddress(value?: string): Promise<{ user: string; host: string; port: number }> {
  const text = await vscode.window.showInputBox({
    title: 'Node address',
    prompt: 'user@host or user@host:port (SSH)',
    placeHolder: 'root@docker-node1:22',
    ignoreFocusOut: true,
    ...(value === undefined ? {} : { value }),
    validateInput: (t) => { const r = parseUserHostPort(t); return r.ok ? undefined : r.message; },
  });
  if (text === undefined) { throw new LabError('Cancelled', 'Cancelled.'); }
  const r = parseUserHostPort(text);
  if (!r.ok) { throw new LabError('InvalidInput', r.message); }
  return { user: r.user, host: r.host, port: r.port };
}

async function askAuth(current?: NodeConfig): Promise<{ auth: AuthMethod; keyFile?: string }> {
  const items: (vscode.QuickPickItem & { auth: AuthMethod })[] = [
    { label: '$(key) Private key file', description: 'auth: key', auth: 'key' },
    { label: '$(shield) ssh-agent', description: 'auth: agent (SSH_AUTH_SOCK)', auth: 'agent' },
    { label: '$(lock) Password', description: 'auth: password — asked when connecting, kept in the OS keychain', auth: 'password' },
  ];
  const picked = await vscode.window.showQuickPick(items, { title: 'How to log in', placeHolder: current === undefined ? 'Authentication' : `Currently: ${current.auth}`, ignoreFocusOut: true });
  if (picked === undefined) { throw new LabError('Cancelled', 'Cancelled.'); }
  if (picked.auth !== 'key') { return { auth: picked.auth }; }
  const files = await vscode.window.showOpenDialog({
    title: 'Private key file',
    defaultUri: vscode.Uri.file(current?.keyFile ?? path.join(os.homedir(), '.ssh')),
    canSelectMany: false,
    openLabel: 'Use this key',
  });
  const file = files?.[0];
  if (file === undefined) { throw new LabError('Cancelled', 'Cancelled.'); }
  return { auth: 'key', keyFile: file.fsPath };
}

async function addNode(services: NodeServices, log: vscode.LogOutputChannel): Promise<void> {
  const taken = new Set(services.configuration().nodes.map((n) => n.config.name));
  const configFile = sshConfigFilePath(vscode.workspace.getConfiguration().get<string>(sshConfigFileSettingKey), os.homedir());
  const imported = importSshConfigFile(configFile);
  for (const s of imported.skipped) { log.warn(`Add Node: ${configFile}: Host ${s.alias} skipped: ${s.reason}`); }
  type Item = vscode.QuickPickItem & { node?: NodeConfig };
  const items: Item[] = [{ label: '$(edit) Type user@host:port…', alwaysShow: true }];
  const fromConfig = imported.nodes.filter((n) => !taken.has(n.name));
  if (fromConfig.length > 0) {
    items.push({ label: configFile, kind: vscode.QuickPickItemKind.Separator });
    items.push(...fromConfig.map((n): Item => ({
      label: `$(server) ${n.name}`, description: `${n.user}@${n.host}:${n.port} · ${n.auth}${n.sudo === true ? ' · sudo' : ''}`, node: n,
    })));
  }
  const picked = await vscode.window.showQuickPick(items, { title: 'Add Node', placeHolder: `A host from ${configFile}, or type an address`, ignoreFocusOut: true });
  if (picked === undefined) { throw new LabError('Cancelled', 'Cancelled.'); }
  let node: NodeConfig;
  if (picked.node !== undefined) {
    node = picked.node;
  } else {
    const addr = await askAddress();
    const name = await vscode.window.showInputBox({
      title: 'Node name', value: suggestNodeName(addr.host, taken), ignoreFocusOut: true,
      validateInput: (t) => validateNodeName(t, taken),
    });
    if (name === undefined) { throw new LabError('Cancelled', 'Cancelled.'); }
    const auth = await askAuth();
    node = { name, ...addr, ...auth };
  }
  await writeSettingsEntries([...settingsEntries(), { ...node }]);
  void vscode.window.showInformationMessage(`Added ${node.name} (${node.user}@${node.host}:${node.port}) to ${nodesSettingKey}.`);
  services.reloadConfiguration(); // the change event may come later; the new node must be known now
  if (vscode.workspace.isTrusted) { await services.connect(node.name); }
}

async function editNode(services: NodeServices, arg: unknown): Promise<void> {
  const node = await pickNode(services, arg, 'Node to edit', (n) => !services.labNodeNames().has(n));
  const at = userNodeIndex(services, node);
  const current = services.nodeConfig(node);
  const addr = await askAddress(`${current.user}@${current.host.includes(':') ? `[${current.host}]` : current.host}:${current.port}`);
  const auth = await askAuth(current);
  const entries = settingsEntries();
  const old = entries[at] as Record<string, unknown>;
  const next: Record<string, unknown> = { ...old, user: addr.user, host: addr.host, port: addr.port, auth: auth.auth };
  if (auth.keyFile === undefined) { delete next['keyFile']; } else { next['keyFile'] = auth.keyFile; }
  if (addr.host !== current.host || addr.port !== current.port) { delete next['hostKeyFingerprints']; }
  entries[at] = next;
  await services.secrets.forget(current);
  await writeSettingsEntries(entries);
}

async function removeNode(services: NodeServices, arg: unknown): Promise<void> {
  const node = await pickNode(services, arg, 'Node to remove', (n) => !services.labNodeNames().has(n));
  const at = userNodeIndex(services, node);
  const ok = await vscode.window.showWarningMessage(`Remove the node ${node}?`, {
    modal: true, detail: 'It is removed from your settings and its saved password/passphrase is forgotten. Nothing changes on the machine.',
  }, 'Remove');
  if (ok !== 'Remove') { return; }
  await services.disconnect(node).catch(() => undefined);
  await services.secrets.forget(services.nodeConfig(node));
  const entries = settingsEntries();
  entries.splice(at, 1);
  await writeSettingsEntries(entries);
}

async function showHostKeyFix(services: NodeServices, arg: unknown): Promise<void> {
  const node = await pickNode(services, arg, 'Node');
  const err = services.snapshot().nodes.find((n) => n.name === node)?.error;
  const detail = err === undefined ? 'The node has no host-key problem right now.' : `${err.message}${err.fix === undefined ? '' : `\n\nFix: ${err.fix}`}`;
  const copy = 'Copy Fix';
  const choice = await vscode.window.showWarningMessage(`Host key of ${node}`, { modal: true, detail }, ...(err?.fix === undefined ? [] : [copy]));
  if (choice === copy && err?.fix !== undefined) { await vscode.env.clipboard.writeText(err.fix); }
}

function containerOf(services: NodeServices, arg: unknown): { node: string; id: string; name: string } {
  if (isElement(arg) && (arg.kind === 'container' || arg.kind === 'member')) {
    const c = services.snapshot().nodes.find((n) => n.name === arg.node)?.containers.find((x) => x.id === arg.containerId);
    return { node: arg.node, id: arg.containerId, name: c?.name ?? arg.containerId.slice(0, 12) };
  }
  throw new LabError('InvalidInput', 'Choose a container in the Lab Nodes view.');
}

function networkOf(services: NodeServices, arg: unknown): { node: string; id: string; name: string; subnets: readonly string[] } {
  if (isElement(arg) && arg.kind === 'network') {
    const snap = services.snapshot();
    const net = arg.node === undefined
      ? snap.multiHostNetworks.find((n) => n.id === arg.networkId)
      : snap.nodes.find((n) => n.name === arg.node)?.networks.find((n) => n.id === arg.networkId);
    const node = arg.node ?? net?.nodes[0];
    if (net === undefined || node === undefined) { throw new LabError('NotFound', 'That network is gone.'); }
    return { node, id: net.id, name: net.name, subnets: net.subnets };
  }
  throw new LabError('InvalidInput', 'Choose a network in the Lab Nodes view.');
}

async function openInspect(uri: vscode.Uri): Promise<void> {
  const doc = await vscode.workspace.openTextDocument(uri);
  await vscode.languages.setTextDocumentLanguage(doc, 'json');
  await vscode.window.showTextDocument(doc, { preview: true });
}

/** Registers the commands of the Lab Nodes view. */
export function registerNodeCommands(context: vscode.ExtensionContext, log: vscode.LogOutputChannel, services: NodeServices, terminals: NodeTerminals): void {
  const reg = (id: (typeof ids)[keyof typeof ids], f: (arg: unknown) => unknown): void => { registerCommand(context, log, id, (arg: unknown) => f(arg)); };
  reg(ids.nodeAdd, () => addNode(services, log));
  reg(ids.nodeEdit, (a) => editNode(services, a));
  reg(ids.nodeRemove, (a) => removeNode(services, a));
  reg(ids.nodeConnect, async (a) => { assertTrusted(); await services.connect(await pickNode(services, a, 'Node to connect')); });
  reg(ids.nodeDisconnect, async (a) => { await services.disconnect(await pickNode(services, a, 'Node to disconnect')); });
  reg(ids.nodeRefresh, async (a) => { assertTrusted(); await services.refresh(await pickNode(services, a, 'Node to refresh')); });
  reg(ids.nodesRefresh, async () => {
    services.reloadConfiguration();
    if (!vscode.workspace.isTrusted) { return; }
    if (services.started) { await services.refresh(); } else { await services.connect(); }
  });
  reg(ids.nodesConnectAll, async () => { assertTrusted(); await services.connect(); });
  reg(ids.nodeOpenTerminal, async (a) => { assertTrusted(); terminals.open(await pickNode(services, a, 'Open a terminal on')); });
  reg(ids.nodeShowHostKeyFix, (a) => showHostKeyFix(services, a));
  reg(ids.nodeOpenSettings, () => vscode.commands.executeCommand('workbench.action.openSettings', nodesSettingKey));
  reg(ids.nodeForgetSecret, async (a) => {
    const node = await pickNode(services, a, 'Forget the saved secrets of');
    await services.secrets.forget(services.nodeConfig(node));
    void vscode.window.showInformationMessage(`Forgot the saved password/passphrase of ${node}.`);
  });
  reg(ids.networkInspect, async (a) => { assertTrusted(); const n = networkOf(services, a); await openInspect(inspectUri(n.node, 'network', n.id, n.name)); });
  reg(ids.containerInspect, async (a) => { assertTrusted(); const c = containerOf(services, a); await openInspect(inspectUri(c.node, 'container', c.id, c.name)); });
  reg(ids.networkCopySubnet, async (a) => {
    const n = networkOf(services, a);
    if (n.subnets.length === 0) { throw new LabError('NotFound', `${n.name} has no subnet.`); }
    await vscode.env.clipboard.writeText(n.subnets.join(' '));
  });
  reg(ids.containerCopyAddress, async (a) => {
    const c = containerOf(services, a);
    const rec = services.snapshot().nodes.find((n) => n.name === c.node)?.containers.find((x) => x.id === c.id);
    const addrs = rec === undefined ? [] : containerAddresses(rec);
    if (addrs.length === 0) { throw new LabError('NotFound', `${c.name} has no IPv4 address.`); }
    let addr = addrs[0];
    if (addrs.length > 1) {
      addr = await vscode.window.showQuickPick(addrs, { placeHolder: `Address of ${c.name} to copy` });
      if (addr === undefined) { return; }
    }
    if (addr !== undefined) { await vscode.env.clipboard.writeText(addr); }
  });
  reg(ids.containerOpenTerminal, (a) => { assertTrusted(); const c = containerOf(services, a); terminals.open(c.node, { id: c.id, name: c.name }); });
}
