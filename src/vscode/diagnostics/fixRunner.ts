import * as vscode from 'vscode';
import { displayText } from '../../core/util/displayText';

/** What "Apply fix" hands to a {@link FixRunner}: the diagnosed problem and its fix, facts filled. */
export interface FixRequest {
  /** The rule id of the finding. */
  readonly ruleId: string;
  /** The finding's title. */
  readonly title: string;
  /** Fix text: shell lines, `#` comments allowed. */
  readonly fix: string;
  /** The node the finding came from, when known. */
  readonly node?: string;
  /** A lab step/action id that applies the fix, when the rule names one. */
  readonly fixAction?: string;
  /** Machine-applicable fix commands (facts filled), when the rule has them. */
  readonly fixCommands?: readonly string[];
  /** Why the machine-applicable fix is not available (a fact was refused), when so. */
  readonly fixRefused?: string;
  /** The guided-lab step the finding belongs to (verified again after the fix). */
  readonly step?: string;
  /** True when the fix removes or restarts something. */
  readonly destructive: boolean;
}

/** What happened when a fix was applied. */
export interface FixRunResult {
  /** `ran`: executed on the node; `failed`: executed but a command failed; `copied`: handed to the user (clipboard); `cancelled`. */
  readonly outcome: 'ran' | 'failed' | 'copied' | 'cancelled';
  /** One sentence for the user. */
  readonly message: string;
}

/**
 * Runs a fix on a node. The steps feature provides the real one (runs the commands or the named
 * action through the lab runner) and installs it with {@link setFixRunner}; until then the
 * clipboard runner is used. Confirmation of destructive fixes happens before the runner is called.
 */
export interface FixRunner {
  run(request: FixRequest, token: vscode.CancellationToken): Promise<FixRunResult>;
}

/** The command lines of a fix text (comments and blank lines dropped), escaped for display. */
export function fixCommandLines(fix: string): string[] {
  return fix.split('\n').map((l) => displayText(l).replace(/(^|\s)#.*$/, '').trimEnd()).filter((l) => l.trim() !== '');
}

/** Default runner: copies the fix commands to the clipboard and says so. */
export const clipboardFixRunner: FixRunner = {
  async run(request) {
    const lines = fixCommandLines(request.fix);
    await vscode.env.clipboard.writeText(`${lines.join('\n')}\n`);
    const where = request.node === undefined ? 'the node' : displayText(request.node);
    const refused = request.fixRefused === undefined ? '' : ` It is not applied for you: ${displayText(request.fixRefused)}.`;
    return { outcome: 'copied', message: `Fix for "${displayText(request.title)}" copied to the clipboard (${lines.length} command line(s)): paste it into a terminal on ${where}.${refused}` };
  },
};

let current: FixRunner = clipboardFixRunner;

/** Installs the runner "Apply fix" uses; returns a disposable that restores the previous one. */
export function setFixRunner(runner: FixRunner): vscode.Disposable {
  const previous = current;
  current = runner;
  return new vscode.Disposable(() => { if (current === runner) { current = previous; } });
}

/** The runner in use. */
export function getFixRunner(): FixRunner {
  return current;
}
