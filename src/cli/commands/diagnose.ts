import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import type { Finding } from '../../core/diagnostics/ruleTypes';
import { LabError } from '../../core/errors';
import { displayJson, displayText } from '../../core/util/displayText';
import { parseCliArgs } from '../cliArgs';
import type { CliCommand, CliIo } from '../cliIo';

const usage = 'docker-net-lab diagnose [FILE|-] [--json] [--node NAME] [--own-ip IP] [--peer-ip IP] [--apply [--yes]]\n       docker-net-lab diagnose --state [--json] [--nodes FILE] [--timeout MS] [--apply [--yes]]';

/** `docker-net-lab diagnose`: finds the known error messages in a log or command output and explains them. */
export const diagnoseCommand: CliCommand = {
  summary: 'explain the known Docker/etcd errors in a log or command output (a file, or stdin with -)',
  usage,
  async run(args, io) {
    const parsed = parseCliArgs(args, {
      json: { type: 'boolean' }, node: { type: 'string' }, 'own-ip': { type: 'string' }, 'peer-ip': { type: 'string' },
      state: { type: 'boolean' }, nodes: { type: 'string' }, timeout: { type: 'string' },
      apply: { type: 'boolean' }, yes: { type: 'boolean' },
    }, { positionals: true, usage });
    if (parsed.values.state === true) {
      if (parsed.positionals.length > 0) { throw new LabError('InvalidInput', `--state reads the nodes, not a file.\nusage: ${usage}`); }
      const nodeArgs = [
        ...(parsed.values.nodes === undefined ? [] : ['--nodes', parsed.values.nodes]),
        ...(parsed.values.timeout === undefined ? [] : ['--timeout', parsed.values.timeout]),
      ];
      const apply = parsed.values.apply === true ? { yes: parsed.values.yes === true, nodes: parsed.values.nodes } : undefined;
      return runStateDiagnosis(nodeArgs, parsed.values.json === true, io, apply);
    }
    if (parsed.positionals.length > 1) { throw new LabError('InvalidInput', `one file at most.\nusage: ${usage}`); }
    const file = parsed.positionals[0] ?? '-';
    const context: Record<string, string> = {};
    if (parsed.values.node !== undefined) { context['node'] = parsed.values.node; }
    if (parsed.values['own-ip'] !== undefined) { context['ownIp'] = parsed.values['own-ip']; }
    if (parsed.values['peer-ip'] !== undefined) { context['peerIp'] = parsed.values['peer-ip']; }
    const { DiagnosticMatcher } = await import('../../core/diagnostics/matcher');
    const { findingsToJson, formatFindings } = await import('../../core/diagnostics/formatFindings');
    const matcher = new DiagnosticMatcher({ context });
    const stream: Readable = file === '-' ? process.stdin : createReadStream(file, { highWaterMark: 1 << 20 });
    stream.setEncoding('utf8');
    try {
      for await (const chunk of stream) {
        if (io.signal.aborted) { throw new LabError('Cancelled', 'The operation was cancelled.'); }
        matcher.feed(chunk as string);
      }
    } catch (e) {
      if (e instanceof LabError) { throw e; }
      throw new LabError('InvalidInput', `cannot read ${file}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
    matcher.end();
    const findings = matcher.findings();
    io.out(parsed.values.json === true ? `${displayJson(findingsToJson(findings))}\n` : formatFindings(findings, file === '-' ? '<stdin>' : file));
    if (parsed.values.apply === true) {
      const { applyFindings } = await import('./diagnoseApply');
      return applyFindings(findings, io, { node: parsed.values.node, yes: parsed.values.yes === true, nodes: parsed.values.nodes });
    }
    return 0;
  },
};

/** `diagnose --state`: gathers node facts over SSH and prints the state checks' findings. */
async function runStateDiagnosis(nodeArgs: readonly string[], json: boolean, io: CliIo, apply?: { yes: boolean; nodes: string | undefined }): Promise<number> {
  const { cliKnownHostsFiles, cliLogger, envSecretProvider, parseNodesCliArgs } = await import('./nodes');
  const opts = parseNodesCliArgs(nodeArgs, io);
  const { createShellProvider } = await import('../../core/ssh/sessionPool');
  const { checkLabState } = await import('../../core/diagnostics/stateChecks');
  const { findingsToJson, formatFindings } = await import('../../core/diagnostics/formatFindings');
  const pool = createShellProvider(opts.nodes, {
    secrets: envSecretProvider(io.env), knownHostsFiles: cliKnownHostsFiles(io), logger: cliLogger(io), readyTimeoutMs: opts.timeoutMs, reconnect: false,
  });
  let findings: Finding[];
  let unchecked: number;
  try {
    const hosts = new Map(opts.nodes.map((n) => [n.name, n.host]));
    const result = await checkLabState(pool, (node) => hosts.get(node), io.signal);
    unchecked = result.nodes.filter((n) => n.error !== undefined).length;
    if (json) {
      io.out(`${displayJson({ nodes: result.nodes, findings: findingsToJson(result.findings) })}\n`);
    } else {
      for (const n of result.nodes) {
        io.out(displayText(n.error === undefined
          ? `${n.node}: Docker ${n.facts?.dockerVersion ?? '?'}, etcd ${n.facts?.etcdVersion ?? '-'}, kernel ${n.facts?.kernel ?? '?'}, hostname ${n.facts?.hostname ?? '?'}`
          : `${n.node}: error (${n.error.code}): ${n.error.message}`) + '\n');
      }
      const checked = result.nodes.length - unchecked;
      io.out(formatFindings(result.findings, unchecked === 0 ? 'lab state' : `lab state of ${checked} of ${result.nodes.length} node(s)`));
      if (unchecked > 0) { io.err(`${unchecked} node(s) could not be checked (see the errors above): their state is unknown.\n`); }
    }
    findings = result.findings;
  } finally {
    pool.dispose();
  }
  const stateCode = unchecked === 0 ? 0 : 1;
  if (apply === undefined) { return stateCode; }
  const { applyFindings } = await import('./diagnoseApply');
  return Math.max(stateCode, await applyFindings(findings, io, apply));
}
