import * as vscode from 'vscode';
import { LabError, describeError, isLabError } from '../../core/errors';
import type { LabDefinition, OverlayPath, StepDefinition } from '../../core/lab/labDefinition';
import type { OverlayPathDecision } from '../../core/lab/overlayPathDecision';
import { findStep, stepContextKey } from '../../core/lab/labDefinition';
import type { ConfirmationRequest, LabBackend, StepRunListener, StepRunOutcome } from './labBackend';
import { confirmationDetail, outcomeState } from './labBackend';
import type { StepState } from './stepStates';
import { StepStateTable, appliesToPath, isDone, stepIds } from './stepStates';
import type { StepTranscripts } from './stepTranscripts';
import { stepOutputUri } from './stepTranscripts';

/** Prefix of this extension's walkthrough step ids in the workbench (`<extension id>#<walkthrough id>#`). */
export const walkthroughStepPrefix = 'docker-network-lab.docker-network-lab#dockerNetLab.tutorial#';

/** Context key holding the chosen overlay path (walkthrough steps of the other path hide). */
export const overlayPathContextKey = 'dockerNetLab.overlayPath';

/**
 * Runs lab steps for the VS Code host: one run at a time, progress + cancellation, confirmation of
 * destructive steps, output streamed into the transcripts, states mirrored into context keys
 * (`dockerNetLab.step.<id_>` is true only after the core verified the step).
 */
export class StepsController implements vscode.Disposable {
  readonly states: StepStateTable;
  private path: OverlayPath | undefined;
  private busy: string | undefined;
  /** Context-key updates in order; a finished command awaits them so the walkthrough is ticked when it returns. */
  private syncing: Promise<void> = Promise.resolve();
  private readonly unsubscribe: () => void;

  constructor(
    private readonly loadLab: () => LabDefinition | Error,
    private readonly backend: LabBackend,
    private readonly transcripts: StepTranscripts,
    private readonly log: vscode.LogOutputChannel,
    private readonly memento: vscode.Memento,
  ) {
    this.states = new StepStateTable((records) => { void memento.update('dockerNetLab.steps', records); });
    this.unsubscribe = this.states.onDidChange((ids) => {
      this.syncing = this.syncing.then(() => this.syncContextKeys(ids)).catch((e: unknown) => { log.warn(`setContext: ${describeError(e)}`); });
    });
    this.path = memento.get<OverlayPath>('dockerNetLab.overlayPath');
  }

  /** The lab, or the error that stopped it from loading (loaded on first use, then kept). */
  lab(): LabDefinition | Error { return this.loadLab(); }

  /** The chosen overlay path, if any. */
  overlayPath(): OverlayPath | undefined { return this.path; }

  /** The id of the step running now, if any. */
  running(): string | undefined { return this.busy; }

  private requireLab(): LabDefinition {
    const lab = this.lab();
    if (lab instanceof Error) { throw lab; }
    return lab;
  }

  private requireStep(id: string): StepDefinition {
    const ref = findStep(this.requireLab(), id);
    if (ref === undefined) { throw new LabError('NotFound', `There is no lab step "${id}".`); }
    return ref.step;
  }

  /**
   * Restores the states on activation: from the core's recorded progress when it has any, else from
   * the workspace state; then sets every context key. Never touches the nodes.
   */
  async restore(): Promise<void> {
    if (this.busy !== undefined) { return; }
    const saved = this.memento.get<Record<string, { state: StepState; at: number; message?: string }>>('dockerNetLab.steps') ?? {};
    let records = saved;
    try {
      const progress = await this.backend.recordedProgress();
      if (Object.keys(progress).length > 0) {
        records = {};
        for (const [id, p] of Object.entries(progress)) {
          const state = outcomeState(p.status);
          if (state !== undefined) { records[id] = p.message === undefined ? { state, at: p.at } : { state, at: p.at, message: p.message }; }
        }
      }
      this.path = this.backend.recordedOverlayPath(); // the progress file of these nodes is the truth
    } catch (e) {
      this.log.warn(`Lab progress could not be read, using the workspace's copy: ${describeError(e)}`);
    }
    this.states.load(records);
    await vscode.commands.executeCommand('setContext', overlayPathContextKey, this.path ?? '');
    const lab = this.lab();
    if (!(lab instanceof Error)) { await this.syncContextKeys(stepIds(lab)); }
  }

  /** The background re-check in progress, if any (a user's run stops it first). */
  private recheck: { readonly abort: AbortController; readonly done: Promise<void> } | undefined;

  /**
   * Re-checks, quietly, that the steps recorded as verified still hold on the nodes (no dialogs, no
   * focus change, nothing in the step transcripts; the log gets a trace). A step whose check now fails
   * returns to "not run". Stops at the first connection error (unreachable nodes: the recorded state
   * stays) and as soon as the user runs a step.
   */
  recheckInBackground(signal: AbortSignal): Promise<void> {
    if (!vscode.workspace.isTrusted || this.recheck !== undefined) { return Promise.resolve(); }
    const lab = this.lab();
    if (lab instanceof Error) { return Promise.resolve(); }
    const abort = new AbortController();
    const onOuter = (): void => { abort.abort(); };
    signal.addEventListener('abort', onOuter, { once: true });
    const quiet: StepRunListener = {
      onCommand: (node, command) => { this.log.trace(`re-check [${node}] $ ${command}`); },
      onOutput: () => undefined,
      onMessage: (text) => { this.log.trace(`re-check ${text}`); },
    };
    const done = (async () => {
      for (const id of stepIds(lab)) {
        if (abort.signal.aborted || this.busy !== undefined) { return; }
        if (this.states.state(id) !== 'verified') { continue; }
        try {
          const outcome = await this.backend.runStep(id, 'verify', quiet, abort.signal);
          if (abort.signal.aborted) { return; }
          if (outcome.status === 'failed') { this.states.set(id, 'notRun', `No longer verified on the nodes: ${outcome.message ?? 'a check failed'}`); }
        } catch (e) {
          this.log.info(`Background re-check stopped at ${id}: ${describeError(e)}`);
          return;
        }
      }
    })().finally(() => {
      signal.removeEventListener('abort', onOuter);
      this.recheck = undefined;
    });
    this.recheck = { abort, done };
    return done;
  }

  /** Stops the background re-check and waits until it let go of the runner. */
  private async stopRecheck(): Promise<void> {
    const r = this.recheck;
    if (r === undefined) { return; }
    r.abort.abort();
    await r.done;
  }

  /** The value last given to each `dockerNetLab.step.*` context key (VS Code has no API to read them back). */
  readonly contextKeyValues = new Map<string, boolean>();

  private async syncContextKeys(ids: readonly string[]): Promise<void> {
    for (const id of ids) {
      const key = stepContextKey(id);
      const value = isDone(this.states.state(id));
      const changed = this.contextKeyValues.get(key) !== value;
      await vscode.commands.executeCommand('setContext', key, value);
      this.contextKeyValues.set(key, value);
      if (changed) { await this.markWalkthroughStep(id, value); }
    }
  }

  /**
   * The walkthrough ticks a step once per session when its `onContext` key turns true, and never
   * unticks it. So that a reset, a failed re-run or a failed re-check untick it (and a later pass ticks
   * it again), the walkthrough's own "Mark Step Complete/Incomplete" commands are used as well. They are
   * workbench commands, not API: when missing, the context key alone still completes the step.
   */
  private async markWalkthroughStep(id: string, done: boolean): Promise<void> {
    try {
      await vscode.commands.executeCommand(done ? 'welcome.markStepComplete' : 'welcome.markStepIncomplete', `${walkthroughStepPrefix}${id}`);
    } catch (e) {
      this.log.trace(`walkthrough step ${id}: ${describeError(e)}`);
    }
  }

  private listenerFor(id: string, echo: boolean): StepRunListener {
    const t = this.transcripts;
    return {
      onCommand: (node, command) => { t.command(id, node, command); if (echo) { this.log.debug(`[${node}] $ ${command}`); } },
      onOutput: (node, chunk, stream) => { t.output(id, node, chunk, stream); },
      onMessage: (text) => { t.line(id, text); },
    };
  }

  /** Refuses in an untrusted workspace, offering the trust command. */
  private async assertTrusted(): Promise<void> {
    if (vscode.workspace.isTrusted) { return; }
    const choice = await vscode.window.showWarningMessage(
      'Nothing ran: this folder is not trusted, so Docker Network Lab runs no commands on the lab nodes. Trust it to run the steps.',
      'Manage Workspace Trust');
    if (choice === 'Manage Workspace Trust') { await vscode.commands.executeCommand('workbench.trust.manage'); }
    throw new LabError('Cancelled', 'Untrusted workspace.');
  }

  /** The modal confirmation the backend asks for before it changes the nodes: lists the exact commands. */
  async confirm(req: ConfirmationRequest): Promise<boolean> {
    const action = req.kind === 'reset' ? 'Reset Lab' : req.kind === 'kernel' ? 'Upgrade and Reboot' : 'Run Step';
    const detail = `${confirmationDetail(req.commands, req.notes ?? [])}\n\nThis changes the nodes. Continue?`;
    const choice = await vscode.window.showWarningMessage(req.title, { modal: true, detail }, action);
    return choice === action;
  }

  /** Lets the user pick a step (quick pick with state icons). */
  async pickStep(placeHolder: string): Promise<string | undefined> {
    const lab = this.requireLab();
    const items = lab.chapters.flatMap((c, ci) => [
      { label: `${ci + 1}. ${c.title.en}`, kind: vscode.QuickPickItemKind.Separator },
      ...c.steps.map((s) => ({ label: `$(${iconOf(this.states.state(s.id))}) ${s.title.en}`, description: s.id, id: s.id })),
    ]);
    const picked = await vscode.window.showQuickPick(items, { placeHolder, matchOnDescription: true });
    return picked !== undefined && 'id' in picked ? picked.id : undefined;
  }

  /**
   * Runs (or only verifies) one step with a cancellable progress notification. Resolves with the
   * resulting state; `undefined` when the user declined or cancelled.
   */
  async run(id: string, mode: 'run' | 'verify', options: { quiet?: boolean } = {}): Promise<StepState | undefined> {
    await this.assertTrusted();
    const step = this.requireStep(id);
    if (this.busy !== undefined) {
      void vscode.window.showInformationMessage(`Step "${this.busy}" is still running; wait for it or cancel it first.`);
      return undefined;
    }
    const reason = step.when?.overlayPath === undefined || options.quiet === true ? undefined : await this.followDecidedPath(AbortSignal.timeout(30_000));
    if (!appliesToPath(step, this.path)) {
      this.states.set(id, 'notApplicable', `Only on the ${step.when?.overlayPath ?? ''} path.`);
      void vscode.window.showInformationMessage(`"${step.title.en}" belongs to the ${step.when?.overlayPath ?? ''} path; the lab is on the ${this.path ?? ''} path.${reason === undefined ? '' : ` ${reason}`}`);
      return 'notApplicable';
    }
    this.busy = id;
    await this.stopRecheck();
    const before = this.states.state(id);
    try {
      this.states.set(id, 'running');
      this.transcripts.begin(id, `${mode === 'run' ? 'Run' : 'Verify'} ${id} — ${step.title.en}`);
      if (reason !== undefined) { this.transcripts.line(id, `Overlay path: ${reason}`); }
      if (options.quiet !== true) { this.transcripts.showChannel(); } // live output under the walkthrough, focus stays
      const outcome = await vscode.window.withProgress({
        location: vscode.ProgressLocation.Notification,
        title: `${mode === 'run' ? 'Running' : 'Verifying'} "${step.title.en}"`,
        cancellable: true,
      }, async (progress, token) => {
        const ac = new AbortController();
        const sub = token.onCancellationRequested(() => { ac.abort(); });
        const listener = this.listenerFor(id, true);
        try {
          return await this.backend.runStep(id, mode, {
            ...listener,
            onCommand: (node, command) => { listener.onCommand(node, command); progress.report({ message: `${node}: ${command.slice(0, 80)}` }); },
          }, ac.signal);
        } finally {
          sub.dispose();
        }
      });
      const state = this.finish(id, step, outcome, before, options.quiet === true);
      await this.syncing;
      return state;
    } catch (e) {
      if (isLabError(e, 'Cancelled')) {
        this.transcripts.line(id, '— cancelled —');
        this.states.set(id, before === 'running' ? 'notRun' : before);
        throw e;
      }
      this.transcripts.line(id, `✗ ${describeError(e)}`);
      this.states.set(id, 'failed', describeError(e));
      throw e;
    } finally {
      this.busy = undefined;
    }
  }

  private finish(id: string, step: StepDefinition, outcome: StepRunOutcome, before: StepState, quiet: boolean): StepState {
    const state = outcomeState(outcome.status) ?? (before === 'running' ? 'notRun' : before);
    this.states.set(id, state, outcome.message);
    this.transcripts.line(id, `${state === 'failed' ? '✗' : state === 'notRun' ? '—' : '✓'} ${step.title.en}: ${stateSentence(state)}${outcome.message ? ` — ${outcome.message}` : ''}`);
    if (quiet) { return state; }
    if (state === 'failed') {
      void vscode.window.showErrorMessage(`"${step.title.en}" failed: ${outcome.message ?? 'see the output'}`, 'Show Output').then((c) => {
        if (c === 'Show Output') { void this.showOutput(id); }
      });
    } else if (state === 'expectedFailure') {
      void vscode.window.setStatusBarMessage(`$(error) "${step.title.en}" failed as expected`, 8000);
    } else if (state === 'verified') {
      void vscode.window.setStatusBarMessage(`$(pass-filled) "${step.title.en}" verified`, 8000);
    }
    return state;
  }

  /** Opens the step's output document (its last run, or its plan when it has not run). */
  async showOutput(id: string): Promise<void> {
    if (id !== 'reset') { this.requireStep(id); }
    const doc = await vscode.workspace.openTextDocument(stepOutputUri(id));
    await vscode.window.showTextDocument(doc, { preview: true, preserveFocus: false });
  }

  /** Runs every step from the first one not done, stopping at the first failure. */
  async runAll(): Promise<void> {
    await this.assertTrusted();
    const lab = this.requireLab();
    const reason = await this.followDecidedPath(AbortSignal.timeout(30_000));
    const todo = stepIds(lab).filter((id) => {
      const s = this.requireStep(id);
      return appliesToPath(s, this.path) && !isDone(this.states.state(id));
    });
    if (todo.length === 0) { void vscode.window.showInformationMessage('Every step of the lab is done.'); return; }
    const destructive = todo.filter((id) => this.requireStep(id).destructive);
    const changes = destructive.length > 0 ? `These steps change the nodes and will each ask first: ${destructive.join(', ')}.` : 'None of them changes the nodes\' configuration.';
    const ok = await vscode.window.showInformationMessage(`Run the ${todo.length} remaining steps in order?`, {
      modal: true,
      detail: reason === undefined ? changes : `${reason}\n\n${changes}`,
    }, 'Run All');
    if (ok !== 'Run All') { return; }
    this.transcripts.showChannel();
    for (const id of todo) {
      const state = await this.run(id, 'run', { quiet: true });
      if (state === undefined) { return; }
      if (state === 'failed') {
        const c = await vscode.window.showErrorMessage(`Stopped at "${this.requireStep(id).title.en}": ${this.states.record(id)?.message ?? 'it failed'}`, 'Show Output');
        if (c === 'Show Output') { await this.showOutput(id); }
        return;
      }
    }
    void vscode.window.showInformationMessage(`Ran ${todo.length} steps.`);
  }

  /** Undoes the lab on the nodes (after a modal listing the commands) and clears every step state. */
  async reset(): Promise<void> {
    await this.assertTrusted();
    const lab = this.requireLab();
    if (this.busy !== undefined) { void vscode.window.showInformationMessage(`Step "${this.busy}" is still running.`); return; }
    this.busy = 'reset';
    try {
      await this.stopRecheck();
      this.transcripts.begin('reset', 'Reset the lab');
      const done = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Resetting the lab', cancellable: true }, async (_p, token) => {
        const ac = new AbortController();
        const sub = token.onCancellationRequested(() => { ac.abort(); });
        try { return await this.backend.reset(this.listenerFor('reset', true), ac.signal); } finally { sub.dispose(); }
      });
      if (!done.confirmed) { this.transcripts.line('reset', '— not confirmed: nothing was changed —'); return; }
      this.states.load({});
      await this.syncContextKeys(stepIds(lab));
      if (done.failures.length > 0) {
        const c = await vscode.window.showWarningMessage(`The lab was reset, but ${done.failures.length} clean-up command(s) failed.`, { detail: done.failures.join('\n') }, 'Show Output');
        if (c === 'Show Output') { await this.showOutput('reset'); }
      } else {
        void vscode.window.setStatusBarMessage('$(discard) Lab reset', 8000);
      }
    } finally {
      this.busy = undefined;
    }
  }

  /** Lets the user choose the overlay path (cluster store or swarm); the default comes from the nodes. */
  async chooseOverlayPath(): Promise<OverlayPath | undefined> {
    let detected: OverlayPathDecision | undefined;
    if (vscode.workspace.isTrusted) {
      try { detected = await this.backend.overlayPath(AbortSignal.timeout(20_000)); } catch (e) { this.log.info(`Overlay path detection: ${describeError(e)}`); }
    }
    const blocker = detected?.clusterStoreBlocker;
    const suggested = (p: OverlayPath): string | undefined => (detected?.path === p ? 'suggested for these nodes' : undefined);
    const items: (vscode.QuickPickItem & { path: OverlayPath })[] = [
      { path: 'cluster-store', label: 'Cluster store (etcd)', description: blocker === undefined ? suggested('cluster-store') : 'not possible on these nodes', detail: blocker ?? 'The 2017 way: dockerd --cluster-store=etcd://… Needs Docker 22 or older and etcd with the v2 API.' },
      { path: 'swarm', label: 'Swarm mode', description: suggested('swarm'), detail: 'Today\'s way: docker swarm init/join and an --attachable overlay network. Works on every current Docker.' },
    ];
    const picked = await vscode.window.showQuickPick(items, { placeHolder: `How should the overlay network be built?${this.path ? ` (now: ${this.path})` : ''}` });
    if (picked === undefined) { return undefined; }
    if (picked.path === 'cluster-store' && blocker !== undefined) {
      void vscode.window.showWarningMessage(`The cluster-store path cannot run here: ${blocker}. The lab takes the swarm path.`);
      return undefined;
    }
    await this.setOverlayPath(picked.path);
    return picked.path;
  }

  /**
   * Asks the core which overlay path these nodes take (the runner caches node facts, so this is cheap after the
   * first time) and shows it: the walkthrough's context key follows, the saved choice stays as it is. Returns the
   * one-sentence reason, or `undefined` when the nodes could not be asked (the previous path stays).
   */
  private async followDecidedPath(signal: AbortSignal): Promise<string | undefined> {
    try {
      const d = await this.backend.overlayPath(signal);
      this.log.info(`Overlay path: ${d.reason}`);
      if (this.path !== d.path) {
        this.path = d.path;
        await vscode.commands.executeCommand('setContext', overlayPathContextKey, d.path);
        this.states.load(this.states.snapshot());
      }
      return d.reason;
    } catch (e) {
      if (isLabError(e, 'Cancelled')) { throw e; }
      this.log.info(`Overlay path: ${describeError(e)}`);
      return undefined;
    }
  }

  /** Records the overlay path choice (context key, workspace state, core progress). */
  async setOverlayPath(path: OverlayPath): Promise<void> {
    this.path = path;
    await this.memento.update('dockerNetLab.overlayPath', path);
    await vscode.commands.executeCommand('setContext', overlayPathContextKey, path);
    try { await this.backend.setOverlayPath(path); } catch (e) { this.log.warn(`Overlay path not saved in the lab progress: ${describeError(e)}`); }
    this.states.load(this.states.snapshot());
  }

  dispose(): void {
    this.unsubscribe();
  }
}

function stateSentence(state: StepState): string {
  switch (state) {
    case 'verified': return 'verified on the nodes';
    case 'expectedFailure': return 'failed as expected';
    case 'failed': return 'failed';
    case 'notApplicable': return 'does not apply here';
    case 'running': return 'running';
    case 'notRun': return 'not run';
  }
}

function iconOf(state: StepState): string {
  return { notRun: 'circle-large-outline', running: 'sync', verified: 'pass-filled', expectedFailure: 'error', failed: 'error', notApplicable: 'circle-slash' }[state];
}
