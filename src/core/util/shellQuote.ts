/**
 * Quotes one argument for a POSIX shell: the result is always a single word with no expansion.
 * @example shellQuote("it's") === `'it'\\''s'`
 */
export function shellQuote(arg: string): string {
  if (arg !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) { return arg; }
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** Joins arguments into a shell command line, quoting each with {@link shellQuote}. */
export function shellJoin(args: readonly string[]): string {
  return args.map(shellQuote).join(' ');
}
