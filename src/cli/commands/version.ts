import type { CliCommand } from '../cliIo';

declare const __VERSION__: string | undefined;

/** `docker-net-lab version`: prints the CLI's version. */
export const versionCommand: CliCommand = {
  summary: 'print the version',
  usage: 'docker-net-lab version',
  run(_args, io) {
    io.out(`docker-net-lab ${typeof __VERSION__ === 'string' ? __VERSION__ : 'dev'}\n`);
    return Promise.resolve(0);
  },
};
