/** Longest user-given value {@link quoteUserText} keeps, in characters (before the ellipsis). */
export const userTextMaxChars = 80;

// C0 controls, DEL, C1 controls (ESC sequences, CSI), line/paragraph separators and the bidi
// embedding/override/isolate marks that can make a terminal line read differently than it is.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const unsafeChars = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * A value the user typed, made safe to echo in a message shown on a terminal or in the UI: control
 * and bidi characters become visible escapes (`\x1b`, `\n`, `\u202e`), then the result is cut to
 * `maxChars` characters (code points) with `…` appended when longer. Pure; never throws.
 */
export function quoteUserText(value: string, maxChars = userTextMaxChars): string {
  const escaped = value.replace(unsafeChars, (c) => {
    switch (c) {
      case '\n': return '\\n';
      case '\r': return '\\r';
      case '\t': return '\\t';
      default: {
        const code = c.charCodeAt(0);
        return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
      }
    }
  });
  const points = [...escaped];
  return points.length > maxChars ? `${points.slice(0, maxChars).join('')}…` : escaped;
}
