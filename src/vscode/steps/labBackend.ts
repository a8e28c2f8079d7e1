// Pure (no vscode import at run time): the port through which the steps feature runs the core's lab runner.
// coreLabBackend.ts adapts the core (src/core/lab) to it; tests may substitute a fake.
import type { OverlayPath } from '../../core/lab/labDefinition';
import type { OverlayPathDecision } from '../../core/lab/overlayPathDecision';
import type { StepState } from './stepStates';
import type { StepsNode } from './stepsTreeProvider';

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
  /** Needs root: runs through sudo on a non-root node configured with `sudo: true`. */
  readonly sudo?: boolean;
}

/**
 * A confirmation the backend needs before it changes the nodes (destructive step, kernel upgrade,
 * reset), with the exact commands. The host shows it as a modal dialog.
 */
export interface ConfirmationRequest {
  readonly kind: 'step' | 'kernel' | 'reset';
  readonly title: string;
  readonly commands: readonly PlannedCommand[];
  readonly notes?: readonly string[];
}

/** The lab operations the VS Code host needs. Every method honours `signal` (LabError `Cancelled`). */
export interface LabBackend {
  /** Runs the step (prepare, run, expected failure, verify), or only its verification. */
  runStep(stepId: string, mode: 'run' | 'verify', listener: StepRunListener, signal: AbortSignal): Promise<StepRunOutcome>;
  /** The exact commands a step would run (prepare + run, filled in from the nodes), for display. */
  plan(stepId: string, signal: AbortSignal): Promise<readonly PlannedCommand[]>;
  /**
   * Undoes every step (cleanups in reverse order, then the lab's reset commands) and clears the progress.
   * `confirmed` is false when the user declined; `failures` lists cleanup commands that failed (the rest still ran).
   */
  reset(listener: StepRunListener, signal: AbortSignal): Promise<{ readonly confirmed: boolean; readonly failures: readonly string[] }>;
  /** The overlay path the lab will take on these nodes (chosen, or from their Docker versions), with its reason. */
  overlayPath(signal: AbortSignal): Promise<OverlayPathDecision>;
  /** Records the user's overlay path choice (persisted with the progress). */
  setOverlayPath(path: OverlayPath): Promise<void>;
  /** The overlay path chosen for these nodes (also by the CLI), without touching the nodes. */
  recordedOverlayPath(): OverlayPath | undefined;
  /** The recorded progress (step id → done/failed), without touching the nodes. */
  recordedProgress(): Promise<Readonly<Record<string, { readonly status: StepRunOutcome['status']; readonly at: number; readonly message?: string }>>>;
}

/** The step id a command received: a string (walkthrough link, API), a tree node, or nothing. */
export function stepIdArgument(arg: unknown): string | undefined {
  if (typeof arg === 'string') { return arg; }
  if (typeof arg === 'object' && arg !== null && (arg as { kind?: unknown }).kind === 'step') {
    return (arg as Extract<StepsNode, { kind: 'step' }>).step.id;
  }
  return undefined;
}

/** The text of the modal that confirms a destructive step: the exact commands, grouped by node, then notes. */
export function confirmationDetail(commands: readonly PlannedCommand[], notes: readonly string[] = []): string {
  const lines: string[] = [];
  let node: string | undefined;
  for (const c of commands) {
    if (c.node !== node) { node = c.node; lines.push(`On ${c.node}:`); }
    // `#` as a root shell shows it: this command needs root (sudo on a non-root node)
    lines.push(`  ${c.sudo === true ? '#' : '$'} ${c.command}`);
  }
  if (notes.length > 0) { lines.push('', ...notes.map((n) => `Note: ${n}`)); }
  return lines.join('\n');
}

/** The display state of a run outcome (`undefined` for a cancelled run: the previous state stays). */
export function outcomeState(status: StepRunOutcome['status']): StepState | undefined {
  switch (status) {
    case 'verified': return 'verified';
    case 'expectedFailure': return 'expectedFailure';
    case 'failed': return 'failed';
    case 'notApplicable': return 'notApplicable';
    case 'cancelled': return undefined;
  }
}

