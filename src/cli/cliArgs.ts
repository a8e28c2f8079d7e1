import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';
import { LabError, describeError } from '../core/errors';

/** The options a command accepts, in node:util `parseArgs` form. */
export type CliOptions = NonNullable<ParseArgsConfig['options']>;

/** How {@link parseCliArgs} treats what is not an option. */
export interface CliArgsShape {
  /** Operands (file names, a step id) are allowed; otherwise any operand is an error. */
  readonly positionals?: boolean;
  /** Appended to the error as `usage: …` when the arguments do not parse. */
  readonly usage?: string;
}

/**
 * Parses a command's arguments strictly (an unknown option or a missing value is an error).
 * @throws LabError `InvalidInput` with the parser's message (and the usage line when given).
 */
export function parseCliArgs<O extends CliOptions>(args: readonly string[], options: O, shape: CliArgsShape = {}): ReturnType<typeof parseArgs<{ args: string[]; options: O; strict: true; allowPositionals: true }>> {
  try {
    return parseArgs({ args: [...args], options, strict: true, allowPositionals: shape.positionals === true });
  } catch (e) {
    throw new LabError('InvalidInput', shape.usage === undefined ? describeError(e) : `${describeError(e)}\nusage: ${shape.usage}`);
  }
}

/**
 * Reads the `<step-id> | --all` operand of `run` and `verify`.
 * @returns the step id, or undefined for `--all`.
 * @throws LabError `InvalidInput` unless exactly one of the two is given.
 */
export function stepIdOrAll(all: boolean | undefined, positionals: readonly string[]): string | undefined {
  const id = positionals[0];
  if ((all === true) === (id !== undefined) || positionals.length > 1) {
    throw new LabError('InvalidInput', 'Give one step id or --all (see "docker-net-lab steps").');
  }
  return id;
}
