import * as vscode from 'vscode';
import { lintText } from '../../core/diagnostics/commandLinter';
import type { LintFileKind } from '../../core/diagnostics/commandLinter';
import type { DiagnosticStore } from './diagnosticStore';

const kindByLanguage: Readonly<Record<string, LintFileKind>> = {
  shellscript: 'shell',
  markdown: 'markdown',
  dockerfile: 'dockerfile',
};

/** The linter's file kind for a document, or undefined when it is not linted. */
export function lintKindOf(doc: vscode.TextDocument): LintFileKind | undefined {
  if (doc.uri.scheme === 'output' || doc.uri.scheme === 'vscode-scm' || doc.uri.scheme.startsWith('docker-net-lab')) { return undefined; }
  return kindByLanguage[doc.languageId];
}

function settings(): { enabled: boolean; delayMs: number; dockerVersion: string } {
  const c = vscode.workspace.getConfiguration('dockerNetLab.diagnostics');
  return {
    enabled: c.get<boolean>('lint', true),
    delayMs: Math.max(0, c.get<number>('lintDelayMs', 300)),
    dockerVersion: c.get<string>('dockerVersion', ''),
  };
}

/** Lints open shell, Markdown and Dockerfile documents: on open, on change (debounced), cleared on close. */
export class LintController implements vscode.Disposable {
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(private readonly store: DiagnosticStore) {
    this.subscriptions.push(
      vscode.workspace.onDidOpenTextDocument((d) => this.lintNow(d)),
      vscode.workspace.onDidChangeTextDocument((e) => this.schedule(e.document)),
      vscode.workspace.onDidCloseTextDocument((d) => { this.cancel(d); this.store.clear(d.uri); }),
      vscode.workspace.onDidChangeConfiguration((e) => { if (e.affectsConfiguration('dockerNetLab.diagnostics')) { this.lintAll(); } }),
    );
    this.lintAll();
  }

  /** Lints every open document now. */
  lintAll(): void {
    for (const d of vscode.workspace.textDocuments) { this.lintNow(d); }
  }

  /** Lints one document now (or clears its lint findings when linting is off for it). */
  lintNow(doc: vscode.TextDocument): void {
    this.cancel(doc);
    const kind = lintKindOf(doc);
    const s = settings();
    if (kind === undefined || !s.enabled) { this.store.setLint(doc.uri, []); return; }
    const findings = lintText(doc.getText(), { kind, ...(s.dockerVersion === '' ? {} : { dockerVersion: s.dockerVersion }) });
    this.store.setLint(doc.uri, findings);
  }

  dispose(): void {
    for (const t of this.timers.values()) { clearTimeout(t); }
    this.timers.clear();
    for (const s of this.subscriptions) { s.dispose(); }
  }

  private schedule(doc: vscode.TextDocument): void {
    if (lintKindOf(doc) === undefined) { return; }
    this.cancel(doc);
    const key = doc.uri.toString();
    this.timers.set(key, setTimeout(() => { this.timers.delete(key); if (!doc.isClosed) { this.lintNow(doc); } }, settings().delayMs));
  }

  private cancel(doc: vscode.TextDocument): void {
    const key = doc.uri.toString();
    const t = this.timers.get(key);
    if (t !== undefined) { clearTimeout(t); this.timers.delete(key); }
  }
}
