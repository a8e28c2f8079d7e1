// Pure (no vscode import): the port through which the steps feature runs the core's lab runner.
// coreLabBackend.ts adapts the core (src/core/lab) to it; tests may substitute a fake.
import type { OverlayPath } from '../../core/lab/labDefinition';

/** Live events of one run, for the output view. */
export interface StepRunListener {
  /** A command is about to run on `node` (already rendered, exactly as sent). */
  onCommand(node: string, command: string): void;
  /** A chunk of a command's output. */
  onOutput(node: string, chunk: string, stream: 'stdout' | 'stderr'): void;
  /** A line of our own: a check passed/failed, a skipped action, an explanation. */
  onMessage(text: string): void;
}

/** How one run of a step ended. */
export interface StepRunOutcome {
  /**
   * `verified`: verification passed; `expectedFailure`: failed the expected way (done);
   * `failed`: a command or a check failed; `notApplicable`: skipped on this path / these nodes;
   * `cancelled`: the user cancelled.
   */
  readonly status: 'verified' | 'expectedFailure' | 'failed' | 'notApplicable' | 'cancelled';
  /** One sentence for the user (why it failed, what the expected failure taught). */
  readonly message?: string;
}

/** One command of a step's plan, rendered for the target node. */
export interface PlannedCommand {
  readonly node: string;
  readonly command: string;
  /** Which part of the step it belongs to. */
  readonly phase: 'prepare' | 'run' | 'expectFailure' | 'cleanup' | 'reset';
}

/** The lab operations the VS Code host needs. Every method honours `signal` (LabError `Cancelled`). */
export interface LabBackend {
  /** Runs the step (prepare, run, expected failure, verify), or only its verification. */
  runStep(stepId: string, mode: 'run' | 'verify', listener: StepRunListener, signal: AbortSignal): Promise<StepRunOutcome>;
  /** The exact commands a step would run (its prepare, run and expected-failure commands), for the confirmation dialog. */
  plan(stepId: string, signal: AbortSignal): Promise<readonly PlannedCommand[]>;
  /** The exact commands {@link reset} would run. */
  resetPlan(signal: AbortSignal): Promise<readonly PlannedCommand[]>;
  /** Undoes every step (cleanups in reverse order, then the lab's reset commands) and clears the progress. */
  reset(listener: StepRunListener, signal: AbortSignal): Promise<void>;
  /** The overlay path the lab will take (chosen, or detected from the nodes' Docker versions). */
  overlayPath(signal: AbortSignal): Promise<OverlayPath>;
  /** Records the user's overlay path choice (persisted with the progress). */
  setOverlayPath(path: OverlayPath): Promise<void>;
  /** The recorded progress (step id → done/failed), without touching the nodes. */
  recordedProgress(): Promise<Readonly<Record<string, { readonly status: StepRunOutcome['status']; readonly at: number; readonly message?: string }>>>;
}
