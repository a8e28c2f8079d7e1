/** What a CLI command may touch: its output streams and the environment (swapped in tests). */
export interface CliIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
  /** Aborted on SIGINT/SIGTERM. */
  readonly signal: AbortSignal;
}

/** One `docker-net-lab` sub-command. Returns the process exit code. */
export interface CliCommand {
  readonly summary: string;
  readonly usage: string;
  run(args: readonly string[], io: CliIo): Promise<number>;
}
