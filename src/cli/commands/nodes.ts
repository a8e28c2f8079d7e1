import { LabError, describeError } from '../../core/errors';
import type { Logger } from '../../core/logger';
import { redactingLogger, silentLogger } from '../../core/logger';
import { labKnownHostsFile, labNodesFile } from '../../core/nodes/localLabPaths';
import { parseUserHostPort, targetAddress } from '../../core/nodes/nodeAddress';
import type { NodeConfig } from '../../core/nodes/nodeConfig';
import { nodeConfigSchema, readNodesFile } from '../../core/nodes/nodesFile';
import type { SecretProvider, SecretRequest } from '../../core/ssh/nodeSession';
import { defaultKnownHostsFiles } from '../../core/ssh/nodeSession';
import { sudoRefusedMessage } from '../../core/ssh/sudoAccess';
import { parseCliArgs } from '../cliArgs';
import type { CliCommand, CliIo } from '../cliIo';

/** The variable naming the nodes that may receive the environment's secrets. */
export const secretsForVariable = 'DOCKER_NET_LAB_SECRETS_FOR';

const secretVariables: Record<SecretRequest['kind'], string> = {
  password: 'DOCKER_NET_LAB_PASSWORD', passphrase: 'DOCKER_NET_LAB_PASSPHRASE', sudo: 'DOCKER_NET_LAB_SUDO_PASSWORD',
};

/** One entry of {@link secretsForVariable}: a node name, or a target `user@host:port`. */
type SecretsForEntry = { readonly name: string } | { readonly address: string };

/**
 * Parses {@link secretsForVariable}: comma-separated node names and `user@host[:port]` (port 22 by
 * default). @throws LabError `InvalidInput` naming the entry that is neither.
 */
export function parseSecretsFor(text: string | undefined): SecretsForEntry[] {
  const out: SecretsForEntry[] = [];
  for (const raw of (text ?? '').split(',')) {
    const entry = raw.trim();
    if (entry === '') { continue; }
    if (entry.includes('@')) {
      const a = parseUserHostPort(entry);
      if (!a.ok) { throw new LabError('InvalidInput', `${secretsForVariable}: "${entry}": ${a.message}`); }
      out.push({ address: targetAddress(a) });
    } else if (new RegExp(nodeConfigSchema.properties.name.pattern).test(entry)) {
      out.push({ name: entry });
    } else {
      throw new LabError('InvalidInput', `${secretsForVariable}: "${entry}" is neither a node name nor user@host[:port].`);
    }
  }
  return out;
}

/**
 * Secrets for the CLI, from the environment only (no prompt): `DOCKER_NET_LAB_PASSWORD`,
 * `DOCKER_NET_LAB_PASSPHRASE`, `DOCKER_NET_LAB_SUDO_PASSWORD`, given only to the nodes that
 * `DOCKER_NET_LAB_SECRETS_FOR` names (by name or `user@host[:port]`), so a nodes file with a host
 * the user did not mean never receives them. A missing secret or an unnamed node → the request is
 * refused and the error says what to set.
 * @throws LabError `InvalidInput` when `DOCKER_NET_LAB_SECRETS_FOR` holds an entry that is neither.
 */
export function envSecretProvider(env: NodeJS.ProcessEnv): SecretProvider {
  const allowed = parseSecretsFor(env[secretsForVariable]);
  return {
    getSecret(req) {
      const variable = secretVariables[req.kind];
      const v = env[variable];
      const what = `${req.kind === 'sudo' ? 'sudo password' : req.kind}${req.keyFile === undefined ? '' : ` for ${req.keyFile}`}`;
      const code = req.kind === 'password' ? 'AuthFailed' : 'Cancelled';
      if (req.kind === 'sudo' && (v === undefined || v === '')) {
        // a refusal, not a cancel: the step stops with this sentence
        return Promise.reject(new LabError('SudoFailed', sudoRefusedMessage(req.user, req.host, `no password was given (set ${variable})`), { node: req.node }));
      }
      if (v === undefined || v === '' || req.retry === true) {
        return Promise.reject(new LabError(code, `${req.user}@${req.host} needs a ${what}; set ${variable}.`, { node: req.node }));
      }
      const address = targetAddress(req);
      if (!allowed.some((a) => ('name' in a ? a.name === req.node : a.address === address))) {
        // a refusal, not a cancel: its sentence must reach the user
        return Promise.reject(new LabError(req.kind === 'sudo' ? 'SudoFailed' : 'AuthFailed',
          `${variable} is set, but ${req.node} (${address}) is not named in ${secretsForVariable}: the CLI gives environment secrets only to the nodes named there.`,
          { node: req.node, fix: `If ${address} is meant to get the ${what}, set ${secretsForVariable}=${address} (comma-separated node names or user@host[:port]).` }));
      }
      return Promise.resolve(v);
    },
  };
}

/** The CLI's stderr logger, active with DOCKER_NET_LAB_DEBUG=1 (redacted). */
export function cliLogger(io: CliIo): Logger {
  if (io.env['DOCKER_NET_LAB_DEBUG'] !== '1') { return silentLogger; }
  const w = (lvl: string) => (m: string): void => io.err(`[${lvl}] ${m}\n`);
  return redactingLogger({ trace: w('trace'), debug: w('debug'), info: w('info'), warn: w('warn'), error: w('error') });
}

/** known_hosts files the CLI consults for nodes without pinned fingerprints. */
export function cliKnownHostsFiles(io: CliIo): string[] {
  return [...defaultKnownHostsFiles(), labKnownHostsFile(io.env)];
}

/** Options common to `nodes` and `tree`. */
export interface NodesCliOptions {
  readonly json: boolean;
  readonly nodesFile: string;
  readonly nodes: readonly NodeConfig[];
  readonly timeoutMs: number;
  /** `--watch` (only where the command accepts it). */
  readonly watch: boolean;
}

/**
 * Parses `[--json] [--nodes FILE] [--timeout MS]` (and `--watch` when `watch` is true) and reads the
 * nodes file. @throws LabError `InvalidInput`.
 */
export function parseNodesCliArgs(args: readonly string[], io: CliIo, { watch = false } = {}): NodesCliOptions {
  const { values } = parseCliArgs(args, { json: { type: 'boolean' }, nodes: { type: 'string' }, timeout: { type: 'string' }, watch: { type: 'boolean' } });
  if (values.watch === true && !watch) { throw new LabError('InvalidInput', "Unknown option '--watch' (only `tree` follows changes)."); }
  const timeoutMs = values.timeout === undefined ? 8000 : Number(values.timeout);
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) { throw new LabError('InvalidInput', `--timeout must be a positive number of milliseconds, not "${values.timeout ?? ''}".`); }
  const nodesFile = values.nodes ?? labNodesFile(io.env);
  return { json: values.json === true, nodesFile, nodes: readNodesFile(nodesFile).nodes, timeoutMs, watch: values.watch === true };
}

interface NodeStatus {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly auth: string;
  readonly reachable: boolean;
  readonly dockerVersion?: string;
  readonly transport?: string;
  readonly connectMs?: number;
  readonly error?: { readonly code: string; readonly message: string; readonly fix?: string };
}

/** `docker-net-lab nodes`: lists the configured nodes and whether each is reachable (SSH + Docker API). */
export const nodesCommand: CliCommand = {
  summary: 'list the configured nodes and whether each is reachable over SSH, with its Docker version',
  usage: 'docker-net-lab nodes [--json] [--nodes FILE] [--timeout MS]',
  async run(args, io) {
    const opts = parseNodesCliArgs(args, io);
    const { NodeSession } = await import('../../core/ssh/nodeSession');
    const { DockerEngine } = await import('../../core/docker/dockerEngine');
    const logger = cliLogger(io);
    const statuses = await Promise.all(opts.nodes.map(async (n): Promise<NodeStatus> => {
      const base = { name: n.name, host: n.host, port: n.port, user: n.user, auth: n.auth };
      const session = new NodeSession(n, {
        secrets: envSecretProvider(io.env), knownHostsFiles: cliKnownHostsFiles(io), logger, reconnect: false, readyTimeoutMs: opts.timeoutMs,
      });
      const engine = new DockerEngine(n, session, { logger });
      const t0 = Date.now();
      try {
        await session.connect(io.signal);
        const connectMs = Date.now() - t0;
        try {
          const v = await engine.version();
          return { ...base, reachable: true, connectMs, dockerVersion: v.version, transport: engine.transport };
        } catch (e) {
          const le = e instanceof LabError ? e : undefined;
          return { ...base, reachable: true, connectMs, error: { code: le?.code ?? 'DockerUnavailable', message: describeError(e), ...(le?.fix === undefined ? {} : { fix: le.fix }) } };
        }
      } catch (e) {
        const le = e instanceof LabError ? e : undefined;
        return { ...base, reachable: false, error: { code: le?.code ?? 'Unreachable', message: describeError(e), ...(le?.fix === undefined ? {} : { fix: le.fix }) } };
      } finally {
        engine.dispose();
        session.dispose();
      }
    }));
    if (opts.json) {
      io.out(`${JSON.stringify({ nodesFile: opts.nodesFile, nodes: statuses }, null, 2)}\n`);
    } else {
      for (const s of statuses) {
        const what = s.reachable
          ? `reachable${s.dockerVersion === undefined ? '' : `, docker ${s.dockerVersion} (${s.transport ?? '?'})`}${s.connectMs === undefined ? '' : `, ssh ${s.connectMs} ms`}`
          : 'UNREACHABLE';
        io.out(`${s.name}  ${s.user}@${s.host}:${s.port}  ${s.auth}  ${what}\n`);
        if (s.error !== undefined) {
          io.out(`  ${s.error.code}: ${s.error.message}\n`);
          if (s.error.fix !== undefined) { io.out(`  fix: ${s.error.fix}\n`); }
        }
      }
    }
    return statuses.every((s) => s.reachable && s.error === undefined) ? 0 : 1;
  },
};
