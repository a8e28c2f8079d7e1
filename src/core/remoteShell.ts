/**
 * The port through which the core runs commands on a node. `NodeSession` (ssh2) implements it;
 * the lab runner and the diagnostics' state checks depend only on this interface.
 */

/** Options of {@link RemoteShell.exec}. */
export interface ExecOptions {
  /** Aborts the command (the remote process gets SIGTERM/its channel closed). */
  readonly signal?: AbortSignal;
  /** Called with each chunk of stdout as it arrives (UTF-8 text). */
  readonly onStdout?: (chunk: string) => void;
  /** Called with each chunk of stderr as it arrives (UTF-8 text). */
  readonly onStderr?: (chunk: string) => void;
  /** Written to the command's stdin, then stdin is closed. */
  readonly stdin?: string;
  /** Run through `sudo` when the node is configured for it (no tty; password through stdin). */
  readonly sudo?: boolean;
  /** Milliseconds before the command is aborted with a `Timeout` error; none by default. */
  readonly timeoutMs?: number;
}

/** The outcome of one remote command. A non-zero exit code is a result, not an exception. */
export interface ExecResult {
  /** Exit code; `null` when the process died from a signal. */
  readonly code: number | null;
  /** The signal that ended the process, if any. */
  readonly signal?: string;
  /** The whole stdout (UTF-8). */
  readonly stdout: string;
  /** The whole stderr (UTF-8). */
  readonly stderr: string;
}

/** Runs shell command lines on one node. */
export interface RemoteShell {
  /** The node's name. */
  readonly node: string;
  /**
   * Runs `command` with the node's login shell (`sh -c` semantics). Resolves with the exit code
   * and output; rejects only when the command could not be run (connection lost, cancelled, timeout).
   */
  exec(command: string, options?: ExecOptions): Promise<ExecResult>;
}

/**
 * Gives the shells of the configured nodes. The CLI and the VS Code host each provide one (backed by
 * NodeSession over SSH); the lab runner and state checks take it as a parameter.
 */
export interface ShellProvider {
  /** Names of the configured nodes, in order (node1 first). */
  nodeNames(): readonly string[];
  /**
   * The shell of one node, connecting when needed.
   * @throws LabError `NotFound` for an unknown node, connection errors (`Unreachable`, `HostKeyChanged`, …).
   */
  shell(node: string, signal?: AbortSignal): Promise<RemoteShell>;
}
