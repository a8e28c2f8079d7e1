// Pure (no vscode import): the state of each lab step as the Lab Steps view and the walkthrough see it,
// and how a state is shown. The runner's results are mapped onto these states by the steps feature.
import type { ChapterDefinition, LabDefinition, OverlayPath, StepDefinition } from '../../core/lab/labDefinition';

/** Display state of one step. */
export type StepState =
  | 'notRun'           // never run in this workspace, or reset
  | 'running'          // running or verifying right now
  | 'verified'         // the core verified the step on the nodes
  | 'expectedFailure'  // the step failed exactly the way it should (counts as done)
  | 'failed'           // run or verification failed
  | 'notApplicable';   // skipped: does not apply to the chosen overlay path / these nodes

/** True when the step counts as done: its walkthrough context key is set. */
export function isDone(state: StepState): boolean {
  return state === 'verified' || state === 'expectedFailure';
}

/** Codicon id and theme color id of a state's icon (the tree shows `$(<icon>)` in that color). */
export interface StateIcon {
  readonly icon: string;
  readonly color: string | undefined;
  /** Short label for tooltips and the description column. */
  readonly label: string;
}

const icons: Readonly<Record<StepState, StateIcon>> = {
  notRun: { icon: 'circle-large-outline', color: undefined, label: 'not run' },
  running: { icon: 'loading~spin', color: undefined, label: 'running…' },
  verified: { icon: 'pass-filled', color: 'testing.iconPassed', label: 'verified' },
  expectedFailure: { icon: 'error', color: 'charts.yellow', label: 'failed as expected' },
  failed: { icon: 'error', color: 'testing.iconFailed', label: 'failed' },
  notApplicable: { icon: 'circle-slash', color: 'disabledForeground', label: 'not on this path' },
};

/** The icon of a state. */
export function stateIcon(state: StepState): StateIcon {
  return icons[state];
}

/** `contextValue` of a step tree item: `step.<state>` plus `.expectFailure` / `.destructive` flags. */
export function stepContextValue(step: StepDefinition, state: StepState): string {
  return `step.${state}${step.expectFailure ? '.expectFailure' : ''}${step.destructive ? '.destructive' : ''}`;
}

/** True when the step applies to the chosen overlay path (steps without a path condition always apply). */
export function appliesToPath(step: StepDefinition, path: OverlayPath | undefined): boolean {
  const want = step.when?.overlayPath;
  return want === undefined || path === undefined || want === path;
}

/** Done / applicable counts of a chapter, for the chapter row's description (`3/4`). */
export function chapterProgress(chapter: ChapterDefinition, stateOf: (id: string) => StepState, path: OverlayPath | undefined): { done: number; total: number; failed: boolean; running: boolean } {
  let done = 0;
  let total = 0;
  let failed = false;
  let running = false;
  for (const s of chapter.steps) {
    if (!appliesToPath(s, path)) { continue; }
    total++;
    const st = stateOf(s.id);
    if (isDone(st)) { done++; }
    if (st === 'failed') { failed = true; }
    if (st === 'running') { running = true; }
  }
  return { done, total, failed, running };
}

/** A persisted record of one step's last outcome (what the progress fallback restores on activation). */
export interface StepRecord {
  readonly state: StepState;
  /** Epoch milliseconds of the outcome. */
  readonly at: number;
  /** One sentence: what happened (failure reason, expected-failure explanation). */
  readonly message?: string;
}

/**
 * The in-memory step states with change listeners. `running` is never persisted; everything else
 * is mirrored to the store given to the constructor (workspace state in VS Code).
 */
export class StepStateTable {
  private readonly records = new Map<string, StepRecord>();
  private readonly listeners = new Set<(ids: readonly string[]) => void>();

  constructor(private readonly persist?: (records: Readonly<Record<string, StepRecord>>) => void) {}

  /** The state of a step (`notRun` when unknown). */
  state(id: string): StepState {
    return this.records.get(id)?.state ?? 'notRun';
  }

  /** The last record of a step. */
  record(id: string): StepRecord | undefined {
    return this.records.get(id);
  }

  /** Sets one step's state and notifies listeners (no-op when unchanged). */
  set(id: string, state: StepState, message?: string, at = Date.now()): void {
    const old = this.records.get(id);
    if (old?.state === state && old.message === message) { return; }
    this.records.set(id, message === undefined ? { state, at } : { state, at, message });
    this.save();
    this.fire([id]);
  }

  /** Replaces everything (restore on activation, reset). `running` entries in `records` are dropped. */
  load(records: Readonly<Record<string, StepRecord>>): void {
    const ids = new Set([...this.records.keys(), ...Object.keys(records)]);
    this.records.clear();
    for (const [id, r] of Object.entries(records)) {
      if (r.state !== 'running') { this.records.set(id, r); }
    }
    this.save();
    this.fire([...ids]);
  }

  /** Every known record (no `running` entries: those are reported as they were before the run). */
  snapshot(): Record<string, StepRecord> {
    const out: Record<string, StepRecord> = {};
    for (const [id, r] of this.records) { if (r.state !== 'running') { out[id] = r; } }
    return out;
  }

  /** Listens to changes; the callback gets the ids that changed. Returns an unsubscribe function. */
  onDidChange(listener: (ids: readonly string[]) => void): () => void {
    this.listeners.add(listener);
    return () => { this.listeners.delete(listener); };
  }

  private save(): void {
    this.persist?.(this.snapshot());
  }

  private fire(ids: readonly string[]): void {
    for (const l of this.listeners) { l(ids); }
  }
}

/** Every step id of a lab, in order. */
export function stepIds(lab: LabDefinition): string[] {
  return lab.chapters.flatMap((c) => c.steps.map((s) => s.id));
}
