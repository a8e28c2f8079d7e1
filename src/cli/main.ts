import { describeError, isLabError } from '../core/errors';
import type { CliIo } from './cliIo';
import { commandTable } from './commandTable';

function usage(): string {
  const names = Object.keys(commandTable).sort();
  return [
    'usage: docker-net-lab <command> [options]',
    '',
    `commands: ${names.join(', ')}`,
    'run "docker-net-lab <command> --help" for the options of one command.',
    '',
  ].join('\n');
}

/** Runs the CLI with `argv` (without node and script); resolves with the exit code. */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out(usage());
    return name === undefined ? 2 : 0;
  }
  const load = commandTable[name];
  if (load === undefined) {
    io.err(`docker-net-lab: unknown command "${name}".\n${usage()}`);
    return 2;
  }
  const command = await load();
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(`${command.usage}\n\n${command.summary}\n`);
    return 0;
  }
  try {
    return await command.run(rest, io);
  } catch (e) {
    if (isLabError(e, 'Cancelled')) {
      io.err('docker-net-lab: cancelled.\n');
      return 130;
    }
    const fix = isLabError(e) && e.fix !== undefined ? `\n${e.fix}` : '';
    io.err(`docker-net-lab ${name}: ${describeError(e)}${fix}\n`);
    if (io.env['DOCKER_NET_LAB_DEBUG'] === '1' && e instanceof Error && e.stack !== undefined) { io.err(`${e.stack}\n`); }
    return isLabError(e, 'InvalidInput') ? 2 : 1;
  }
}

/** Runs the CLI for this process (argv, stdio, signals) and sets the exit code. Called by bin/docker-net-lab.js. */
export function runCli(): void {
  const controller = new AbortController();
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => controller.abort());
  }
  const io: CliIo = {
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
    env: process.env,
    signal: controller.signal,
  };
  main(process.argv.slice(2), io).then((code) => { process.exitCode = code; }, (e: unknown) => {
    process.stderr.write(`docker-net-lab: ${describeError(e)}\n`);
    process.exitCode = 1;
  });
}
