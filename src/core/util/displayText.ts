/** Longest user-given value {@link quoteUserText} keeps, in characters (before the ellipsis). */
export const userTextMaxChars = 80;

// C0 controls, DEL, C1 controls (ESC sequences, CSI), line/paragraph separators, and the bidi
// marks, embeddings, overrides and isolates that can make a terminal line read differently than it is.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const unsafeChars = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const unsafeCharsExceptNewline = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const anyUnsafe = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

function escapeChar(c: string): string {
  switch (c) {
    case '\n': return '\\n';
    case '\r': return '\\r';
    case '\t': return '\\t';
    default: {
      const code = c.charCodeAt(0);
      return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
    }
  }
}

/**
 * Text from outside (a log line, a node's output, a captured fact) made safe to show on a terminal,
 * in a message, a hover or the clipboard: control characters (C0, DEL, C1, so every ANSI escape
 * sequence and `\r`), line/paragraph separators and bidi marks become visible escapes (`\x1b`,
 * `\r`, `\u202e`). With `multiline`, `\n` stays a line break (every other control is still escaped).
 * The one escaping helper of the product. Pure; never throws.
 */
export function displayText(text: string, options: { readonly multiline?: boolean } = {}): string {
  return text.replace(options.multiline === true ? unsafeCharsExceptNewline : unsafeChars, escapeChar);
}

/** True when `text` holds a character {@link displayText} would escape (`\n` included). */
export function hasUnsafeDisplayChars(text: string): boolean {
  return anyUnsafe.test(text);
}

/**
 * A value the user typed, made safe to echo in a message shown on a terminal or in the UI: escaped
 * as {@link displayText} does, then cut to `maxChars` characters (code points) with `…` appended
 * when longer. Pure; never throws.
 */
export function quoteUserText(value: string, maxChars = userTextMaxChars): string {
  const escaped = displayText(value);
  const points = [...escaped];
  return points.length > maxChars ? `${points.slice(0, maxChars).join('')}…` : escaped;
}

// The characters JSON.stringify leaves raw that a terminal or an editor may still act on.
const jsonUnsafe = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * `JSON.stringify(value, null, indent)` safe to print: besides the C0 controls JSON already escapes,
 * DEL, C1 controls, separators and bidi marks are written as `\uXXXX` (still the same JSON). Never
 * throws for values JSON.stringify accepts.
 */
export function displayJson(value: unknown, indent = 2): string {
  return (JSON.stringify(value, null, indent) ?? 'null').replace(jsonUnsafe, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
