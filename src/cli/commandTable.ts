import type { CliCommand } from './cliIo';

/**
 * The sub-commands of `docker-net-lab`, loaded lazily so that `--help` and small commands stay fast.
 * One file per command in ./commands; add a line here for a new one.
 */
export const commandTable: Readonly<Record<string, () => Promise<CliCommand>>> = {
  diagnose: async () => (await import('./commands/diagnose')).diagnoseCommand,
  lint: async () => (await import('./commands/lint')).lintCommand,
  version: async () => (await import('./commands/version')).versionCommand,
  lab: async () => (await import('./commands/lab')).labCommand,
  nodes: async () => (await import('./commands/nodes')).nodesCommand,
  tree: async () => (await import('./commands/tree')).treeCommand,
  steps: async () => (await import('./commands/steps')).stepsCommand,
  run: async () => (await import('./commands/run')).runCommand,
  verify: async () => (await import('./commands/verify')).verifyCommand,
  reset: async () => (await import('./commands/reset')).resetCommand,
};
