import { LabError } from '../errors';

/**
 * Quotes one argument for a POSIX shell: the result is always a single word with no expansion.
 * @example shellQuote("it's") === `'it'\\''s'`
 * @throws LabError `InvalidInput` when `arg` contains a NUL byte: no shell word can hold one, and the
 *   exec of a command line would silently cut it there.
 */
export function shellQuote(arg: string): string {
  if (arg.includes('\0')) {
    throw new LabError('InvalidInput', `The value ${JSON.stringify(arg.slice(0, 80))} contains a NUL byte, which cannot be passed to a shell.`);
  }
  if (arg !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) { return arg; }
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** Joins arguments into a shell command line, quoting each with {@link shellQuote}. */
export function shellJoin(args: readonly string[]): string {
  return args.map(shellQuote).join(' ');
}
