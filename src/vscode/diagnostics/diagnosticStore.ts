import * as vscode from 'vscode';
import { displayText } from '../../core/util/displayText';
import type { LintFinding } from '../../core/diagnostics/commandLinter';
import type { Finding } from '../../core/diagnostics/ruleTypes';

/** The source shown with every diagnostic of this feature. */
export const diagnosticSource = 'Docker Network Lab';

/** A diagnostic and the core finding it came from (lint or runtime). */
export type StoredFinding =
  | { readonly kind: 'lint'; readonly diagnostic: vscode.Diagnostic; readonly finding: LintFinding }
  | { readonly kind: 'runtime'; readonly diagnostic: vscode.Diagnostic; readonly finding: Finding };

function toSeverity(s: 'error' | 'warning' | 'info'): vscode.DiagnosticSeverity {
  if (s === 'error') { return vscode.DiagnosticSeverity.Error; }
  if (s === 'warning') { return vscode.DiagnosticSeverity.Warning; }
  return vscode.DiagnosticSeverity.Information;
}

/** Converts a lint finding (1-based lines/columns) to a diagnostic. */
export function lintDiagnostic(f: LintFinding): vscode.Diagnostic {
  const range = new vscode.Range(f.line - 1, f.column - 1, f.endLine - 1, f.endColumn - 1);
  const d = new vscode.Diagnostic(range, displayText(f.message), toSeverity(f.severity));
  d.source = diagnosticSource;
  d.code = f.ruleId;
  return d;
}

/** Converts a runtime finding to a diagnostic over its lines in `doc` (offset: line of the diagnosed text's start, 0-based). */
export function runtimeDiagnostic(f: Finding, doc: vscode.TextDocument, lineOffset: number): vscode.Diagnostic {
  const first = Math.min(doc.lineCount - 1, lineOffset + Math.max(f.line, 1) - 1);
  const last = Math.min(doc.lineCount - 1, lineOffset + Math.max(f.endLine, 1) - 1);
  const range = new vscode.Range(first, 0, last, doc.lineAt(last).text.length);
  const times = f.count > 1 ? ` (${f.count}×, last on line ${lineOffset + f.lastLine})` : '';
  const d = new vscode.Diagnostic(range, displayText(`${f.title}${times}`), toSeverity(f.severity));
  d.source = diagnosticSource;
  d.code = f.ruleId;
  return d;
}

/**
 * Keeps the core finding behind every published diagnostic, per document, so hovers and code
 * actions can reach the cause and the fix.
 */
export class DiagnosticStore implements vscode.Disposable {
  readonly lint = vscode.languages.createDiagnosticCollection('dockerNetLab.lint');
  readonly runtime = vscode.languages.createDiagnosticCollection('dockerNetLab.runtime');
  private readonly byUri = new Map<string, { lint: StoredFinding[]; runtime: StoredFinding[] }>();

  /** Replaces the lint findings of a document. */
  setLint(uri: vscode.Uri, findings: readonly LintFinding[]): void {
    const stored = findings.map((finding): StoredFinding => ({ kind: 'lint', diagnostic: lintDiagnostic(finding), finding }));
    this.entry(uri).lint = stored;
    this.lint.set(uri, stored.map((s) => s.diagnostic));
  }

  /** Replaces the runtime findings of a document. */
  setRuntime(doc: vscode.TextDocument, findings: readonly Finding[], lineOffset: number): void {
    const stored = findings.map((finding): StoredFinding => ({ kind: 'runtime', diagnostic: runtimeDiagnostic(finding, doc, lineOffset), finding }));
    this.entry(doc.uri).runtime = stored;
    this.runtime.set(doc.uri, stored.map((s) => s.diagnostic));
  }

  /** Forgets a document's findings. */
  clear(uri: vscode.Uri): void {
    this.byUri.delete(uri.toString());
    this.lint.delete(uri);
    this.runtime.delete(uri);
  }

  /** Findings of a document whose range touches `range`. */
  at(uri: vscode.Uri, range: vscode.Range): StoredFinding[] {
    const e = this.byUri.get(uri.toString());
    if (e === undefined) { return []; }
    return [...e.lint, ...e.runtime].filter((s) => s.diagnostic.range.intersection(range) !== undefined);
  }

  /** The stored finding behind a diagnostic VS Code hands back (code actions' context). */
  forDiagnostic(uri: vscode.Uri, d: vscode.Diagnostic): StoredFinding | undefined {
    const e = this.byUri.get(uri.toString());
    if (e === undefined) { return undefined; }
    return [...e.lint, ...e.runtime].find((s) => s.diagnostic === d || (s.diagnostic.code === d.code && s.diagnostic.range.isEqual(d.range) && s.diagnostic.message === d.message));
  }

  dispose(): void {
    this.lint.dispose();
    this.runtime.dispose();
    this.byUri.clear();
  }

  private entry(uri: vscode.Uri): { lint: StoredFinding[]; runtime: StoredFinding[] } {
    const key = uri.toString();
    let e = this.byUri.get(key);
    if (e === undefined) { e = { lint: [], runtime: [] }; this.byUri.set(key, e); }
    return e;
  }
}
