import { isLabError } from '../../core/errors';
import { allSteps, stepContextKey } from '../../core/lab/labDefinition';
import type { LabProgress } from '../../core/lab/progressStore';
import { parseCliArgs } from '../cliArgs';
import type { CliCommand } from '../cliIo';
import { loadLabAndProgress } from './run';

/** `docker-net-lab steps`: the guided lab's chapters and steps with their recorded status (no connection needed). */
export const stepsCommand: CliCommand = {
  summary: 'list the steps of the guided lab with their recorded status',
  usage: 'docker-net-lab steps [--json] [--nodes FILE]',
  async run(args, io) {
    const { values } = parseCliArgs(args, { json: { type: 'boolean' }, nodes: { type: 'string' } });
    let lab;
    let progress: LabProgress | undefined;
    try {
      const loaded = await loadLabAndProgress(io, values.nodes);
      lab = loaded.lab;
      progress = loaded.progress.progress;
    } catch (e) {
      if (!isLabError(e, 'LabNotRunning')) { throw e; }
      const { loadLab, defaultLabDir } = await import('../../core/lab/loadLab');
      lab = loadLab(io.env['DOCKER_NET_LAB_LAB_DIR'] ?? defaultLabDir());
    }
    const rows = allSteps(lab).map(({ chapter, step }) => ({
      id: step.id,
      chapter: chapter.id,
      title: step.title,
      nodes: step.nodes,
      destructive: step.destructive,
      expectedFailure: step.expectFailure !== undefined,
      ...(step.when === undefined ? {} : { when: step.when }),
      prerequisites: step.prerequisites,
      contextKey: stepContextKey(step.id),
      status: progress?.steps[step.id]?.status ?? 'not run',
      ...(progress?.steps[step.id]?.at === undefined ? {} : { at: progress.steps[step.id]?.at }),
    }));
    if (values.json === true) {
      io.out(`${JSON.stringify({ lab: lab.id, overlayPath: progress?.overlayPath ?? null, steps: rows }, null, 2)}\n`);
      return 0;
    }
    let chapter = '';
    for (const r of rows) {
      if (r.chapter !== chapter) {
        chapter = r.chapter;
        const ch = lab.chapters.find((c) => c.id === chapter);
        io.out(`\n${chapter}: ${ch?.title.en ?? ''}\n`);
      }
      const tags = [r.nodes, r.destructive ? 'destructive' : '', r.expectedFailure ? 'expected failure' : '', r.when?.overlayPath === undefined ? '' : `${r.when.overlayPath} path`].filter((t) => t !== '').join(', ');
      io.out(`  ${r.status.padEnd(8)} ${r.id.padEnd(26)} ${r.title.en}  [${tags}]\n`);
    }
    io.out(`\noverlay path: ${progress?.overlayPath ?? 'automatic (from the Docker version)'}\n`);
    return 0;
  },
};
