/**
 * Splits command lines of shell scripts, Markdown code blocks and Dockerfile RUN instructions into
 * words with their positions, for the command linter. Not a full shell parser: quotes, escapes,
 * comments, `\` line continuations and the operators `;`, `&&`, `||`, `|`, `&` are understood;
 * expansions are kept as text.
 */

/** A word of a command, unquoted, with its position in the source. Lines and columns are 1-based. */
export interface Word {
  /** The word with quotes removed. */
  readonly text: string;
  /** The word as written (with quotes). */
  readonly raw: string;
  /** Line of the first character. */
  readonly line: number;
  /** Column of the first character. */
  readonly column: number;
  /** Line of the character after the last one. */
  readonly endLine: number;
  /** Column after the last character (exclusive). */
  readonly endColumn: number;
}

/** One simple command (words between operators). */
export type SimpleCommand = readonly Word[];

/** A physical source line handed to the splitter: its text and 1-based number, and an offset of its first column. */
export interface SourceLine {
  readonly text: string;
  readonly line: number;
  /** Columns to add (e.g. after a stripped `$ ` prompt or the `RUN ` keyword); 0 by default. */
  readonly columnOffset?: number;
}

interface Pos { readonly line: number; readonly column: number }

/**
 * Joins continuation lines (`\` at the end) and splits the result into simple commands.
 * Comments (`#` at a word start) end the logical line.
 */
export function splitCommands(lines: readonly SourceLine[]): SimpleCommand[] {
  const commands: SimpleCommand[] = [];
  let current: Word[] = [];
  let buf = '';
  let raw = '';
  let start: Pos | undefined;
  let last: Pos = { line: 1, column: 1 };
  let quote: '' | "'" | '"' = '';
  const endWord = (): void => {
    if (start !== undefined) {
      current.push({ text: buf, raw, line: start.line, column: start.column, endLine: last.line, endColumn: last.column + 1 });
    }
    buf = ''; raw = ''; start = undefined;
  };
  const endCommand = (): void => {
    endWord();
    if (current.length > 0) { commands.push(current); }
    current = [];
  };
  for (const src of lines) {
    const t = src.text.replace(/\r$/, '');
    const off = src.columnOffset ?? 0;
    let continued = false;
    for (let i = 0; i < t.length; i++) {
      const c = t.charAt(i);
      const pos: Pos = { line: src.line, column: off + i + 1 };
      if (quote !== '') {
        raw += c;
        last = pos;
        if (c === quote) { quote = ''; continue; }
        if (c === '\\' && quote === '"' && i + 1 < t.length) { i++; buf += t.charAt(i); raw += t.charAt(i); last = { line: src.line, column: off + i + 1 }; continue; }
        buf += c;
        continue;
      }
      if (c === '\\') {
        if (i === t.length - 1) { continued = true; break; }
        start ??= pos;
        i++;
        buf += t.charAt(i); raw += c + t.charAt(i);
        last = { line: src.line, column: off + i + 1 };
        continue;
      }
      if (c === ' ' || c === '\t') { endWord(); continue; }
      if (c === '#' && start === undefined) { break; }
      if (c === ';' || c === '|' || c === '&' || c === '(' || c === ')') {
        endCommand();
        if ((c === '|' || c === '&') && t.charAt(i + 1) === c) { i++; }
        continue;
      }
      if (c === "'" || c === '"') { quote = c; start ??= pos; raw += c; last = pos; continue; }
      start ??= pos;
      buf += c; raw += c; last = pos;
    }
    if (quote !== '') { buf += '\n'; raw += '\n'; continue; }
    if (!continued) { endCommand(); } else { endWord(); }
  }
  endCommand();
  return commands;
}
