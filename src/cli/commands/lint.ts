import { readFile } from 'node:fs/promises';
import { LabError } from '../../core/errors';
import { parseCliArgs } from '../cliArgs';
import type { CliCommand } from '../cliIo';

const usage = 'docker-net-lab lint FILE... [--json] [--docker-version V] [--etcd-version V]';

/** `docker-net-lab lint`: checks docker/etcd command lines in shell scripts, Markdown and Dockerfiles. */
export const lintCommand: CliCommand = {
  summary: 'check docker, dockerd, etcd and etcdctl command lines in shell scripts, Markdown code blocks and Dockerfiles',
  usage,
  async run(args, io) {
    const parsed = parseCliArgs(args, { json: { type: 'boolean' }, 'docker-version': { type: 'string' }, 'etcd-version': { type: 'string' } }, { positionals: true, usage });
    if (parsed.positionals.length === 0) { throw new LabError('InvalidInput', `no file given.\nusage: ${usage}`); }
    const { lintText } = await import('../../core/diagnostics/commandLinter');
    const { formatLintFindings } = await import('../../core/diagnostics/formatFindings');
    const results: { file: string; findings: ReturnType<typeof lintText> }[] = [];
    for (const file of parsed.positionals) {
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (e) {
        throw new LabError('InvalidInput', `cannot read ${file}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
      }
      const findings = lintText(text, {
        fileName: file,
        ...(parsed.values['docker-version'] === undefined ? {} : { dockerVersion: parsed.values['docker-version'] }),
        ...(parsed.values['etcd-version'] === undefined ? {} : { etcdVersion: parsed.values['etcd-version'] }),
      });
      results.push({ file, findings });
    }
    if (parsed.values.json === true) {
      io.out(`${JSON.stringify(results.flatMap((r) => r.findings.map((f) => ({ file: r.file, id: f.ruleId, ...f }))), null, 2)}\n`);
    } else {
      const total = results.reduce((n, r) => n + r.findings.length, 0);
      io.out(results.map((r) => formatLintFindings(r.findings, r.file)).join(''));
      io.out(`${total} finding(s) in ${results.length} file(s).\n`);
    }
    return 0;
  },
};
