import * as fs from 'node:fs';
import type { LabPaths } from './labLayout';
import { labHostVeth, labNodes, labSwitchNs, nodePaths } from './labLayout';
import { isMountPoint, labNetnsPresent, linkExists, listNetns, mountsUnder, netnsPids, readLabState, writeLabState } from './labHost';
import { stopNode } from './labNodeControl';
import { run, terminate } from './labProc';
import { purgeModernState } from './modernNode';
import { vmTearDown } from './vmLab';

/** Options of {@link labDown}. */
export interface DownOptions {
  /** Also delete node data (docker data roots, etcd data, logs); the image cache stays. */
  readonly purge: boolean;
}

/** Timings and what teardown found. */
export interface DownReport {
  readonly phases: readonly { readonly name: string; readonly ms: number }[];
  readonly totalMs: number;
  readonly notes: readonly string[];
}

/**
 * Tears the lab down: every daemon by pid (containers SIGKILLed first), leftover processes of the node
 * namespaces, the namespaces and the root veth, /run/netns and /var/lib/docker when the lab created them,
 * and the nodes file. Works after a half-failed up and after daemons were killed from outside. Never throws
 * for missing pieces.
 */
export async function labDown(paths: LabPaths, opts: DownOptions, log: (line: string) => void): Promise<DownReport> {
  const t0 = Date.now();
  const phases: { name: string; ms: number }[] = [];
  const notes: string[] = [];
  const phase = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const s = Date.now();
    const r = await fn();
    phases.push({ name, ms: Date.now() - s });
    return r;
  };

  await phase('stop daemons', async () => {
    const reports = await Promise.all(labNodes.map((n) => stopNode(n, paths)));
    for (const r of reports) {
      if (r.stopped.length > 0) { log(`${r.node}: stopped ${r.stopped.join(', ')}`); }
      if (r.leftovers > 0) { notes.push(`${r.node}: killed ${r.leftovers} leftover process(es)`); }
    }
  });

  await phase('virtual machines', async () => {
    for (const line of await vmTearDown(paths, opts.purge)) { log(line); }
  });

  await phase('namespaces', async () => {
    for (const ns of await labNetnsPresent()) {
      const left = await netnsPids(ns);
      if (left.length > 0) { await terminate(left, 2000); }
      await run('ip', ['netns', 'del', ns]);
    }
    if (await linkExists(labHostVeth)) { await run('ip', ['link', 'del', labHostVeth]); }
  });

  await phase('mounts', async () => {
    const state = readLabState(paths);
    // mounts of ours in the root namespace (there should be none: node mounts live in the nodes' namespaces)
    for (const m of mountsUnder(paths.home).reverse()) { await run('umount', ['-l', m]); notes.push(`unmounted ${m}`); }
    if (state.createdRunNetns && (await listNetns()).length === 0 && fs.existsSync('/run/netns')) {
      while (isMountPoint('/run/netns')) {
        if ((await run('umount', ['/run/netns'])).code !== 0) { break; }
      }
      try { fs.rmdirSync('/run/netns'); } catch { /* not empty: someone else's */ }
    }
    if (state.createdVarLibDocker) {
      try { fs.rmdirSync('/var/lib/docker'); } catch { /* not empty or gone */ }
    }
    if (state.createdEtcDocker) {
      try { fs.rmdirSync('/etc/docker'); } catch { /* not empty or gone */ }
    }
    writeLabState(paths, {
      createdRunNetns: state.createdRunNetns && fs.existsSync('/run/netns'),
      createdVarLibDocker: state.createdVarLibDocker && fs.existsSync('/var/lib/docker'),
      createdEtcDocker: state.createdEtcDocker && fs.existsSync('/etc/docker'),
      ...(state.mode === undefined ? {} : { mode: state.mode }),
    });
  });

  fs.rmSync(paths.nodesFile, { force: true });
  if (opts.purge) {
    await phase('purge', () => {
      for (const n of labNodes) {
        const np = nodePaths(paths, n);
        for (const d of [np.dockerData, np.etcdData, np.logDir]) { fs.rmSync(d, { recursive: true, force: true }); }
        purgeModernState(np);
      }
      fs.rmSync(paths.buildDir, { recursive: true, force: true });
      return Promise.resolve();
    });
    log(`purged node data (image cache kept in ${paths.cache})`);
  }
  const remaining = await labNetnsPresent();
  if (remaining.length > 0) { notes.push(`namespaces still present: ${remaining.join(', ')}`); }
  if (await linkExists(labHostVeth)) { notes.push(`${labHostVeth} still present`); }
  if ((await listNetns()).includes(labSwitchNs)) { notes.push(`${labSwitchNs} still present`); }
  return { phases, totalMs: Date.now() - t0, notes };
}
