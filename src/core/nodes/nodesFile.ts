import * as fs from 'node:fs';
import Ajv from 'ajv';
import { LabError } from '../errors';
import type { NodeConfig } from './nodeConfig';

/**
 * The nodes file: a JSON document listing the nodes of a lab. The local lab writes one at
 * {@link ../nodes/localLabPaths#labNodesFile}; users may write their own for `--nodes FILE`.
 *
 * ```json
 * { "version": 1, "source": "local-lab",
 *   "nodes": [ { "name": "docker-node1", "host": "10.99.0.11", "port": 22, "user": "root",
 *                "auth": "key", "keyFile": "/var/lib/docker-net-lab/ssh/id_ed25519",
 *                "hostKeyFingerprints": ["SHA256:…"], "docker": { "transport": "ssh", "tcpPort": 2375 } } ] }
 * ```
 */
export interface NodesFile {
  /** Format version, currently 1. */
  readonly version: 1;
  /** Who wrote it: `local-lab` for the provisioner, `user` otherwise. */
  readonly source: 'local-lab' | 'user';
  /** Lab facts written by the local lab (profile, mode, versions); free-form. */
  readonly lab?: Readonly<Record<string, unknown>>;
  /** The nodes, in order (node1 first). */
  readonly nodes: readonly NodeConfig[];
}

const nameRe = '^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$';
// host names (RFC 1123 labels) or IPv4/IPv6 literals; nothing that a shell or ssh could read as an option.
// An IPv6 literal holds a ":" and has either both brackets or none (a lone "[" is a shell glob character).
const hostRe = '^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*|\\[[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*\\])$';

/** JSON schema of a {@link NodeConfig} (also used to validate VS Code settings). */
export const nodeConfigSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'host', 'port', 'user', 'auth'],
  properties: {
    name: { type: 'string', pattern: nameRe },
    host: { type: 'string', pattern: hostRe, maxLength: 253 },
    port: { type: 'integer', minimum: 1, maximum: 65535 },
    user: { type: 'string', pattern: '^[a-z_][a-z0-9_.-]{0,31}$' },
    auth: { enum: ['key', 'agent', 'password'] },
    keyFile: { type: 'string', minLength: 1, maxLength: 4096 },
    hostKeyFingerprints: { type: 'array', items: { type: 'string', pattern: '^SHA256:[A-Za-z0-9+/]{43}=?$' } },
    docker: {
      type: 'object',
      additionalProperties: false,
      required: ['transport'],
      properties: {
        transport: { enum: ['ssh', 'tcp'] },
        tcpPort: { type: 'integer', minimum: 1, maximum: 65535 },
      },
    },
    sudo: { type: 'boolean' },
    facts: {
      type: 'object',
      additionalProperties: false,
      properties: {
        kind: { enum: ['legacy', 'modern', 'vm'] },
        userspace: { type: 'string', maxLength: 200 },
        dockerVersion: { type: 'string', maxLength: 100 },
        etcdVersion: { type: 'string', maxLength: 100 },
      },
    },
  },
} as const;

/** JSON Schema of the nodes file (see {@link NodesFile}). */
export const nodesFileSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['version', 'source', 'nodes'],
  properties: {
    version: { const: 1 },
    source: { enum: ['local-lab', 'user'] },
    lab: { type: 'object' },
    nodes: { type: 'array', items: nodeConfigSchema, minItems: 1, maxItems: 16 },
  },
} as const;

/** A compiled ajv validator (call it, then read `.errors`). */
export type NodeValidator = ReturnType<Ajv['compile']>;
/**
 * Compiled on first use, once: compiling at module load cost the extension ~30 ms of its activation.
 * The file's own fields are checked by a shallow schema and each node by the node schema, so that
 * the node schema is compiled only once.
 */
let validators: { file: NodeValidator; node: NodeValidator } | undefined;
function compiled(): { file: NodeValidator; node: NodeValidator } {
  if (validators === undefined) {
    // validateSchema: false: these schemas are constants, checked against the meta-schema by a unit
    // test; validating them here compiled the meta-schema on every start (~17 ms)
    const ajv = new Ajv({ allErrors: true, validateSchema: false });
    const shallow = { ...nodesFileSchema, properties: { ...nodesFileSchema.properties, nodes: { type: 'array', minItems: 1, maxItems: 16 } } };
    validators = { file: ajv.compile(shallow), node: ajv.compile(nodeConfigSchema) };
  }
  return validators;
}

/**
 * The validator of one node record against {@link nodeConfigSchema} (compiled on first use and
 * shared), for callers that turn its structured errors into their own messages.
 */
export function nodeConfigValidator(): NodeValidator { return compiled().node; }

function ajvMessage(errors: NodeValidator['errors'], under = ''): string {
  return (errors ?? []).map((e) => `${under + e.instancePath === '' ? '(top)' : under + e.instancePath} ${e.message ?? 'is invalid'}`).join('; ');
}

/**
 * Validates one node record (from settings, user input or a file).
 * @throws LabError `InvalidSettings` naming the field and the problem.
 */
export function parseNodeConfig(value: unknown, where = 'node'): NodeConfig {
  const validateNode = compiled().node;
  if (!validateNode(value)) {
    throw new LabError('InvalidSettings', `${where}: ${ajvMessage(validateNode.errors)}.`);
  }
  return checkNodeRules(value as NodeConfig, where);
}

/** What the schema cannot say about a valid node record. @throws LabError `InvalidSettings`. */
function checkNodeRules(node: NodeConfig, where: string): NodeConfig {
  if (node.auth === 'key' && node.keyFile === undefined) {
    throw new LabError('InvalidSettings', `${where}: auth "key" needs a keyFile.`);
  }
  return node;
}

/**
 * Parses and validates the text of a nodes file.
 * @param file the file name, used in error messages.
 * @throws LabError `InvalidNodesFile` naming the file and the field.
 */
export function parseNodesFile(text: string, file: string): NodesFile {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new LabError('InvalidNodesFile', `${file} is not valid JSON: ${(e as Error).message}.`, { cause: e });
  }
  const validateNodesFile = compiled().file;
  if (!validateNodesFile(data)) {
    throw new LabError('InvalidNodesFile', `${file}: ${ajvMessage(validateNodesFile.errors)}.`);
  }
  const parsed = data as NodesFile;
  const names = new Set<string>();
  const validateNode = compiled().node;
  for (const [i, n] of parsed.nodes.entries()) {
    if (!validateNode(n)) {
      throw new LabError('InvalidNodesFile', `${file}: ${ajvMessage(validateNode.errors, `/nodes/${i}`)}.`);
    }
    checkNodeRules(n, `${file}: /nodes/${i}`);
    if (names.has(n.name)) {
      throw new LabError('InvalidNodesFile', `${file}: /nodes/${i}/name "${n.name}" is used twice.`);
    }
    names.add(n.name);
  }
  return parsed;
}

/**
 * Reads a nodes file from disk.
 * @throws LabError `LabNotRunning` when the file does not exist, `InvalidNodesFile` when it is malformed.
 */
export function readNodesFile(file: string): NodesFile {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new LabError('LabNotRunning', `No nodes file at ${file}.`, {
        cause: e,
        fix: 'Start the local lab with "docker-net-lab lab up" (Linux, root), or pass --nodes FILE for your own machines.',
      });
    }
    throw new LabError('InvalidNodesFile', `Cannot read ${file}: ${(e as Error).message}.`, { cause: e });
  }
  return parseNodesFile(text, file);
}

/** Serialises a nodes file (stable key order, trailing newline). */
export function formatNodesFile(file: NodesFile): string {
  return `${JSON.stringify(file, null, 2)}\n`;
}
