import * as vscode from 'vscode';
import { diagnoseText } from '../../core/diagnostics/matcher';
import type { Facts, Finding } from '../../core/diagnostics/ruleTypes';
import type { DiagnosticStore } from './diagnosticStore';

/** True for documents that hold logs (VS Code's `log` language, `*.log` files). */
export function isLogDocument(doc: vscode.TextDocument): boolean {
  return doc.languageId === 'log' || /\.log$/i.test(doc.uri.path);
}

/**
 * Publishes runtime findings (known Docker/etcd error messages) for documents: on demand for any
 * document ({@link diagnose}), and automatically for open log documents when
 * `dockerNetLab.diagnostics.diagnoseLogs` is on (debounced on change).
 */
export class RuntimeController implements vscode.Disposable {
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(private readonly store: DiagnosticStore) {
    const auto = (d: vscode.TextDocument): boolean => isLogDocument(d) && vscode.workspace.getConfiguration('dockerNetLab.diagnostics').get<boolean>('diagnoseLogs', true);
    this.subscriptions.push(
      vscode.workspace.onDidOpenTextDocument((d) => { if (auto(d)) { this.diagnose(d); } }),
      vscode.workspace.onDidChangeTextDocument((e) => {
        const d = e.document;
        if (!auto(d)) { return; }
        const key = d.uri.toString();
        const t = this.timers.get(key);
        if (t !== undefined) { clearTimeout(t); }
        this.timers.set(key, setTimeout(() => { this.timers.delete(key); if (!d.isClosed) { this.diagnose(d); } }, 500));
      }),
    );
    for (const d of vscode.workspace.textDocuments) { if (auto(d)) { this.diagnose(d); } }
  }

  /**
   * Diagnoses a document (or the lines `fromLine`..end of its selection) and publishes the findings
   * as Problems; returns them. `context` fills fix placeholders (node, ownIp, peerIp, …).
   */
  diagnose(doc: vscode.TextDocument, range?: vscode.Range, context?: Facts): Finding[] {
    const text = range === undefined ? doc.getText() : doc.getText(range);
    const findings = diagnoseText(text, context === undefined ? {} : { context });
    this.store.setRuntime(doc, findings, range?.start.line ?? 0);
    return findings;
  }

  dispose(): void {
    for (const t of this.timers.values()) { clearTimeout(t); }
    this.timers.clear();
    for (const s of this.subscriptions) { s.dispose(); }
  }
}

let active: RuntimeController | undefined;

/** Makes `controller` the one {@link diagnoseDocument} uses (called on activation). */
export function setActiveRuntimeController(controller: RuntimeController | undefined): void {
  active = controller;
}

/**
 * For other features (e.g. step output documents): diagnoses a document and shows its findings in
 * the Problems panel with hovers, Explain and Apply fix. Returns [] before activation.
 */
export function diagnoseDocument(doc: vscode.TextDocument, context?: Facts): Finding[] {
  return active?.diagnose(doc, undefined, context) ?? [];
}
