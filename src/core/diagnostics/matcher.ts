import { checkFact } from './factKinds';
import { fillCommandTemplate, groupsToFacts } from './fixTemplate';
import { anchorKeywords } from './keywordAnchors';
import { diagnosticRules } from './rules';
import type { DiagnosticRule, Facts, Finding } from './ruleTypes';

/** Options of {@link DiagnosticMatcher}. */
export interface MatcherOptions {
  /** The rules to apply; all of {@link diagnosticRules} by default. */
  readonly rules?: readonly DiagnosticRule[];
  /**
   * Facts known to the caller (node, ownIp, peerIp, …); they fill fix placeholders the message does not.
   * The caller's `node` wins over a host name found in a journal prefix of the line.
   */
  readonly context?: Facts;
  /** How many lines after a match may continue its message (rules with `continuation`); 4 by default. */
  readonly maxContinuationLines?: number;
}

interface CompiledRules {
  readonly rules: readonly DiagnosticRule[];
  /** One global regex matching any keyword's anchored suffix (the prefilter; see keywordAnchors). */
  readonly keywordScan: RegExp;
  /** keyword → indexes of the rules that have it. */
  readonly byKeyword: ReadonlyMap<string, readonly number[]>;
  /**
   * Text the prefilter matched (the longest anchor at that position) → the keywords to check on
   * the line: those whose anchor is a prefix of it (shorter anchors at the same position).
   */
  readonly byAnchorMatch: ReadonlyMap<string, readonly string[]>;
}

const compiledCache = new WeakMap<readonly DiagnosticRule[], CompiledRules>();

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/**
 * A regex source matching any of `words`, factored as a trie (common prefixes shared), which V8
 * scans noticeably faster than a flat alternation of the same words.
 */
function trieSource(words: readonly string[]): string {
  const groups = new Map<string, string[]>();
  let hasEmpty = false;
  for (const w of words) {
    if (w === '') { hasEmpty = true; continue; }
    const head = w.charAt(0);
    const list = groups.get(head) ?? [];
    list.push(w.slice(1));
    groups.set(head, list);
  }
  const alternatives = [...groups].map(([head, rest]) => {
    // Shared prefix of the group as one literal run, then branch.
    let common = rest[0] ?? '';
    for (const r of rest) { while (!r.startsWith(common)) { common = common.slice(0, -1); } }
    const tails = rest.map((r) => r.slice(common.length));
    const branch = tails.length === 1 ? escapeRegex(tails[0] ?? '') : `(?:${trieSource(tails)})`;
    return escapeRegex(head + common) + branch;
  });
  if (hasEmpty) { return `(?:${alternatives.join('|')})?`; }
  return alternatives.join('|');
}

function compile(rules: readonly DiagnosticRule[]): CompiledRules {
  const cached = compiledCache.get(rules);
  if (cached !== undefined) { return cached; }
  const byKeyword = new Map<string, number[]>();
  rules.forEach((rule, i) => {
    for (const k of rule.keywords) {
      const list = byKeyword.get(k) ?? [];
      if (!list.includes(i)) { list.push(i); }
      byKeyword.set(k, list);
    }
  });
  const keywords = [...byKeyword.keys()];
  const anchors = anchorKeywords(keywords);
  const distinct = [...new Set(anchors)];
  const byAnchorMatch = new Map<string, string[]>();
  for (const a of distinct) {
    byAnchorMatch.set(a, keywords.filter((_k, i) => a.startsWith(anchors[i] ?? '\u0000')));
  }
  const compiled: CompiledRules = {
    rules,
    keywordScan: new RegExp(trieSource(distinct), 'g'),
    byKeyword,
    byAnchorMatch,
  };
  compiledCache.set(rules, compiled);
  return compiled;
}

/** Hostname of a journald/syslog line prefix (`Nov 25 17:52:53 docker-node1 dockerd[7]: …`). */
const journalPrefix = /^(?:[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d|\d{4}-\d\d-\d\dT[\d:.]+(?:Z|[+-]\d\d:?\d\d)?) (?<node>[\w.-]+) [\w.@/-]+(?:\[\d+\])?: /;

const maxLineLength = 65536;

interface MutableFinding {
  rule: DiagnosticRule;
  facts: Record<string, string>;
  /** Host name of the line's journal prefix (a valid host name), used when the caller names no node. */
  journalNode: string | undefined;
  line: number;
  endLine: number;
  lastLine: number;
  count: number;
  text: string;
}

interface PendingContinuation {
  readonly record: MutableFinding;
  remaining: number;
}

function countNewlines(text: string, from: number, to: number): number {
  let n = 0;
  let i = text.indexOf('\n', from);
  while (i !== -1 && i < to) {
    n++;
    i = text.indexOf('\n', i + 1);
  }
  return n;
}

/**
 * Incremental matcher over a text stream (command output, `journalctl -u docker`, a log file).
 * Feed it chunks in order; it splits lines across chunk borders, finds every rule's messages, folds
 * repeats of the same message (same rule, same facts) into one finding with a count, and extends a
 * finding over the continuation lines of multi-line messages.
 *
 * Speed: one combined scan for the rules' literal keywords over the whole chunk; a rule's full
 * regex only runs on lines that hold one of its keywords. Not reentrant; use one matcher per stream.
 */
export class DiagnosticMatcher {
  private readonly compiled: CompiledRules;
  private readonly context: Facts;
  private readonly maxContinuation: number;
  private readonly records = new Map<string, MutableFinding>();
  private readonly order: MutableFinding[] = [];
  private carry = '';
  /** Line number (1-based) of the first line of the next complete text to process. */
  private nextLine = 1;
  private pending: PendingContinuation | undefined;
  private ended = false;
  private fresh: MutableFinding[] = [];

  constructor(options: MatcherOptions = {}) {
    this.compiled = compile(options.rules ?? diagnosticRules);
    this.context = options.context ?? {};
    this.maxContinuation = options.maxContinuationLines ?? 4;
  }

  /**
   * Adds the next chunk of the stream. Returns the findings first seen in this chunk (snapshots:
   * their count and line range may still grow; {@link findings} has the current state).
   * @throws LabError never; throws a plain Error when called after {@link end}.
   */
  feed(input: string): Finding[] {
    let chunk = input;
    if (this.ended) { throw new Error('DiagnosticMatcher.feed called after end()'); }
    if (this.carry !== '') {
      // Finish the carried line first, so the rest of the chunk is scanned without copying it.
      const nl = chunk.indexOf('\n');
      if (nl !== -1) {
        this.process(this.carry + chunk.slice(0, nl + 1), true);
        this.carry = '';
        chunk = chunk.slice(nl + 1);
      }
    }
    const text = this.carry === '' ? chunk : this.carry + chunk;
    const cut = text.lastIndexOf('\n');
    if (cut === -1) {
      this.carry = text;
      // Guard against unbounded growth on a stream without newlines.
      if (this.carry.length > maxLineLength * 4) {
        this.process(this.carry, false);
        this.carry = '';
      }
      return this.takeFresh();
    }
    this.carry = text.slice(cut + 1);
    this.process(text.slice(0, cut + 1), true);
    return this.takeFresh();
  }

  /** Ends the stream (processes an unterminated last line) and returns the findings first seen there. */
  end(): Finding[] {
    if (!this.ended) {
      if (this.carry !== '') { this.process(this.carry, false); }
      this.carry = '';
      this.pending = undefined;
      this.ended = true;
    }
    return this.takeFresh();
  }

  /** All findings so far, in order of first occurrence. */
  findings(): Finding[] {
    return this.order.map((r) => this.snapshot(r));
  }

  /** Number of lines processed so far. */
  get lineCount(): number {
    return this.nextLine - 1;
  }

  private takeFresh(): Finding[] {
    const out = this.fresh.map((r) => this.snapshot(r));
    this.fresh = [];
    return out;
  }

  private snapshot(r: MutableFinding): Finding {
    const node = this.context['node'] ?? r.journalNode;
    const facts: Record<string, string> = { ...this.context, ...r.facts, ...(node === undefined ? {} : { node }) };
    const kinds = r.rule.factKinds ?? {};
    const fix = fillCommandTemplate(r.rule.fix, kinds, [r.facts, this.context], r.rule.defaults);
    const commands = r.rule.fixCommands?.map((c) => fillCommandTemplate(c, kinds, [r.facts, this.context]));
    const refused = [...new Set((commands ?? []).flatMap((c) => c.refused))];
    const finding: Finding = {
      ruleId: r.rule.id,
      title: r.rule.title,
      cause: r.rule.cause,
      fix: fix.text,
      severity: r.rule.severity,
      line: r.line,
      endLine: r.endLine,
      lastLine: r.lastLine,
      count: r.count,
      facts,
      step: r.rule.step,
      text: r.text,
      links: r.rule.links,
      destructive: r.rule.destructive === true,
      ...(r.rule.fixAction === undefined ? {} : { fixAction: r.rule.fixAction }),
      ...(commands === undefined ? {} : refused.length > 0 ? { fixRefused: refused.join('; ') } : { fixCommands: commands.map((c) => c.text) }),
    };
    return finding;
  }

  /** Processes complete lines (`terminated`: text ends with a newline). */
  private process(text: string, terminated: boolean): void {
    const base = this.nextLine;
    if (this.pending !== undefined) { this.continueAt(text, 0, base, this.pending); }
    const { keywordScan: scan, byAnchorMatch, byKeyword } = this.compiled;
    scan.lastIndex = 0;
    let lineNo = base;
    let counted = 0;
    let lineStart = -1;
    let lineEnd = -1;
    let line = '';
    const candidates = new Set<number>();
    const flush = (): void => {
      if (candidates.size > 0) {
        lineNo += countNewlines(text, counted, lineStart);
        counted = lineStart;
        this.matchLine(text, lineStart, lineEnd, lineNo, candidates);
        candidates.clear();
      }
    };
    let m: RegExpExecArray | null;
    while ((m = scan.exec(text)) !== null) {
      if (m.index >= lineEnd) {
        flush();
        lineStart = m.index === 0 ? 0 : text.lastIndexOf('\n', m.index - 1) + 1;
        lineEnd = text.indexOf('\n', m.index);
        if (lineEnd === -1) { lineEnd = text.length; }
        line = text.slice(lineStart, lineEnd);
      }
      // Anchors are keyword suffixes: check the whole keywords on the line. Keep scanning the same
      // line (next position), since it may hold keywords of other rules too.
      for (const kw of byAnchorMatch.get(m[0]) ?? []) {
        if (line.includes(kw)) { for (const i of byKeyword.get(kw) ?? []) { candidates.add(i); } }
      }
      scan.lastIndex = m.index + 1;
    }
    flush();
    lineNo += countNewlines(text, counted, text.length);
    this.nextLine = terminated ? lineNo : lineNo + 1;
  }

  private matchLine(text: string, start: number, end: number, lineNo: number, candidates: ReadonlySet<number>): void {
    let line = text.slice(start, Math.min(end, start + maxLineLength));
    if (line.endsWith('\r')) { line = line.slice(0, -1); }
    const { rules } = this.compiled;
    const sorted = [...candidates].sort((a, b) => a - b);
    let specificMatched = false;
    const generic: [DiagnosticRule, RegExpExecArray][] = [];
    for (const i of sorted) {
      const rule = rules[i];
      if (rule === undefined) { continue; }
      const match = rule.pattern.exec(line);
      if (match === null) { continue; }
      if (rule.generic === true) { generic.push([rule, match]); continue; }
      specificMatched = true;
      this.record(rule, match, line, lineNo, text, end);
    }
    if (!specificMatched) {
      for (const [rule, match] of generic) { this.record(rule, match, line, lineNo, text, end); }
    }
  }

  private record(rule: DiagnosticRule, match: RegExpExecArray, line: string, lineNo: number, text: string, end: number): void {
    const facts = groupsToFacts(match.groups);
    const journal = journalPrefix.exec(line)?.groups?.['node'];
    const journalNode = journal !== undefined && checkFact('hostname', journal) ? journal : undefined;
    const key = `${rule.id}\u0000${journalNode ?? ''}\u0000${JSON.stringify(Object.entries(facts).sort(([a], [b]) => (a < b ? -1 : 1)))}`;
    const existing = this.records.get(key);
    if (existing !== undefined) {
      existing.count++;
      existing.lastLine = lineNo;
      return;
    }
    const rec: MutableFinding = { rule, facts, journalNode, line: lineNo, endLine: lineNo, lastLine: lineNo, count: 1, text: line.slice(0, 500) };
    this.records.set(key, rec);
    this.order.push(rec);
    this.fresh.push(rec);
    if (rule.continuation !== undefined) {
      const pending: PendingContinuation = { record: rec, remaining: this.maxContinuation };
      this.pending = undefined;
      this.continueAt(text, end + 1, lineNo + 1, pending);
    }
  }

  /** Extends `p.record` over continuation lines starting at `pos` (line number `lineNo`). */
  private continueAt(text: string, pos: number, lineNo: number, p: PendingContinuation): void {
    const cont = p.record.rule.continuation;
    this.pending = undefined;
    if (cont === undefined) { return; }
    let at = pos;
    let n = lineNo;
    while (p.remaining > 0) {
      if (at >= text.length) { this.pending = p; return; }
      let end = text.indexOf('\n', at);
      if (end === -1) { end = text.length; }
      const line = text.slice(at, Math.min(end, at + maxLineLength));
      const m = cont.exec(line);
      if (m === null) { return; }
      p.record.endLine = n;
      for (const [k, v] of Object.entries(groupsToFacts(m.groups))) {
        if (p.record.facts[k] === undefined) { p.record.facts[k] = v; }
      }
      p.remaining--;
      at = end + 1;
      n++;
    }
  }
}

/** Diagnoses a whole text at once. Same contract as {@link DiagnosticMatcher}. */
export function diagnoseText(text: string, options: MatcherOptions = {}): Finding[] {
  const m = new DiagnosticMatcher(options);
  m.feed(text);
  m.end();
  return m.findings();
}
