import * as path from 'node:path';
import * as vscode from 'vscode';
import { describeError } from '../../core/errors';
import type { LabDefinition } from '../../core/lab/labDefinition';
import { allSteps, findStep, isBuiltin } from '../../core/lab/labDefinition';
import { loadLab } from '../../core/lab/loadLab';
import { registerCommand } from '../commands/registry';
import { setFixRunner } from '../diagnostics/fixRunner';
import { createNodeFixRunner } from '../diagnostics/nodeFixRunner';
import { getNodeServices } from '../nodes/nodeServices';
import { createCoreLabBackend } from './coreLabBackend';
import { stepIdArgument } from './labBackend';
import { StepsController } from './stepsController';
import type { StepState } from './stepStates';
import { StepTranscripts, stepOutputScheme } from './stepTranscripts';
import { StepsTreeProvider } from './stepsTreeProvider';

/** The walkthrough's full id, as `workbench.action.openWalkthrough` wants it. */
export const walkthroughFullId = 'docker-network-lab.docker-network-lab#dockerNetLab.tutorial';

/** What the steps feature exposes to tests (through activate()'s return value). */
export interface StepsTestApi {
  readonly stepsTree: StepsTreeProvider;
  readonly stepsController: StepsController;
  /** The display state of a step (`verified` / `expectedFailure` mean its context key is set). */
  getStepState(id: string): StepState;
  /** The transcript of the step's last run in this session (what Show Step Output shows). */
  getStepOutput(id: string): string | undefined;
}

function loadShippedLab(extensionPath: string, log: vscode.LogOutputChannel): LabDefinition | Error {
  try {
    return loadLab(path.join(extensionPath, 'labs', 'docker-networking'));
  } catch (e) {
    log.error(`The lab definition could not be loaded: ${describeError(e)}`);
    return e instanceof Error ? e : new Error(describeError(e));
  }
}

/** What the output document of a step shows before the step ran in this session: its commands. */
function planText(lab: LabDefinition | Error, id: string): string {
  if (lab instanceof Error) { return `The lab definition could not be loaded: ${lab.message}\n`; }
  const ref = findStep(lab, id);
  if (ref === undefined) { return id === 'reset' ? 'The lab has not been reset in this session.\n' : `There is no step "${id}".\n`; }
  const s = ref.step;
  const lines = [`${s.title.en} (${s.id}) — not run in this session.`, '', 'Commands (placeholders are filled in from the nodes when it runs):'];
  for (const a of [...s.prepare, ...s.run]) {
    lines.push(isBuiltin(a) ? `[${a.on ?? s.nodes}] (built-in: ${a.builtin})` : `[${a.on ?? s.nodes}] $ ${a.run}`);
  }
  if (s.expectFailure) { lines.push(`[${s.expectFailure.on ?? s.nodes}] $ ${s.expectFailure.run}    # expected to fail`); }
  return `${lines.join('\n')}\n`;
}

/** Registers the guided-lab steps: the Lab Steps view, the step commands, context keys for the walkthrough. */
export function registerSteps(context: vscode.ExtensionContext, log: vscode.LogOutputChannel): StepsTestApi {
  // Loaded on first use (the steps view, a command, the restore below): validating the lab's JSON
  // against its schema takes ~45 ms, more than the whole activation may.
  let loaded: LabDefinition | Error | undefined;
  const lab = (): LabDefinition | Error => (loaded ??= loadShippedLab(context.extensionPath, log));
  const transcripts = new StepTranscripts((id) => planText(lab(), id));
  // the runner asks for confirmations through the controller's modal dialog
  const late: { controller?: StepsController } = {};
  const backend = createCoreLabBackend(lab, () => getNodeServices(), log, (req) => late.controller?.confirm(req) ?? Promise.resolve(false),
    (message) => { log.warn(message); void vscode.window.showWarningMessage(message); });
  const controller = new StepsController(lab, backend, transcripts, log, context.workspaceState);
  late.controller = controller;
  const language = vscode.env.language.toLowerCase().startsWith('zh') ? 'zh-cn' : 'en';
  const stepsTree = new StepsTreeProvider({ lab: () => controller.lab(), states: controller.states, overlayPath: () => controller.overlayPath(), language });
  const view = vscode.window.createTreeView('dockerNetLab.steps', { treeDataProvider: stepsTree, showCollapseAll: true });
  const recheck = new AbortController();
  context.subscriptions.push(
    transcripts, controller, stepsTree, view,
    vscode.workspace.registerTextDocumentContentProvider(stepOutputScheme, transcripts),
    { dispose: () => { recheck.abort(); } },
  );

  // "Apply fix" on a diagnostics finding runs the fix on its node, then verifies the step through this controller.
  context.subscriptions.push(setFixRunner(createNodeFixRunner({
    shells: () => getNodeServices().shells(),
    stepIds: () => { const l = controller.lab(); return new Set(l instanceof Error ? [] : allSteps(l).map((r) => r.step.id)); },
    runStep: (id, mode) => controller.run(id, mode, { quiet: true }),
    log: (line) => { log.info(line); },
  })));

  const stepOrPick = async (arg: unknown, verb: string): Promise<string | undefined> =>
    stepIdArgument(arg) ?? await controller.pickStep(`Step to ${verb}`);
  registerCommand(context, log, 'dockerNetLab.step.run', async (arg) => {
    const id = await stepOrPick(arg, 'run');
    return id === undefined ? undefined : controller.run(id, 'run');
  });
  registerCommand(context, log, 'dockerNetLab.step.verify', async (arg) => {
    const id = await stepOrPick(arg, 'verify');
    return id === undefined ? undefined : controller.run(id, 'verify');
  });
  registerCommand(context, log, 'dockerNetLab.step.showOutput', async (arg) => {
    const id = await stepOrPick(arg, 'show the output of');
    if (id !== undefined) { await controller.showOutput(id); }
  });
  registerCommand(context, log, 'dockerNetLab.step.runAll', () => controller.runAll());
  registerCommand(context, log, 'dockerNetLab.lab.reset', () => controller.reset());
  registerCommand(context, log, 'dockerNetLab.lab.chooseOverlayPath', () => controller.chooseOverlayPath());
  registerCommand(context, log, 'dockerNetLab.lab.openWalkthrough', () =>
    vscode.commands.executeCommand('workbench.action.openWalkthrough', walkthroughFullId, false));

  // The progress belongs to a set of nodes: when they change (local lab up/down, settings), restore again.
  context.subscriptions.push(getNodeServices().onDidChangeConfiguration(() => {
    void controller.restore().catch((e: unknown) => { log.warn(`Step states not restored: ${describeError(e)}`); });
  }));
  // Restore right after activation (no network), then re-check verified steps quietly once the window settled.
  const restoreSoon = setImmediate(() => {
    void controller.restore().then(() => {
      const timer = setTimeout(() => {
        void controller.recheckInBackground(recheck.signal).catch((e: unknown) => { log.info(`Step re-check: ${describeError(e)}`); });
      }, 5000);
      context.subscriptions.push({ dispose: () => { clearTimeout(timer); } });
    }, (e: unknown) => { log.warn(`Step states not restored: ${describeError(e)}`); });
  });
  context.subscriptions.push({ dispose: () => { clearImmediate(restoreSoon); } });

  return { stepsTree, stepsController: controller, getStepState: (id) => controller.states.state(id), getStepOutput: (id) => transcripts.transcript(id) };
}
