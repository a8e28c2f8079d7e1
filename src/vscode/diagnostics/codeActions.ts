import * as vscode from 'vscode';
import { displayText } from '../../core/util/displayText';
import { diagnosticsCommandIds } from './diagnosticsCommandIds';
import type { DiagnosticStore, StoredFinding } from './diagnosticStore';

/** The argument the explain/applyFix commands receive from code actions. */
export interface FindingRef {
  readonly uri: string;
  readonly line: number;
  readonly character: number;
  readonly ruleId: string;
}

/** Resolves a {@link FindingRef} back to the stored finding. */
export function resolveRef(store: DiagnosticStore, ref: unknown): StoredFinding | undefined {
  if (ref === null || typeof ref !== 'object') { return undefined; }
  const r = ref as Partial<FindingRef>;
  if (typeof r.uri !== 'string' || typeof r.line !== 'number' || typeof r.character !== 'number') { return undefined; }
  const pos = new vscode.Position(r.line, r.character);
  return store.at(vscode.Uri.parse(r.uri), new vscode.Range(pos, pos)).find((s) => s.finding.ruleId === r.ruleId);
}

function refOf(uri: vscode.Uri, s: StoredFinding): FindingRef {
  const start = s.diagnostic.range.start;
  return { uri: uri.toString(), line: start.line, character: start.character, ruleId: s.finding.ruleId };
}

/** Quick fixes (certain edits), "Explain" and, for runtime findings, "Apply fix". */
export class DiagnosticsCodeActions implements vscode.CodeActionProvider {
  static readonly kinds = [vscode.CodeActionKind.QuickFix];

  constructor(private readonly store: DiagnosticStore) {}

  provideCodeActions(doc: vscode.TextDocument, range: vscode.Range | vscode.Selection, context: vscode.CodeActionContext): vscode.CodeAction[] {
    const found = new Set<StoredFinding>();
    for (const d of context.diagnostics) {
      const s = this.store.forDiagnostic(doc.uri, d);
      if (s !== undefined) { found.add(s); }
    }
    if (found.size === 0) { for (const s of this.store.at(doc.uri, range)) { found.add(s); } }
    const actions: vscode.CodeAction[] = [];
    for (const s of found) {
      const ref = refOf(doc.uri, s);
      if (s.kind === 'lint' && s.finding.quickFix !== undefined) {
        const a = new vscode.CodeAction(s.finding.quickFix.title, vscode.CodeActionKind.QuickFix);
        a.diagnostics = [s.diagnostic];
        a.isPreferred = true;
        const edit = new vscode.WorkspaceEdit();
        for (const e of s.finding.quickFix.edits) {
          edit.replace(doc.uri, new vscode.Range(e.line - 1, e.column - 1, e.line - 1, e.endColumn - 1), e.newText);
        }
        a.edit = edit;
        actions.push(a);
      }
      if (s.kind === 'runtime') {
        const apply = new vscode.CodeAction(`Apply fix: ${displayText(s.finding.title)}`, vscode.CodeActionKind.QuickFix);
        apply.diagnostics = [s.diagnostic];
        apply.command = { command: diagnosticsCommandIds.diagnosticsApplyFix, title: 'Apply fix', arguments: [ref] };
        actions.push(apply);
      }
      const explain = new vscode.CodeAction(`Explain ${s.finding.ruleId}`, vscode.CodeActionKind.QuickFix);
      explain.diagnostics = [s.diagnostic];
      explain.command = { command: diagnosticsCommandIds.diagnosticsExplain, title: 'Explain', arguments: [ref] };
      actions.push(explain);
    }
    return actions;
  }
}

/** Hover over a finding: its cause (runtime) or message (lint), with the fix. */
export class DiagnosticsHover implements vscode.HoverProvider {
  constructor(private readonly store: DiagnosticStore) {}

  provideHover(doc: vscode.TextDocument, position: vscode.Position): vscode.Hover | undefined {
    const found = this.store.at(doc.uri, new vscode.Range(position, position));
    if (found.length === 0) { return undefined; }
    const md = new vscode.MarkdownString();
    for (const s of found) {
      if (s.kind === 'runtime') {
        // text, not Markdown: titles and causes may hold facts from the node or the log
        md.appendText(displayText(s.finding.title));
        md.appendMarkdown('\n\n');
        md.appendText(displayText(s.finding.cause));
        md.appendMarkdown('\n\n');
        md.appendCodeblock(displayText(s.finding.fix, { multiline: true }), 'sh');
        if (s.finding.fixRefused !== undefined) { md.appendText(`Fix not available: ${displayText(s.finding.fixRefused)}`); md.appendMarkdown('\n\n'); }
      } else {
        // Lint messages are written as Markdown (inline code in backticks).
        md.appendMarkdown(`**${s.finding.ruleId}**\n\n${displayText(s.finding.message)}\n\n`);
      }
    }
    return new vscode.Hover(md, found[0]?.diagnostic.range);
  }
}
