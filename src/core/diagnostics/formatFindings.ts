import { displayText } from '../util/displayText';
import type { LintFinding } from './commandLinter';
import type { Finding } from './ruleTypes';

/** A finding as the CLI's `--json` prints it: the finding plus `id` (= ruleId). */
export interface FindingJson extends Finding {
  /** Same as `ruleId`. */
  readonly id: string;
}

/** Adds `id` to each finding, for JSON output. */
export function findingsToJson(findings: readonly Finding[]): FindingJson[] {
  return findings.map((f) => ({ id: f.ruleId, ...f }));
}

/**
 * Human-readable report of runtime findings: location, severity, title, cause and the fix indented,
 * and why the fix cannot be applied when its facts were refused. Every text is escaped for the
 * terminal ({@link displayText}).
 */
export function formatFindings(findings: readonly Finding[], source: string): string {
  const src = displayText(source);
  if (findings.length === 0) { return `${src}: no known problem found.\n`; }
  const out: string[] = [];
  for (const f of findings) {
    const where = f.line === 0 ? src : `${src}:${f.line}${f.endLine > f.line ? `-${f.endLine}` : ''}`;
    const times = f.count > 1 ? ` (${f.count} times, last on line ${f.lastLine})` : '';
    out.push(`${where}: ${f.severity} [${displayText(f.ruleId)}] ${displayText(f.title)}${times}`);
    out.push(`  cause: ${displayText(f.cause)}`);
    out.push('  fix:');
    for (const l of f.fix.split('\n')) { out.push(`    ${displayText(l)}`); }
    if (f.fixRefused !== undefined) { out.push(`  fix not available: ${displayText(f.fixRefused)}`); }
    out.push('');
  }
  const errors = findings.filter((f) => f.severity === 'error').length;
  out.push(`${findings.length} finding(s), ${errors} error(s).`);
  return `${out.join('\n')}\n`;
}

/** Human-readable lint report (`file:line:column: severity message [rule]`). */
export function formatLintFindings(findings: readonly LintFinding[], file: string): string {
  return findings.map((f) => displayText(`${file}:${f.line}:${f.column}: ${f.severity} ${f.message} [${f.ruleId}]${f.quickFix === undefined ? '' : ` (quick fix: ${f.quickFix.title})`}`) + '\n').join('');
}
