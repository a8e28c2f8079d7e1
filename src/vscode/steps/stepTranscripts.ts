import * as vscode from 'vscode';

/** URI scheme of the read-only per-step output documents (`dockerNetLab-step:/<step id>.log`). */
export const stepOutputScheme = 'dockerNetLab-step';

/** The document URI of one step's last run. */
export function stepOutputUri(stepId: string): vscode.Uri {
  return vscode.Uri.from({ scheme: stepOutputScheme, path: `/${stepId}.log` });
}

/**
 * The output of step runs: every run streams into one output channel ("Docker Network Lab: Steps"),
 * each command echoed as `[node] $ command`; the last run of each step is also kept as its own
 * read-only document (Show Step Output), updated live while the step runs.
 */
export class StepTranscripts implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly texts = new Map<string, string>();
  private readonly emitter = new vscode.EventEmitter<vscode.Uri>();
  private readonly pending = new Set<string>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly channel: vscode.OutputChannel;
  /** Lines still open per step+node+stream (output arrives in chunks that do not end at newlines). */
  private readonly partial = new Map<string, string>();
  readonly onDidChange = this.emitter.event;

  constructor(private readonly placeholder: (stepId: string) => string) {
    this.channel = vscode.window.createOutputChannel('Docker Network Lab: Steps');
  }

  /** Starts a new transcript for a run of `stepId` (replaces the previous one). */
  begin(stepId: string, header: string): void {
    const line = `=== ${header} — ${new Date().toISOString()} ===\n`;
    this.texts.set(stepId, line);
    this.channel.append(`\n${line}`);
    this.changed(stepId);
  }

  /** Appends a line of our own (a command echo, a check result, the outcome). */
  line(stepId: string, text: string): void {
    this.flushPartials(stepId);
    this.append(stepId, `${text}\n`);
  }

  /** Echoes a command before it runs: `[node] $ command`. */
  command(stepId: string, node: string, command: string): void {
    this.line(stepId, `[${node}] $ ${command}`);
  }

  /** Appends raw output of a command, prefixed with the node per line. */
  output(stepId: string, node: string, chunk: string, stream: 'stdout' | 'stderr'): void {
    const key = `${stepId}\u0000${node}\u0000${stream}`;
    const text = (this.partial.get(key) ?? '') + chunk;
    const lines = text.split('\n');
    this.partial.set(key, lines.pop() ?? '');
    const prefix = stream === 'stderr' ? `[${node}] ! ` : `[${node}]   `;
    if (lines.length > 0) { this.append(stepId, lines.map((l) => `${prefix}${l}\n`).join('')); }
  }

  /** The transcript of the step's last run, or undefined when it has not run in this session. */
  transcript(stepId: string): string | undefined {
    return this.texts.get(stepId);
  }

  /** Reveals the shared output channel. */
  showChannel(): void {
    this.channel.show(true);
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    const id = uri.path.replace(/^\//, '').replace(/\.log$/, '');
    return this.texts.get(id) ?? this.placeholder(id);
  }

  private flushPartials(stepId: string): void {
    for (const [key, rest] of this.partial) {
      if (key.startsWith(`${stepId}\u0000`) && rest !== '') {
        const [, node, stream] = key.split('\u0000');
        this.append(stepId, `[${node ?? '?'}] ${stream === 'stderr' ? '!' : ' '} ${rest}\n`);
        this.partial.set(key, '');
      }
    }
  }

  private append(stepId: string, text: string): void {
    this.texts.set(stepId, (this.texts.get(stepId) ?? '') + text);
    this.channel.append(text);
    this.changed(stepId);
  }

  /** Coalesces document change events (output can arrive in many small chunks). */
  private changed(stepId: string): void {
    this.pending.add(stepId);
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      for (const id of this.pending) { this.emitter.fire(stepOutputUri(id)); }
      this.pending.clear();
    }, 100);
  }

  dispose(): void {
    if (this.timer !== undefined) { clearTimeout(this.timer); }
    this.emitter.dispose();
    this.channel.dispose();
  }
}
