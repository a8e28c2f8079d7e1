/**
 * How commands reach root on a node whose user is not root (pure decisions; `NodeSession` runs them).
 *
 * Once per connection the session asks sudo, without a password, whether it would run a command
 * (`sudo -n true`, {@link sudoProbeCommand}). What sudo answers decides the rest ({@link classifySudoProbe}):
 * `NOPASSWD` runs every command with `sudo -n` and never asks for a password; `requiretty` ("sorry,
 * you must have a tty to run sudo") moves sudo into a pseudo-terminal whose echo is off; otherwise the
 * password is asked for once, checked with `sudo -k -S true` ({@link classifySudoCheck}), and written
 * to the stdin of every later command — never onto a command line.
 */
import { shellQuote } from '../util/shellQuote';

/** What a node's sudo needs, as found by the probe. */
export interface SudoAccess {
  /** Commands run in a pseudo-terminal (the node's sudoers say `requiretty`). */
  readonly pty: boolean;
  /** sudo asks for the user's password (false: `NOPASSWD`). */
  readonly password: boolean;
}

/** The result of one sudo command, as {@link classifySudoProbe} and {@link classifySudoCheck} read it. */
export interface SudoOutput {
  readonly code: number | null;
  /** stdout and stderr together (in a pseudo-terminal they are one stream). */
  readonly text: string;
}

/** Asks sudo whether it runs a command without a password (`-n`: never prompt). */
export const sudoProbeCommand = 'sudo -n true';

/** Checks a password: `-k` ignores cached credentials, so sudo reads the password line from stdin every time. */
export const sudoCheckCommand = "sudo -k -S -p '' -- true";

const ttyRequired = /sorry, you must have a tty to run sudo|a terminal is required/i;
const passwordRequired = /a password is required/i;
const passwordRefused = /incorrect password attempt|no password was provided|Sorry, try again/i;
const notAllowed = /is not in the sudoers file|is not allowed to run sudo|may not run sudo/i;

/**
 * What the probe's result says:
 * - `ok`: sudo ran without a password (NOPASSWD);
 * - `tty`: sudo wants a terminal (`Defaults requiretty`): probe again in a pseudo-terminal;
 * - `password`: sudo wants the user's password;
 * - `unavailable`: anything else (no sudo installed, an unknown refusal); `reason` is sudo's first line.
 * Pure.
 */
export function classifySudoProbe(r: SudoOutput): { readonly verdict: 'ok' | 'tty' | 'password' } | { readonly verdict: 'unavailable'; readonly reason: string } {
  if (r.code === 0) { return { verdict: 'ok' }; }
  if (ttyRequired.test(r.text)) { return { verdict: 'tty' }; }
  if (passwordRequired.test(r.text)) { return { verdict: 'password' }; }
  return { verdict: 'unavailable', reason: firstLine(r.text) };
}

/**
 * What the password check's result says: `ok`; `refused` (wrong or empty password); `not-allowed` (the
 * password is right but the sudoers give this user no rights); `failed` with sudo's first line. Pure.
 */
export function classifySudoCheck(r: SudoOutput): { readonly verdict: 'ok' | 'refused' | 'not-allowed' } | { readonly verdict: 'failed'; readonly reason: string } {
  if (r.code === 0) { return { verdict: 'ok' }; }
  if (notAllowed.test(r.text)) { return { verdict: 'not-allowed' }; }
  if (passwordRefused.test(r.text)) { return { verdict: 'refused' }; }
  return { verdict: 'failed', reason: firstLine(r.text) };
}

/**
 * True when a command run through sudo with a password ended because sudo refused that password
 * (it was changed since it was checked): exit 1 and sudo's own count of failed attempts. Pure.
 */
export function sudoRefusedCommand(r: SudoOutput): boolean {
  return r.code === 1 && /^sudo: \d+ incorrect password attempts?$|^sudo: no password was provided$/m.test(r.text);
}

/**
 * The command line that runs `command` as root with `access`: `sudo -n` without a password, else
 * `sudo -k -S -p ''` reading the password line from stdin (`-k`: sudo always reads it, so it never
 * reaches the command). The command itself runs under `sh -c`, quoted. Pure.
 */
export function sudoCommandLine(command: string, access: SudoAccess): string {
  return `${access.password ? "sudo -k -S -p ''" : 'sudo -n'} -- sh -c ${shellQuote(command)}`;
}

/** The sentence for a password sudo refused (wrong, or none given) for `user@host`. */
export function sudoRefusedMessage(user: string, host: string, why?: string): string {
  return `sudo refused the password for ${user}@${host}${why === undefined ? '' : `: ${why}`}.`;
}

function firstLine(text: string): string {
  const line = text.split('\n').map((l) => l.trim()).find((l) => l !== '') ?? '';
  return line.length > 200 ? `${line.slice(0, 199)}…` : line;
}
