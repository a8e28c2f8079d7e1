import { LabError } from '../../core/errors';
import type { LabDefinition, OverlayPath } from '../../core/lab/labDefinition';
import { overlayPaths } from '../../core/lab/labDefinition';
import { minimumKernelFromEnv } from '../../core/lab/kernelPlan';
import type { ConfirmRequest, RunEvent, StepResult, StepRunner } from '../../core/lab/stepRunner';
import type { ProgressStore } from '../../core/lab/progressStore';
import { labNodesFile } from '../../core/nodes/localLabPaths';
import type { NodesFile } from '../../core/nodes/nodesFile';
import { readNodesFile } from '../../core/nodes/nodesFile';
import { parseCliArgs, stepIdOrAll } from '../cliArgs';
import type { CliCommand, CliIo } from '../cliIo';
import { cliKnownHostsFiles, cliLogger, envSecretProvider } from './nodes';

/** Everything a guided-lab CLI command works with. Call `dispose()` at the end. */
export interface LabCliSession {
  readonly lab: LabDefinition;
  readonly nodesFile: NodesFile;
  readonly progress: ProgressStore;
  readonly runner: StepRunner;
  dispose(): void;
}

/** Loads the lab and the progress (no connection yet). */
export async function loadLabAndProgress(io: CliIo, nodesPath: string | undefined): Promise<{ lab: LabDefinition; nodesFile: NodesFile; progress: ProgressStore }> {
  const { loadLab, defaultLabDir } = await import('../../core/lab/loadLab');
  const { ProgressStore, defaultProgressFile, progressKey } = await import('../../core/lab/progressStore');
  const lab = loadLab(io.env['DOCKER_NET_LAB_LAB_DIR'] ?? defaultLabDir());
  const nodesFile = readNodesFile(nodesPath ?? labNodesFile(io.env));
  const file = io.env['DOCKER_NET_LAB_PROGRESS'] ?? defaultProgressFile(nodesFile.source === 'local-lab', io.env);
  const progress = new ProgressStore(file, progressKey(lab.id, nodesFile.nodes.map((n) => n.host)), {
    onWarning: (message) => io.err(`docker-net-lab: ${message}\n`),
  });
  return { lab, nodesFile, progress };
}

/**
 * Opens the lab for a CLI command: lab files, nodes file, progress file, SSH sessions and a runner whose
 * events stream to the terminal. `yes` answers every confirmation; otherwise a TTY is asked.
 */
export async function openLabSession(io: CliIo, opts: { nodes?: string | undefined; yes: boolean; path?: OverlayPath | undefined; json?: boolean }): Promise<LabCliSession> {
  const { lab, nodesFile, progress } = await loadLabAndProgress(io, opts.nodes);
  const { createShellProvider } = await import('../../core/ssh/sessionPool');
  const { StepRunner } = await import('../../core/lab/stepRunner');
  const shells = createShellProvider(nodesFile.nodes, {
    secrets: envSecretProvider(io.env), knownHostsFiles: cliKnownHostsFiles(io), logger: cliLogger(io),
    reconnect: { maxAttempts: 3 },
  });
  const printer = opts.json === true ? (): void => undefined : eventPrinter(io);
  const minimumKernel = minimumKernelFromEnv(io.env);
  const runner = new StepRunner({
    lab, shells, progress,
    hosts: Object.fromEntries(nodesFile.nodes.map((n) => [n.name, n.host])),
    onEvent: printer,
    confirm: (req) => confirmOnTerminal(io, req, opts.yes),
    ...(opts.path === undefined ? {} : { overlayPath: opts.path }),
    ...(minimumKernel === undefined ? {} : { minimumKernel }),
    logger: cliLogger(io),
  });
  return { lab, nodesFile, progress, runner, dispose: () => shells.dispose() };
}

/** Prints runner events: each command echoed with its node, output lines prefixed with the node. */
export function eventPrinter(io: CliIo): (e: RunEvent) => void {
  const partial = new Map<string, string>();
  const flush = (key: string, prefix: string, write: (t: string) => void): void => {
    const rest = partial.get(key);
    if (rest !== undefined && rest !== '') { write(`${prefix}${rest}\n`); }
    partial.delete(key);
  };
  const flushAll = (): void => {
    for (const key of [...partial.keys()]) {
      const [type, node] = key.split('\u0000');
      flush(key, `[${node ?? ''}] `, type === 'stderr' ? io.err : io.out);
    }
  };
  return (e) => {
    const node = e.node ?? '';
    switch (e.type) {
      case 'step': flushAll(); io.out(`\n== ${e.stepId ?? ''}: ${e.text}\n`); break;
      // `#`: the command needs root (it runs through sudo on a non-root node configured with sudo: true)
      case 'command': flushAll(); io.out(`[${node}]${e.sudo === true ? '#' : '$'} ${e.text}\n`); break;
      case 'stdout':
      case 'stderr': {
        const key = `${e.type}\u0000${node}`;
        const text = (partial.get(key) ?? '') + e.text;
        const lines = text.split('\n');
        partial.set(key, lines.pop() ?? '');
        const write = e.type === 'stderr' ? io.err : io.out;
        for (const l of lines) { write(`[${node}] ${l}\n`); }
        break;
      }
      case 'info': flushAll(); io.out(`   ${node === '' ? '' : `[${node}] `}${e.text}\n`); break;
      case 'result': flushAll(); io.out(`-> ${(e.status ?? '').toUpperCase()}${e.stepId === undefined ? '' : ` ${e.stepId}`}: ${e.text}\n`); break;
    }
  };
}

/** Asks on the terminal (stdin must be a TTY) unless `yes`; refuses without a TTY. */
export async function confirmOnTerminal(io: CliIo, req: ConfirmRequest, yes: boolean): Promise<boolean> {
  const listing = req.commands.map((c) => `  [${c.node}]${c.sudo === true ? '#' : '$'} ${c.command}`).join('\n');
  if (yes) { return true; }
  if (process.stdin.isTTY !== true) {
    io.err(`${req.title}\nThis needs confirmation; run again with --yes to allow:\n${listing}\n`);
    return false;
  }
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const notes = (req.notes ?? []).map((n) => `  note: ${n}\n`).join('');
    const answer = await rl.question(`\n${req.title}\nThese commands will run:\n${listing}\n${notes}Proceed? [y/N] `, { signal: io.signal });
    return /^y(es)?$/i.test(answer.trim());
  } catch {
    return false;
  } finally {
    rl.close();
  }
}

/**
 * One summary line per step and the exit code: 0 only when every step passed or does not apply. `extra` goes into
 * the JSON output next to `ok` and `results`.
 */
export function summarize(io: CliIo, results: readonly StepResult[], json: boolean, extra: Readonly<Record<string, unknown>> = {}): number {
  const ok = results.length > 0 && results.every((r) => r.status === 'passed' || r.status === 'skipped');
  if (json) {
    io.out(`${JSON.stringify({ ok, ...extra, results }, null, 2)}\n`);
  } else {
    io.out('\nsummary:\n');
    for (const r of results) {
      const note = r.supersededBy !== undefined ? ` (recorded; replaced by ${r.supersededBy})` : r.alreadyInPlace === true ? ' (already in place)' : '';
      io.out(`  ${r.status.padEnd(9)} ${r.stepId}${note}${r.status === 'failed' || r.status === 'cancelled' ? `: ${r.message}` : ''}  ${(r.durationMs / 1000).toFixed(1)} s\n`);
    }
    const n = (s: string): number => results.filter((r) => r.status === s).length;
    io.out(`${n('passed')} passed, ${n('failed')} failed, ${n('skipped')} not applicable, ${n('cancelled')} cancelled\n`);
  }
  return ok ? 0 : 1;
}

/** Parses `--path` (cluster-store|swarm). */
export function parsePath(v: string | undefined): OverlayPath | undefined {
  if (v === undefined) { return undefined; }
  if (!(overlayPaths as readonly string[]).includes(v)) { throw new LabError('InvalidInput', `--path must be cluster-store or swarm, not "${v}".`); }
  return v as OverlayPath;
}

/** `docker-net-lab run`: runs steps of the guided lab on the nodes, streaming every command and its output. */
export const runCommand: CliCommand = {
  summary: 'run a step of the guided lab (or all of them) on the nodes, then verify it',
  usage: 'docker-net-lab run <step-id> | --all [--from <step-id>] [--path cluster-store|swarm] [--yes] [--json] [--nodes FILE]',
  async run(args, io) {
    const { values, positionals } = parseCliArgs(args, {
      all: { type: 'boolean' }, from: { type: 'string' }, path: { type: 'string' }, yes: { type: 'boolean' }, json: { type: 'boolean' }, nodes: { type: 'string' },
    }, { positionals: true });
    const stepId = stepIdOrAll(values.all, positionals);
    if (values.from !== undefined && stepId !== undefined) { throw new LabError('InvalidInput', '--from goes with --all.'); }
    const overlayPath = parsePath(values.path);
    const s = await openLabSession(io, { nodes: values.nodes, yes: values.yes === true, json: values.json === true, path: overlayPath });
    try {
      const facts = await s.runner.facts(io.signal);
      const decision = facts.overlayPathDecision;
      // a choice the nodes refuse is not kept: the next run without --path decides by itself again
      if (overlayPath !== undefined && decision.refusal === undefined) { s.progress.setOverlayPath(overlayPath); }
      if (values.json !== true && decision.refusal === undefined) {
        io.out(`nodes: ${facts.nodes.map((n) => `${n.name} ${n.ip} (Docker ${n.dockerVersion || '?'}, kernel ${n.kernel})`).join(', ')}\n`);
        io.out(`overlay path: ${facts.overlayPath}${overlayPath !== undefined && decision.refusal === undefined ? ' (saved as your choice)' : ''}: ${decision.reason}\n`);
      }
      const results = stepId === undefined
        ? await s.runner.runAll({ signal: io.signal, ...(values.from === undefined ? {} : { from: values.from }) })
        : [await s.runner.runStep(stepId, { signal: io.signal })];
      return summarize(io, results, values.json === true, { overlayPath: { path: decision.path, source: decision.source, reason: decision.reason } });
    } finally {
      s.dispose();
    }
  },
};
