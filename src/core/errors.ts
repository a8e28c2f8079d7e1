/**
 * Errors as data: every failure the core reports is a {@link LabError} with a stable {@link ErrorCode}.
 * Callers branch on `code` (see {@link isLabError}), never on message text.
 */

/** Stable error codes. Add new codes at the end; hosts map them to fixes and tree items. */
export type ErrorCode =
  | 'InvalidInput'
  | 'InvalidSettings'
  | 'InvalidNodesFile'
  | 'InvalidLabDefinition'
  | 'NotSupported'
  | 'NotRoot'
  | 'HostKeyUnknown'
  | 'HostKeyChanged'
  | 'HostKeyRejected'
  | 'AuthFailed'
  | 'Unreachable'
  | 'Timeout'
  | 'Cancelled'
  | 'Disconnected'
  | 'CommandFailed'
  | 'SudoFailed'
  | 'DockerUnavailable'
  | 'DockerApiError'
  | 'LabNotRunning'
  | 'LabProvisionFailed'
  | 'StepFailed'
  | 'VerificationFailed'
  | 'NotFound';

/** Options for {@link LabError}. */
export interface LabErrorOptions {
  /** The underlying error, kept for logs. */
  readonly cause?: unknown;
  /** One sentence telling the user what to do about it. */
  readonly fix?: string;
  /** The node the error concerns, when there is one. */
  readonly node?: string;
}

/** The one error class of the core. `message` is a full sentence fit to show a user. */
export class LabError extends Error {
  /** Stable machine-readable code. */
  readonly code: ErrorCode;
  /** What the user can do about it, when known. */
  readonly fix: string | undefined;
  /** The node concerned, when known. */
  readonly node: string | undefined;

  constructor(code: ErrorCode, message: string, options: LabErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'LabError';
    this.code = code;
    this.fix = options.fix;
    this.node = options.node;
  }
}

/** True when `e` is a {@link LabError}, and (when `code` is given) has that code. */
export function isLabError(e: unknown, code?: ErrorCode): e is LabError {
  return e instanceof LabError && (code === undefined || e.code === code);
}

/** A one-line description of any thrown value, for logs and messages. */
export function describeError(e: unknown): string {
  if (e instanceof Error) { return e.message; }
  if (typeof e === 'string') { return e; }
  // JSON.stringify gives undefined for these and throws on a bigint
  if (e === undefined || typeof e === 'function' || typeof e === 'symbol' || typeof e === 'bigint') { return String(e); }
  try { return JSON.stringify(e); } catch { return Object.prototype.toString.call(e); }
}

/** Throws a `Cancelled` {@link LabError} when the signal is aborted. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) {
    throw new LabError('Cancelled', 'The operation was cancelled.');
  }
}
