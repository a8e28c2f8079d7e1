import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CliCommand, CliIo } from '../cliIo';
import { describeError } from '../../core/errors';
import type { LabPaths } from '../../../lab/labLayout';

type Log = (line: string) => void;

async function up(paths: LabPaths, mode: 'cluster' | 'swarm' | 'plain', modeGiven: boolean, io: CliIo, log: Log, profile?: 'legacy' | 'modern' | 'mixed' | 'vm' | 'vm-legacy'): Promise<number> {
  const { labUp } = await import('../../../lab/labUp');
  const { profileSummary } = await import('../../../lab/labProfiles');
  log(`lab up (mode ${mode}${modeGiven ? '' : ', default'}${profile === undefined ? '' : `, profile ${profile}`}) …`);
  try {
    const r = await labUp(paths, { mode, modeGiven, ...(profile === undefined ? {} : { profile }) }, log);
    log(`${r.wasUp ? 'lab was already up (checked it, repaired what was missing)' : 'lab is up'}: docker-node1 10.99.0.11, docker-node2 10.99.0.12, mode ${r.mode}`);
    log(`profile ${r.profile}:`);
    for (const l of profileSummary(r.profile)) { log(`  ${l}`); }
    log(`timings: ${r.phases.map((p) => `${p.name} ${p.ms} ms`).join(', ')}; total ${r.totalMs} ms`);
    for (const v of r.vms ?? []) {
      log(`  ${v.node}: ${v.start} start${v.start === 'cold' ? ` (SSH ${v.sshMs} ms, Docker ${v.dockerMs} ms, images ${v.seedMs ?? 0} ms, state saved ${v.saveMs ?? 0} ms)` : ''}, resumed in ${v.resumeMs} ms`);
    }
    log(`nodes file: ${paths.nodesFile}`);
    log(`try: ssh -i ${paths.keyFile} -o UserKnownHostsFile=${paths.knownHosts} ${r.vms === undefined ? 'root' : 'learner'}@10.99.0.11 docker info`);
    return 0;
  } catch (e) {
    io.err(`docker-net-lab lab up failed: ${describeError(e)}\nRun "docker-net-lab lab down" to clean up what was started.\n`);
    return 1;
  }
}

async function down(paths: LabPaths, purge: boolean, log: Log): Promise<number> {
  const { labDown } = await import('../../../lab/labDown');
  const r = await labDown(paths, { purge }, log);
  for (const n of r.notes) { log(n); }
  log(`lab is down: ${r.phases.map((p) => `${p.name} ${p.ms} ms`).join(', ')}; total ${r.totalMs} ms`);
  return 0;
}

/** `docker-net-lab lab up|down|status`: the local two-node lab (Linux, root). */
export const labCommand: CliCommand = {
  summary: 'the local two-node lab: up [--mode cluster|swarm|plain] [--profile legacy|modern|mixed|vm|vm-legacy], status [--json], down [--purge] (Linux, root)',
  usage: 'docker-net-lab lab up [--mode cluster|swarm|plain] [--profile legacy|modern|mixed|vm|vm-legacy] | status [--json] | down [--purge]',
  async run(args, io) {
    const { parseLabArgs } = await import('../../../lab/labConfig');
    const { labPaths } = await import('../../../lab/labLayout');
    const { ownMachinesHint, platformProblem } = await import('../../../lab/labHost');
    const parsed = parseLabArgs(args);
    const problem = platformProblem();
    if (problem !== undefined) {
      io.err(`docker-net-lab lab ${parsed.action}: ${problem}.\n${ownMachinesHint}\n`);
      return 2;
    }
    const paths = labPaths(io.env);
    const log: Log = (line) => io.out(`${line}\n`);
    if (parsed.action === 'status') {
      const { formatStatus, labStatus } = await import('../../../lab/labStatus');
      const s = await labStatus(paths);
      io.out(parsed.json ? `${JSON.stringify(s, null, 2)}\n` : formatStatus(s));
      return s.up ? 0 : 1;
    }
    const { withLock } = await import('../../../lab/labProc');
    fs.mkdirSync(paths.home, { recursive: true });
    if (parsed.action === 'up' && (parsed.profile === 'vm' || parsed.profile === 'vm-legacy')) {
      // the VM images are built before the lab lock is taken: the build touches only the image cache (its own lock)
      const { ensureVmImages } = await import('../../../lab/vmLab');
      const { vmFlavourOf } = await import('../../../lab/labProfiles');
      try {
        await ensureVmImages(paths, vmFlavourOf(parsed.profile), log);
      } catch (e) {
        io.err(`docker-net-lab lab up failed: ${describeError(e)}\n`);
        return 1;
      }
    }
    // one lab command at a time: several users (and test runs) may call "lab up" at once
    return withLock(path.join(paths.home, 'lab.lock'), 30 * 60_000,
      (holder) => log(`waiting for another lab command (pid ${holder}) to finish …`),
      () => (parsed.action === 'up' ? up(paths, parsed.mode, parsed.modeGiven, io, log, parsed.profile) : down(paths, parsed.purge, log)));
  },
};
