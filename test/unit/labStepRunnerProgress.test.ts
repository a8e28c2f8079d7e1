import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { LabError } from '../../src/core/errors';
import { factsCommand } from '../../src/core/lab/labFacts';
import { defaultLabDir, loadLab } from '../../src/core/lab/loadLab';
import { ProgressStore } from '../../src/core/lab/progressStore';
import type { RunEvent, StepResult } from '../../src/core/lab/stepRunner';
import { StepRunner } from '../../src/core/lab/stepRunner';
import { eventPrinter } from '../../src/cli/commands/run';
import { forwardEvent } from '../../src/vscode/steps/coreLabBackend';
import { FakeShells, factsText } from './fakeShells';

const schemaFile = path.join(defaultLabDir('docker-networking', __dirname), '..', 'schema', 'lab.schema.json');
const hosts = { 'docker-node1': '10.99.0.11', 'docker-node2': '10.99.0.12' };

function progressFile(): string {
  return path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'runner-progress-')), 'progress.json');
}

/**
 * A lab shaped like chapters 3 and 5 of the tutorial: `old-a` is replaced by `old-b`, `old-b` by `new`
 * (flask-redis moved to node2); `slow` is a check that can hang (ch5-flask-node2 while redis is stopped).
 */
function writeReplacingLab(): string {
  const d = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'lab-replacing-')), 'demo');
  fs.mkdirSync(d);
  const t = { en: 'T', 'zh-cn': 'T' };
  fs.writeFileSync(path.join(d, 'lab.json'), JSON.stringify({
    kind: 'lab', schemaVersion: 1, id: 'demo', title: t, images: {}, clusterStoreMaxDockerMajor: 22, chapters: ['c1.json'], reset: [],
  }));
  fs.writeFileSync(path.join(d, 'c1.json'), JSON.stringify({
    kind: 'chapter', id: 'c1', title: t, nodes: 'node1', steps: [
      { id: 'old-a', title: t, nodes: 'node1', run: [{ run: 'make-old' }], verify: [{ kind: 'command', run: 'check-old' }], supersededBy: ['old-b'] },
      { id: 'old-b', title: t, nodes: 'node1', run: [{ run: 'make-old' }], verify: [{ kind: 'command', run: 'check-old' }], supersededBy: ['new'] },
      { id: 'new', title: t, nodes: 'node1', run: [{ run: 'make-new' }], verify: [{ kind: 'command', run: 'check-new' }] },
      { id: 'slow', title: t, nodes: 'node1', run: [{ run: 'true' }], verify: [{ kind: 'command', run: 'check-slow' }] },
    ],
  }));
  return d;
}

interface ReplacingLab {
  readonly state: { old: boolean; newUp: boolean; hang: boolean; dropOn?: string; failOn?: string };
  readonly runner: StepRunner;
  readonly progress: ProgressStore;
  readonly controller: { current: AbortController };
}

function replacingLab(file = progressFile()): ReplacingLab {
  const lab = loadLab(writeReplacingLab(), { schemaFile });
  const state: ReplacingLab['state'] = { old: false, newUp: false, hang: false };
  const controller = { current: new AbortController() };
  const shells = new FakeShells(async (node, cmd) => {
    if (cmd === factsCommand) { return { stdout: factsText(node, '20.10.24', true) }; }
    if (cmd === state.dropOn) { throw new LabError('Disconnected', `The connection to ${node} was lost while a command was running.`); }
    if (cmd === state.failOn) { return { code: 1, stderr: 'failed' }; }
    if (cmd === 'make-old') { state.old = true; return {}; }
    if (cmd === 'make-new') { state.old = false; state.newUp = true; return {}; }
    if (cmd === 'check-old') { return state.old ? {} : { code: 1, stderr: 'container flask-redis not found on docker-node1' }; }
    if (cmd === 'check-new') { return state.newUp ? {} : { code: 1, stderr: 'redis is not running' }; }
    if (cmd === 'check-slow' && state.hang) {
      // hangs until the run is stopped (SIGTERM in the CLI, Cancel in VS Code)
      const signal = controller.current.signal;
      setTimeout(() => { controller.current.abort(); }, 5);
      await new Promise((resolve) => { signal.addEventListener('abort', resolve, { once: true }); });
      return { code: 1 };
    }
    return {};
  });
  const progress = new ProgressStore(file, 'demo 10.99.0.11,10.99.0.12');
  const runner = new StepRunner({ lab, shells, progress, hosts, sleep: () => Promise.resolve() });
  return { state, runner, progress, controller };
}

function statuses(results: readonly StepResult[]): string {
  return results.map((r) => `${r.stepId}=${r.status}${r.supersededBy === undefined ? '' : `<${r.supersededBy}`}`).join(' ');
}

describe('step runner: records survive interrupted and repeated verification (issue "progress survives interruption")', () => {
  it('an interrupted verify while a later step\'s state was broken does not untick the steps it replaced', async () => {
    const h = replacingLab();
    const ran = await h.runner.runAll();
    assert.equal(statuses(ran), 'old-a=passed old-b=passed new=passed slow=passed');
    const recordsAfterRun = structuredClone(h.progress.progress.steps);
    const whole = 'old-a=passed<old-b old-b=passed<new new=passed slow=passed';
    assert.equal(statuses(await h.runner.verifyAll()), whole);

    // "docker stop redis", then a verify that hangs and is stopped
    h.state.newUp = false;
    h.state.hang = true;
    const interrupted = await h.runner.verifyAll({ signal: h.controller.current.signal });
    assert.equal(statuses(interrupted), 'old-a=passed<old-b old-b=passed<new new=failed slow=cancelled');
    assert.equal(h.progress.step('new')?.status, 'failed', 'the broken step records its own new result');
    assert.deepEqual(h.progress.step('slow'), recordsAfterRun['slow'], 'the unfinished step keeps its record exactly');

    // "docker start redis": the lab is whole again; verify twice on the untouched lab
    h.state.newUp = true;
    h.state.hang = false;
    assert.equal(statuses(await h.runner.verifyAll()), whole, 'the first verify after the repair');
    assert.equal(statuses(await h.runner.verifyAll()), whole, 'and the next one: no verify makes the record worse');
    for (const id of ['old-a', 'old-b', 'slow']) { assert.deepEqual(h.progress.step(id), recordsAfterRun[id], `${id}: its record is what the run proved`); }
    assert.equal(h.progress.step('new')?.ranAt, recordsAfterRun['new']?.ranAt, 'verification keeps the time of the run');
  });

  it('a node that drops during a run leaves that step\'s record exactly as it was', async () => {
    const h = replacingLab();
    await h.runner.runAll();
    const before = structuredClone(h.progress.step('new'));
    h.state.dropOn = 'make-new';
    const r = await h.runner.runStep('new');
    assert.equal(r.status, 'failed');
    assert.match(r.message, /connection to docker-node1 was lost/);
    assert.deepEqual(h.progress.step('new'), before);
  });

  it('a run that fails ends what the step replaced: the steps it replaced are judged by their own checks again', async () => {
    const h = replacingLab();
    await h.runner.runAll();
    h.state.failOn = 'make-new';
    const r = await h.runner.runStep('new');
    assert.equal(r.status, 'failed');
    assert.equal(h.progress.step('new')?.ranAt, undefined);
    const old = await h.runner.verifyStep('old-b');
    assert.equal(old.supersededBy, undefined);
    assert.equal(old.status, 'failed', 'old-b\'s state is gone and nothing replaced it');
  });

  it('records written before ranAt existed still order "replaced by" by their pass time', async () => {
    const file = progressFile();
    const at = (m: number): string => new Date(Date.UTC(2026, 11, 1, 10, m)).toISOString();
    fs.writeFileSync(file, JSON.stringify({
      version: 1, labs: {
        'demo 10.99.0.11,10.99.0.12': {
          steps: {
            'old-a': { status: 'passed', at: at(1), durationMs: 1 }, 'old-b': { status: 'passed', at: at(2), durationMs: 1 },
            new: { status: 'passed', at: at(3), durationMs: 1 }, slow: { status: 'passed', at: at(4), durationMs: 1 },
          },
          captures: {},
        },
      },
    }));
    const h = replacingLab(file);
    h.state.newUp = true;
    assert.equal(statuses(await h.runner.verifyAll()), 'old-a=passed<old-b old-b=passed<new new=passed slow=passed');
  });
});

describe('step runner: secret captures (the swarm join token)', () => {
  const token = 'SWMTKN-1-3pu6hszjas19xyp7ghgosyx9k8atbfcr8p2is99znpy26u2lkl-1awxwuwd3z9j1z3puu7rcgdbx';

  /** The shipped lab's ch4-swarm-init on fake nodes: swarm inactive until init/join; the join echoes the token. */
  function swarmNodes(): FakeShells {
    const st = { node1: false, node2: false };
    // output arrives in 7-byte chunks, so a token could be split across chunks
    return new FakeShells((node, cmd) => {
      if (cmd === factsCommand) { return { stdout: factsText(node, '20.10.24', true) }; }
      if (cmd.startsWith("docker info -f '{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}'")) {
        const active = node === 'docker-node1' ? st.node1 : st.node2;
        return { stdout: `${active ? 'active' : 'inactive'} ${node === 'docker-node1' && active ? 'true' : 'false'}\n` };
      }
      if (cmd.includes('docker swarm init')) {
        st.node1 = true;
        // what dockerd 20.10 prints: the token, before any step could capture it
        return { stdout: `Swarm initialized: current node (x1) is now a manager.\n\nTo add a worker to this swarm, run the following command:\n\n    docker swarm join --token ${token} 10.99.0.11:2377\n\n` };
      }
      if (cmd === 'docker swarm join-token -q worker') { return { stdout: `${token}\n` }; }
      if (cmd.startsWith('docker swarm join --token ')) {
        if (!cmd.includes(token)) { return { code: 1, stderr: 'invalid join token\n' }; }
        st.node2 = true;
        return { stdout: `This node joined a swarm as a worker (token ${token}).\n` };
      }
      if (cmd.startsWith('docker node ls')) { return { stdout: 'docker-node1 Ready Leader\ndocker-node2 Ready\n' }; }
      if (cmd === "docker network inspect 'my-overlay'" || cmd === 'docker network inspect my-overlay') {
        return { stdout: JSON.stringify([{ Driver: 'overlay', Scope: 'swarm', Attachable: true }]) };
      }
      return {};
    }, (t) => t.match(/[\s\S]{1,7}/g) ?? [t]);
  }

  function swarmRunner(file: string, shells: FakeShells, events: RunEvent[]): StepRunner {
    return new StepRunner({
      lab: loadLab(defaultLabDir('docker-networking', path.join(__dirname, '..', '..'))), shells, hosts, overlayPath: 'swarm',
      progress: new ProgressStore(file, 'docker-networking 10.99.0.11,10.99.0.12'),
      onEvent: (e) => events.push(e), confirm: () => Promise.resolve(true), sleep: () => Promise.resolve(),
    });
  }

  it('is never written to the progress file and shown masked in the terminal and the extension\'s transcript; the join uses the real value', async () => {
    const file = progressFile();
    const shells = swarmNodes();
    const events: RunEvent[] = [];
    const r = await swarmRunner(file, shells, events).runStep('ch4-swarm-init', { ignorePrerequisites: true });
    assert.equal(r.status, 'passed', r.message);
    assert.ok(shells.commands('docker-node2').includes(`docker swarm join --token ${token} 10.99.0.11:2377`), 'node2 joined with the real token');
    const saved = fs.readFileSync(file, 'utf8');
    assert.ok(!saved.includes(token) && !saved.includes('SWMTKN'), `the progress file holds no token:\n${saved}`);
    assert.ok(!saved.includes('swarmToken'));

    let terminal = '';
    const print = eventPrinter({ out: (t) => { terminal += t; }, err: (t) => { terminal += t; }, env: {}, signal: new AbortController().signal });
    let transcript = '';
    const listener = {
      onCommand: (n: string, c: string) => { transcript += `[${n}] $ ${c}\n`; },
      onOutput: (n: string, t: string) => { transcript += t; },
      onMessage: (m: string) => { transcript += `${m}\n`; },
    };
    for (const e of events) { print(e); forwardEvent(e, listener); }
    for (const [name, text] of [['terminal', terminal], ['transcript', transcript]] as const) {
      assert.ok(!text.includes('SWMTKN-1-3pu6'), `${name} shows no token (not even a chunk):\n${text}`);
      assert.match(text, /docker swarm join --token \*\*\* 10\.99\.0\.11:2377/, `${name} shows the join masked`);
      assert.match(text, /joined a swarm as a worker \(token \*\*\*\)/, `${name} shows the join's output masked`);
      assert.match(text, /docker swarm join --token \*\*\* 10\.99\.0\.11:2377\n/, `${name} shows swarm init's hint masked`);
    }
    assert.ok(!events.some((e) => e.text.includes('3pu6hszjas19')), 'no event carries a piece of the token');
  });

  it('another process (a new runner) gets the token fresh from node1 when the step runs again', async () => {
    const file = progressFile();
    await swarmRunner(file, swarmNodes(), []).runStep('ch4-swarm-init', { ignorePrerequisites: true });
    const again = swarmNodes();
    const r = await swarmRunner(file, again, []).runStep('ch4-swarm-init', { ignorePrerequisites: true });
    assert.equal(r.status, 'passed', r.message);
    assert.ok(again.commands('docker-node1').includes('docker swarm join-token -q worker'));
  });

  it('a token a file written before kept among its captures is removed from it; other captures stay', () => {
    const file = progressFile();
    fs.writeFileSync(file, JSON.stringify({ version: 1, labs: { 'docker-networking 10.99.0.11,10.99.0.12': { steps: {}, captures: { swarmToken: token, test1Ip: '10.0.0.2' } } } }));
    swarmRunner(file, swarmNodes(), []);
    const saved = JSON.parse(fs.readFileSync(file, 'utf8')) as { labs: Record<string, { captures: Record<string, string> }> };
    assert.deepEqual(saved.labs['docker-networking 10.99.0.11,10.99.0.12']?.captures, { test1Ip: '10.0.0.2' });
  });
});
