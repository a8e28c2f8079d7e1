import type * as vscode from 'vscode';
import { LabError } from '../../core/errors';
import { redactingLogger } from '../../core/logger';
import type { LabDefinition, OverlayPath } from '../../core/lab/labDefinition';
import { minimumKernelFromEnv } from '../../core/lab/kernelPlan';
import { ProgressStore, defaultProgressFile, progressKey } from '../../core/lab/progressStore';
import type { RunEvent, StepResult, StepRunner } from '../../core/lab/stepRunner';
import type { NodeServices } from '../nodes/nodeServices';
import type { ConfirmationRequest, LabBackend, StepRunListener, StepRunOutcome } from './labBackend';

/** The display outcome of a runner result (pure). */
export function outcomeOf(r: Pick<StepResult, 'status' | 'expectedFailure'>): StepRunOutcome['status'] {
  switch (r.status) {
    case 'passed': return r.expectedFailure?.observed === true ? 'expectedFailure' : 'verified';
    case 'failed': return 'failed';
    case 'skipped': return 'notApplicable';
    case 'cancelled': return 'cancelled';
  }
}

/** Forwards the runner's events to a listener (pure). */
export function forwardEvent(e: RunEvent, l: StepRunListener): void {
  switch (e.type) {
    case 'command': l.onCommand(e.node ?? '?', e.text); break;
    case 'stdout': l.onOutput(e.node ?? '?', e.text, 'stdout'); break;
    case 'stderr': l.onOutput(e.node ?? '?', e.text, 'stderr'); break;
    case 'step': l.onMessage(`▶ ${e.text}`); break;
    case 'info': l.onMessage(e.node === undefined ? `ℹ ${e.text}` : `ℹ [${e.node}] ${e.text}`); break;
    case 'result': l.onMessage(`■ ${e.status ?? ''}: ${e.text}`); break;
  }
}

/**
 * The LabBackend of the extension: the core's StepRunner on the nodes of NodeServices (the same SSH
 * sessions as the Lab Nodes view), with the progress file the CLI uses for the same nodes
 * (`/var/lib/docker-net-lab/progress.json` for the local lab, `~/.config/docker-net-lab/progress.json`
 * otherwise), so progress made in the terminal shows in VS Code and back. The runner is built lazily
 * (ssh2 loads on first use) and rebuilt when the node configuration changes. Every record the runner
 * writes is merged into the file as it is then (the CLI may have written meanwhile); `warn` tells the user
 * when a damaged progress file was set aside.
 */
export function createCoreLabBackend(
  loadLab: () => LabDefinition | Error,
  nodes: () => NodeServices,
  log: vscode.LogOutputChannel,
  confirm: (req: ConfirmationRequest) => Promise<boolean>,
  warn: (message: string) => void = (m) => { log.warn(m); },
): LabBackend {
  let runner: { key: string; runner: StepRunner } | undefined;
  let listener: StepRunListener | undefined;

  const lab = (): LabDefinition => {
    const l = loadLab();
    if (l instanceof Error) { throw l; }
    return l;
  };
  /** The two configured nodes, whether they are the local lab, and the progress key. */
  const target = (): { store: ProgressStore; hosts: Record<string, string> } => {
    const services = nodes();
    const configured = services.configuration().nodes.map((n) => n.config).slice(0, 2);
    if (configured.length < 2) {
      throw new LabError('NotFound', 'The lab needs two nodes, and fewer are configured.', {
        fix: 'Start the local lab (docker-net-lab lab up, as root) or add your two machines in the Lab Nodes view.',
      });
    }
    const localLab = configured.every((c) => services.labNodeNames().has(c.name));
    const store = new ProgressStore(defaultProgressFile(localLab), progressKey(lab().id, configured.map((c) => c.host)), { onWarning: warn });
    return { store, hosts: Object.fromEntries(configured.map((c) => [c.name, c.host])) };
  };
  const getRunner = async (): Promise<StepRunner> => {
    const { store, hosts } = target();
    // DOCKER_NET_LAB_MIN_KERNEL, as the CLI reads it (a bad value stops the step with its sentence)
    const minimumKernel = minimumKernelFromEnv(process.env);
    const key = `${store.file}\u0000${store.key}\u0000${minimumKernel?.join('.') ?? ''}`;
    if (runner?.key === key) { return runner.runner; }
    const [{ StepRunner: Runner }, shells] = await Promise.all([import('../../core/lab/stepRunner'), nodes().shells()]);
    const r = new Runner({
      lab: lab(), shells, progress: store, hosts,
      ...(minimumKernel === undefined ? {} : { minimumKernel }),
      logger: redactingLogger(log),
      onEvent: (e) => { if (listener !== undefined) { forwardEvent(e, listener); } },
      confirm: (req) => confirm({ kind: req.kind, title: req.title, commands: req.commands, ...(req.notes === undefined ? {} : { notes: req.notes }) }),
    });
    runner = { key, runner: r };
    return r;
  };
  const withListener = async <T>(l: StepRunListener, fn: () => Promise<T>): Promise<T> => {
    listener = l;
    try { return await fn(); } finally { listener = undefined; }
  };

  return {
    async runStep(stepId, mode, l, signal) {
      const r = await getRunner();
      const result = await withListener(l, () => mode === 'run' ? r.runStep(stepId, { signal }) : r.verifyStep(stepId, { signal }));
      if (result.status === 'cancelled' && signal.aborted) { throw new LabError('Cancelled', 'The step was cancelled.'); }
      const explanation = result.expectedFailure?.observed === true ? ` ${result.expectedFailure.explanation.en}` : '';
      return { status: outcomeOf(result), message: `${result.message}${explanation}` };
    },
    async plan(stepId, signal) {
      return (await getRunner()).plannedCommands(stepId, signal);
    },
    async reset(l, signal) {
      const r = await getRunner();
      const res = await withListener(l, () => r.reset({ signal }));
      return { confirmed: !res.cancelled, failures: res.failures };
    },
    async overlayPath(signal) {
      return (await (await getRunner()).facts(signal)).overlayPathDecision;
    },
    async setOverlayPath(path: OverlayPath) {
      (await getRunner()).setOverlayPath(path);
    },
    recordedOverlayPath() {
      return target().store.progress.overlayPath;
    },
    recordedProgress() {
      const { store } = target();
      const out: Record<string, { status: StepRunOutcome['status']; at: number; message?: string }> = {};
      for (const [id, r] of Object.entries(store.progress.steps)) {
        const status = outcomeOf({ status: r.status, ...(r.expectedFailureObserved === undefined ? {} : { expectedFailure: { observed: r.expectedFailureObserved, explanation: { en: '', 'zh-cn': '' } } }) });
        out[id] = r.message === undefined ? { status, at: Date.parse(r.at) } : { status, at: Date.parse(r.at), message: r.message };
      }
      return Promise.resolve(out);
    },
  };
}
