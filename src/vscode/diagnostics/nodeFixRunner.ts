import * as vscode from 'vscode';
import { fixPlan } from '../../core/diagnostics/fixPlan';
import { describeError } from '../../core/errors';
import { displayText } from '../../core/util/displayText';
import type { ShellProvider } from '../../core/remoteShell';
import type { FixRequest, FixRunner, FixRunResult } from './fixRunner';
import { clipboardFixRunner } from './fixRunner';

/** What the node fix runner needs from the rest of the extension. */
export interface NodeFixRunnerDeps {
  /** The shared SSH sessions (`getNodeServices().shells()`). */
  readonly shells: () => Promise<ShellProvider>;
  /** Ids of the guided-lab steps. */
  readonly stepIds: () => ReadonlySet<string>;
  /** Runs or verifies a step through the steps feature; resolves with its state (`undefined`: declined/busy). */
  readonly runStep: (id: string, mode: 'run' | 'verify') => Promise<string | undefined>;
  /** Asks which node to use when the finding names none (or an unknown one). */
  readonly pickNode?: (names: readonly string[]) => Promise<string | undefined>;
  /** Log lines. */
  readonly log?: (line: string) => void;
}

const doneStates = new Set(['verified', 'expectedFailure']);

/**
 * A {@link FixRunner} that applies the fix for real: the finding's machine-applicable commands run on its
 * node through the shared SSH sessions (stopping at the first failure), or its fix step runs through the
 * steps feature; then the finding's step is verified again. Fixes with no machine form go to the clipboard.
 * Destructive fixes are confirmed by the caller before `run`.
 */
export function createNodeFixRunner(deps: NodeFixRunnerDeps): FixRunner {
  const pickNode = deps.pickNode ?? (async (names) => vscode.window.showQuickPick([...names], { placeHolder: 'Node to apply the fix on' }));
  return {
    async run(request: FixRequest, token: vscode.CancellationToken): Promise<FixRunResult> {
      const stepIds = deps.stepIds();
      const plan = fixPlan({ destructive: request.destructive, ...(request.fixCommands === undefined ? {} : { fixCommands: request.fixCommands }), ...(request.fixAction === undefined ? {} : { fixAction: request.fixAction }), ...(request.fixRefused === undefined ? {} : { fixRefused: request.fixRefused }) }, stepIds);
      if (plan.kind === 'none') { return clipboardFixRunner.run(request, token); }
      if (plan.kind === 'step') {
        const state = await deps.runStep(plan.stepId, 'run');
        if (state === undefined) { return { outcome: 'cancelled', message: `Step ${plan.stepId} did not run.` }; }
        return doneStates.has(state)
          ? { outcome: 'ran', message: `Fixed "${displayText(request.title)}": step ${plan.stepId} ran and passed.` }
          : { outcome: 'failed', message: `Step ${plan.stepId} ran but ended ${state}: see its output.` };
      }
      const title = displayText(request.title);
      const shells = await deps.shells();
      const names = shells.nodeNames();
      const node = request.node !== undefined && names.includes(request.node) ? request.node : await pickNode(names);
      if (node === undefined) { return { outcome: 'cancelled', message: 'No node chosen.' }; }
      const ac = new AbortController();
      const sub = token.onCancellationRequested(() => { ac.abort(); });
      try {
        const shell = await shells.shell(node, ac.signal);
        for (const command of plan.commands) {
          deps.log?.(`fix ${request.ruleId} on ${node}: ${command}`);
          const r = await shell.exec(command, { sudo: true, signal: ac.signal, timeoutMs: 120_000 });
          if (r.code !== 0) {
            const why = displayText((r.stderr || r.stdout).trim().split('\n').slice(-2).join(' '));
            return { outcome: 'failed', message: `The fix failed on ${node} (exit ${r.code ?? r.signal ?? '?'}) at: ${command}${why === '' ? '' : ` — ${why}`}` };
          }
        }
      } catch (e) {
        if (token.isCancellationRequested) { return { outcome: 'cancelled', message: 'Cancelled.' }; }
        return { outcome: 'failed', message: `The fix could not run on ${node}: ${displayText(describeError(e))}` };
      } finally {
        sub.dispose();
      }
      const ran = `Fix for "${title}" ran on ${node} (${plan.commands.length} command(s))`;
      if (request.step === undefined || !stepIds.has(request.step)) { return { outcome: 'ran', message: `${ran}.` }; }
      const state = await deps.runStep(request.step, 'verify');
      return state !== undefined && doneStates.has(state)
        ? { outcome: 'ran', message: `${ran}; step ${request.step} verifies.` }
        : { outcome: 'ran', message: `${ran}; step ${request.step} does not verify yet (${state ?? 'not checked'}): run it from Lab Steps.` };
    },
  };
}
