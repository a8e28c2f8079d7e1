import * as vscode from 'vscode';
import { ruleById } from '../../core/diagnostics/rules';
import { displayText } from '../../core/util/displayText';
import type { StoredFinding } from './diagnosticStore';

/** URI scheme of the read-only "Explain" documents. */
export const explainScheme = 'docker-net-lab-explain';

/** Markdown explanation of a finding: title, what was seen, cause, fix, links. */
export function explainMarkdown(s: StoredFinding): string {
  if (s.kind === 'runtime') {
    const f = s.finding;
    const lines = [
      `# ${displayText(f.title)}`,
      '',
      `Rule \`${f.ruleId}\` · ${f.severity} · tutorial step \`${f.step}\`${f.count > 1 ? ` · seen ${f.count} times (lines ${f.line}–${f.lastLine})` : ''}`,
      '',
      '## What was seen',
      '',
      '```text',
      displayText(f.text).replace(/`/g, '\\x60'),
      '```',
      '',
      '## Why',
      '',
      displayText(f.cause),
      '',
      '## Fix',
      '',
      '```sh',
      displayText(f.fix, { multiline: true }),
      '```',
      ...(f.fixRefused === undefined ? [] : ['', `Fix not available: ${displayText(f.fixRefused)}`]),
    ];
    if (f.links.length > 0) { lines.push('', '## More', '', ...f.links.map((l) => `- <${l}>`)); }
    return `${lines.join('\n')}\n`;
  }
  const f = s.finding;
  const rule = f.relatedRuleId === undefined ? undefined : ruleById(f.relatedRuleId);
  const lines = [`# ${f.ruleId}`, '', `${f.severity} at line ${f.line}, column ${f.column}`, '', '## Why', '', displayText(f.message)];
  if (f.quickFix !== undefined) { lines.push('', '## Fix', '', `Quick fix available: ${f.quickFix.title}.`); }
  if (rule !== undefined) {
    lines.push('', `## When it runs anyway: ${rule.title}`, '', rule.cause, '', '```sh', rule.fix, '```');
  }
  return `${lines.join('\n')}\n`;
}

/** Serves explain documents from an in-memory map (one per explained finding). */
export class ExplainDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly docs = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  private counter = 0;

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.docs.get(uri.path) ?? '# Nothing to explain\n';
  }

  /** Opens the explanation of a finding beside the active editor; returns its URI. */
  async open(s: StoredFinding): Promise<vscode.Uri> {
    this.counter++;
    const path = `/${s.finding.ruleId}-${this.counter}.md`;
    this.docs.set(path, explainMarkdown(s));
    const uri = vscode.Uri.from({ scheme: explainScheme, path });
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.languages.setTextDocumentLanguage(doc, 'markdown');
    await vscode.window.showTextDocument(doc, { preview: true, viewColumn: vscode.ViewColumn.Beside, preserveFocus: true });
    return uri;
  }

  dispose(): void {
    this.changed.dispose();
    this.docs.clear();
  }
}
