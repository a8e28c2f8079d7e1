import type * as vscode from 'vscode';
import { LabError } from '../../core/errors';
import type { LabDefinition, OverlayPath } from '../../core/lab/labDefinition';
import { gatherNodeFacts, majorVersion } from '../../core/lab/labFacts';
import { ProgressStore, defaultProgressFile, progressKey } from '../../core/lab/progressStore';
import type { NodeServices } from '../nodes/nodeServices';
import type { LabBackend, PlannedCommand, StepRunOutcome } from './labBackend';

/**
 * The LabBackend of the extension: the core's lab runner on the nodes of NodeServices (same SSH
 * sessions as the Lab Nodes view), with the progress file the CLI uses for the same nodes
 * (`/var/lib/docker-net-lab/progress.json` for the local lab, `~/.config/docker-net-lab/progress.json` else).
 */
export function createCoreLabBackend(labOrError: LabDefinition | Error, nodes: () => NodeServices, log: vscode.LogOutputChannel): LabBackend {
  const lab = (): LabDefinition => {
    if (labOrError instanceof Error) { throw labOrError; }
    return labOrError;
  };
  const store = (): ProgressStore => {
    const services = nodes();
    const configured = services.configuration().nodes.map((n) => n.config);
    if (configured.length < 2) {
      throw new LabError('NotFound', 'The lab needs two nodes; fewer are configured.', { fix: 'Start the local lab (docker-net-lab lab up) or add your two machines in the Lab Nodes view.' });
    }
    const localLab = configured.slice(0, 2).every((c) => services.labNodeNames().has(c.name));
    return new ProgressStore(defaultProgressFile(localLab), progressKey(lab().id, configured.slice(0, 2).map((c) => c.host)));
  };
  const notYet = (): never => {
    throw new LabError('NotSupported', 'The lab runner is not part of this build yet.');
  };
  return {
    runStep: (): Promise<StepRunOutcome> => notYet(),
    plan: (): Promise<readonly PlannedCommand[]> => notYet(),
    resetPlan: (): Promise<readonly PlannedCommand[]> => notYet(),
    reset: (): Promise<void> => notYet(),
    async overlayPath(signal) {
      const chosen = store().progress.overlayPath;
      if (chosen !== undefined) { return chosen; }
      const services = nodes();
      const first = services.configuration().nodes[0]?.config;
      if (first === undefined) { throw new LabError('NotFound', 'No node is configured.'); }
      const shell = await (await services.shells()).shell(first.name, signal);
      const facts = await gatherNodeFacts(shell, first.host, signal);
      const major = majorVersion(facts.dockerVersion);
      log.info(`Overlay path: ${first.name} runs Docker ${facts.dockerVersion || '(unknown)'}.`);
      return major !== undefined && major <= lab().clusterStoreMaxDockerMajor ? 'cluster-store' : 'swarm';
    },
    setOverlayPath(path: OverlayPath) {
      store().setOverlayPath(path);
      return Promise.resolve();
    },
    recordedProgress() {
      const out: Record<string, { status: StepRunOutcome['status']; at: number; message?: string }> = {};
      for (const [id, r] of Object.entries(store().progress.steps)) {
        const status: StepRunOutcome['status'] = r.status === 'passed' ? (r.expectedFailureObserved === true ? 'expectedFailure' : 'verified') : r.status === 'failed' ? 'failed' : 'notApplicable';
        out[id] = r.message === undefined ? { status, at: Date.parse(r.at) } : { status, at: Date.parse(r.at), message: r.message };
      }
      return Promise.resolve(out);
    },
  };
}
