/**
 * Types shared by the diagnostics rule table, the matcher, the state checks and the linter.
 */
import type { FactKind } from './factKinds';

/** How bad a finding is. `info` marks expected or harmless messages (they still teach something). */
export type Severity = 'error' | 'warning' | 'info';

/** Facts captured from a message (named regex groups) or given by the caller (node, peer IP, …). */
export type Facts = Readonly<Record<string, string>>;

/**
 * One diagnostic rule: a real error message, why it happens and how to fix it.
 * `fix` is a command template: `{key}` is replaced by the fact `key` (from the pattern's named groups,
 * the caller's context, {@link DiagnosticRule.defaults} or the global defaults, in that order).
 */
export interface DiagnosticRule {
  /** Stable id (kebab-case). Catalog-derived rules keep the catalog's id. */
  readonly id: string;
  /** One short line naming the problem. */
  readonly title: string;
  /** Literal substrings (case-sensitive); a line is only tested against `pattern` when it holds one of them. */
  readonly keywords: readonly string[];
  /**
   * Tested against one line (without its newline). Named groups become facts; a group name ending in
   * `_<digit>` is an alias (`port_2` → `port`), so alternatives can capture the same fact.
   */
  readonly pattern: RegExp;
  /** Lines right after a match that belong to the same message (they extend `endLine`, may add facts). */
  readonly continuation?: RegExp;
  /** Why it happens, in plain words. */
  readonly cause: string;
  /** What to do: shell command lines (comments with `#`), with `{fact}` placeholders. */
  readonly fix: string;
  /** Fact values used when neither the message nor the caller supplies them. */
  readonly defaults?: Facts;
  /**
   * The kind of every fact `fix` and `fixCommands` use (one entry per `{key}`, a unit test checks it):
   * a captured value is only put into the fix, shell-quoted, when it is valid for its kind.
   */
  readonly factKinds?: Readonly<Record<string, FactKind>>;
  /** How bad it is. */
  readonly severity: Severity;
  /** The tutorial step it belongs to (free text ids such as `ch1-port-mapping`, `ch4-etcd-cluster`). */
  readonly step: string;
  /** Upstream references (issues, docs). */
  readonly links: readonly string[];
  /** Id of a lab step/action that applies the fix, when one exists. */
  readonly fixAction?: string;
  /**
   * Machine-applicable form of the fix: shell command lines (with `{fact}` placeholders) that run
   * unattended, as root, on the node the message came from. Only set when they need no human choice.
   */
  readonly fixCommands?: readonly string[];
  /** True when applying the fix removes or restarts something (containers, daemons): ask first. */
  readonly destructive?: boolean;
  /** Generic rules are only reported for a line that no specific rule matched. */
  readonly generic?: boolean;
}

/** One diagnosed problem found in a text stream. Line numbers are 1-based. */
export interface Finding {
  /** The rule's id. */
  readonly ruleId: string;
  /** The rule's title. */
  readonly title: string;
  /** The rule's cause text. */
  readonly cause: string;
  /** The fix with the facts filled in. */
  readonly fix: string;
  /** The rule's severity. */
  readonly severity: Severity;
  /** First line of the first occurrence. */
  readonly line: number;
  /** Last line of the first occurrence (same as `line` unless continuation lines followed). */
  readonly endLine: number;
  /** Line of the last occurrence (equal to `line` when `count` is 1). */
  readonly lastLine: number;
  /** How many times the same message (same rule, same facts) occurred. */
  readonly count: number;
  /** Facts captured from the message (plus the caller's context). */
  readonly facts: Facts;
  /** The tutorial step of the rule. */
  readonly step: string;
  /** The matched line as it appeared (first occurrence, trimmed to 500 characters). */
  readonly text: string;
  /** The rule's links. */
  readonly links: readonly string[];
  /** The rule's fix action id, if any. */
  readonly fixAction?: string;
  /** The rule's machine-applicable fix commands with the facts filled, if any. */
  readonly fixCommands?: readonly string[];
  /**
   * Why the machine-applicable fix is not available although the rule has one: a fact it needs was
   * refused (not valid for its kind). `fixCommands` is then absent.
   */
  readonly fixRefused?: string;
  /** True when the fix is destructive. */
  readonly destructive: boolean;
}
