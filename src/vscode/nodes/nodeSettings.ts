// Pure (no vscode import): reading the `dockerNetLab.nodes` setting and the local lab's nodes file into
// one list of nodes plus per-entry problems, and parsing what the user types in "Add Node".
import * as path from 'node:path';
import { isLabError } from '../../core/errors';
import type { NodeConfig } from '../../core/nodes/nodeConfig';
import { nodeConfigSchema, nodeConfigValidator, parseNodeConfig } from '../../core/nodes/nodesFile';

/** Where a configured node comes from. */
export type NodeOrigin = 'localLab' | 'settings';

/** Which settings scope the `dockerNetLab.nodes` value in effect comes from. */
export type SettingsScope = 'user' | 'workspace';

/** A valid configured node and where it was defined. */
export interface ConfiguredNode {
  readonly config: NodeConfig;
  readonly origin: NodeOrigin;
  /** Index in the `dockerNetLab.nodes` array (settings nodes only). */
  readonly index?: number;
  /** The settings scope (settings nodes only). */
  readonly scope?: SettingsScope;
  /**
   * `hostKeyFingerprints` written in the workspace settings: not trusted (a workspace must not make
   * a host key accepted), so they are left out of {@link config} and the key is checked against
   * known_hosts or asked like any unknown key.
   */
  readonly ignoredFingerprints?: readonly string[];
}

/** A malformed entry: shown as an error item; the other nodes keep working. */
export interface NodeConfigProblem {
  /** `dockerNetLab.nodes` or the lab nodes file name. */
  readonly source: string;
  /** Index of the entry in the array, -1 when the whole value/file is wrong. */
  readonly index: number;
  /** The offending field (`port`, `host`, …), or `(entry)` when the entry itself is wrong. */
  readonly field: string;
  /** One sentence saying what is wrong. */
  readonly message: string;
}

/** The merged node configuration. */
export interface NodesConfiguration {
  readonly nodes: readonly ConfiguredNode[];
  readonly problems: readonly NodeConfigProblem[];
}

/** The settings key holding the user's nodes. */
export const nodesSettingKey = 'dockerNetLab.nodes';

/** The settings key naming the OpenSSH client config that "Add Node" offers hosts from. */
export const sshConfigFileSettingKey = 'dockerNetLab.sshConfigFile';

/** The ssh config file "Add Node" reads: the setting's value with `~` expanded, or `<home>/.ssh/config` when it is empty. */
export function sshConfigFilePath(setting: unknown, home: string): string {
  const v = typeof setting === 'string' ? setting.trim() : '';
  if (v === '') { return path.join(home, '.ssh', 'config'); }
  if (v === '~') { return home; }
  return v.startsWith('~/') ? path.join(home, v.slice(2)) : path.resolve(home, v);
}

/** The first offending field of an entry and a sentence about it (structured ajv errors, not message text). */
export function describeNodeProblem(value: unknown): { field: string; message: string } | undefined {
  const fieldValidator = nodeConfigValidator();
  if (fieldValidator(value)) {
    const auth = (value as { auth?: unknown }).auth;
    const keyFile = (value as { keyFile?: unknown }).keyFile;
    if (auth === 'key' && keyFile === undefined) { return { field: 'keyFile', message: 'auth "key" needs a keyFile' }; }
    return undefined;
  }
  const err = fieldValidator.errors?.[0];
  if (err === undefined) { return { field: '(entry)', message: 'is invalid' }; }
  const params = err.params as { missingProperty?: string; additionalProperty?: string };
  if (err.keyword === 'required' && params.missingProperty !== undefined) {
    return { field: params.missingProperty, message: `"${params.missingProperty}" is missing` };
  }
  if (err.keyword === 'additionalProperties' && params.additionalProperty !== undefined) {
    const secretLike = /pass|secret|token/i.test(params.additionalProperty);
    return {
      field: params.additionalProperty,
      message: secretLike
        ? `"${params.additionalProperty}" is not allowed: secrets are never kept in settings (the extension asks and stores them in the OS keychain)`
        : `"${params.additionalProperty}" is not a known field`,
    };
  }
  const field = err.instancePath === '' ? '(entry)' : err.instancePath.slice(1).replace(/\//g, '.');
  return { field, message: `${field === '(entry)' ? 'entry' : `"${field}"`} ${err.message ?? 'is invalid'}` };
}

/** The scopes of the setting as `WorkspaceConfiguration.inspect()` returns them. */
export interface NodesSettingInspection {
  readonly globalValue?: unknown;
  readonly workspaceValue?: unknown;
  readonly workspaceFolderValue?: unknown;
}

/**
 * The `dockerNetLab.nodes` value in effect and its scope: the folder's, else the workspace's, else
 * the user's (VS Code's order). In an untrusted workspace only the user's value counts.
 */
export function nodesSettingValue(inspected: NodesSettingInspection | undefined, trusted: boolean): { value: unknown; scope: SettingsScope } {
  if (trusted && inspected?.workspaceFolderValue !== undefined) { return { value: inspected.workspaceFolderValue, scope: 'workspace' }; }
  if (trusted && inspected?.workspaceValue !== undefined) { return { value: inspected.workspaceValue, scope: 'workspace' }; }
  return { value: inspected?.globalValue, scope: 'user' };
}

/**
 * Merges the local lab's nodes (first, when present) and the settings array. Every malformed or
 * duplicate settings entry becomes a {@link NodeConfigProblem}; valid entries are kept. Nodes from
 * the `workspace` scope lose their `hostKeyFingerprints` (see {@link ConfiguredNode.ignoredFingerprints}).
 */
export function readNodesConfiguration(settingsValue: unknown, labNodes: readonly NodeConfig[] | undefined, scope: SettingsScope = 'user'): NodesConfiguration {
  const nodes: ConfiguredNode[] = [];
  const problems: NodeConfigProblem[] = [];
  const names = new Set<string>();
  for (const config of labNodes ?? []) {
    nodes.push({ config, origin: 'localLab' });
    names.add(config.name);
  }
  if (settingsValue === undefined || settingsValue === null) { return { nodes, problems }; }
  if (!Array.isArray(settingsValue)) {
    problems.push({ source: nodesSettingKey, index: -1, field: '(value)', message: `${nodesSettingKey} must be an array of nodes` });
    return { nodes, problems };
  }
  for (const [index, entry] of (settingsValue as unknown[]).entries()) {
    const where = `${nodesSettingKey}[${index}]`;
    const problem = describeNodeProblem(entry);
    if (problem !== undefined) {
      problems.push({ source: nodesSettingKey, index, field: problem.field, message: `${where}: ${problem.message}.` });
      continue;
    }
    let config: NodeConfig;
    try {
      config = parseNodeConfig(entry, where);
    } catch (e) {
      if (!isLabError(e)) { throw e; }
      problems.push({ source: nodesSettingKey, index, field: '(entry)', message: e.message });
      continue;
    }
    if (names.has(config.name)) {
      problems.push({ source: nodesSettingKey, index, field: 'name', message: `${where}: the name "${config.name}" is already used by another node.` });
      continue;
    }
    names.add(config.name);
    const pins = config.hostKeyFingerprints;
    if (scope === 'workspace' && pins !== undefined) {
      const { hostKeyFingerprints: _ignored, ...unpinned } = config;
      nodes.push({ config: unpinned, origin: 'settings', index, scope, ignoredFingerprints: pins });
    } else {
      nodes.push({ config, origin: 'settings', index, scope });
    }
  }
  return { nodes, problems };
}

export type { ParsedAddress } from '../../core/nodes/nodeAddress';
export { parseUserHostPort } from '../../core/nodes/nodeAddress';

/** A node name derived from a host (valid against the schema), made unique against `taken`. */
export function suggestNodeName(host: string, taken: ReadonlySet<string>): string {
  let base = host.replace(/[^A-Za-z0-9._-]/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 56);
  if (base === '') { base = 'node'; }
  let name = base;
  for (let i = 2; taken.has(name); i++) { name = `${base}-${i}`; }
  return name;
}

/** True when `name` is a valid, unused node name; otherwise the sentence saying why not. */
export function validateNodeName(name: string, taken: ReadonlySet<string>): string | undefined {
  if (!new RegExp(nodeConfigSchema.properties.name.pattern).test(name)) {
    return 'Use 1–63 letters, digits, ".", "_" or "-", starting with a letter or digit.';
  }
  return taken.has(name) ? `A node named "${name}" already exists.` : undefined;
}
