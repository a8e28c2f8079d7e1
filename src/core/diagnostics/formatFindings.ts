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

/** Human-readable report of runtime findings: location, severity, title, cause and the fix indented. */
export function formatFindings(findings: readonly Finding[], source: string): string {
  if (findings.length === 0) { return `${source}: no known problem found.\n`; }
  const out: string[] = [];
  for (const f of findings) {
    const where = f.line === 0 ? source : `${source}:${f.line}${f.endLine > f.line ? `-${f.endLine}` : ''}`;
    const times = f.count > 1 ? ` (${f.count} times, last on line ${f.lastLine})` : '';
    out.push(`${where}: ${f.severity} [${f.ruleId}] ${f.title}${times}`);
    out.push(`  cause: ${f.cause}`);
    out.push('  fix:');
    for (const l of f.fix.split('\n')) { out.push(`    ${l}`); }
    out.push('');
  }
  const errors = findings.filter((f) => f.severity === 'error').length;
  out.push(`${findings.length} finding(s), ${errors} error(s).`);
  return `${out.join('\n')}\n`;
}

/** Human-readable lint report (`file:line:column: severity message [rule]`). */
export function formatLintFindings(findings: readonly LintFinding[], file: string): string {
  return findings.map((f) => `${file}:${f.line}:${f.column}: ${f.severity} ${f.message} [${f.ruleId}]${f.quickFix === undefined ? '' : ` (quick fix: ${f.quickFix.title})`}\n`).join('');
}
