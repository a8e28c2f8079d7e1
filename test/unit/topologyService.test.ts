import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { createTopologyService } from '../../src/core/topology/topologyService';
import type { TopologySnapshot } from '../../src/core/topology/topologyTypes';
import { FakeDockerNode } from './fakeDockerNode';

const fixtures = path.resolve(__dirname, '..', '..', '..', 'test', 'unit', 'fixtures', 'docker');
const load = (f: string): unknown[] => JSON.parse(fs.readFileSync(path.join(fixtures, f), 'utf8')) as unknown[];
const PW = 'Topology-test-pw-42';

function waitFor(svc: { snapshot(): TopologySnapshot; onDidChange(l: (s: TopologySnapshot) => void): { dispose(): void } }, pred: (s: TopologySnapshot) => boolean, ms: number): Promise<number> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    if (pred(svc.snapshot())) { resolve(0); return; }
    const timer = setTimeout(() => { sub.dispose(); reject(new Error(`not within ${ms} ms: ${JSON.stringify(svc.snapshot().nodes.map((n) => [n.name, n.state, n.containers.length]))}`)); }, ms);
    const sub = svc.onDidChange((s) => { if (pred(s)) { clearTimeout(timer); sub.dispose(); resolve(Date.now() - t0); } });
  });
}

describe('TopologyService with a fake node over SSH', () => {
  let dir = '';
  let fake: FakeDockerNode;
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dnl-topology-'));
    fake = new FakeDockerNode(dir, PW);
    fake.networks = load('node2-networks.json');
    fake.containers = load('node2-containers.json');
    await fake.start();
  });
  after(() => {
    fake.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('snapshots an online node, keeps an unreachable one offline with its error, and follows events (a burst costs at most two resyncs)', async () => {
    const live = fake.node('live');
    const dead = { ...fake.node('dead'), port: 1 };
    const svc = createTopologyService({
      nodes: [live, dead], secrets: { getSecret: () => Promise.resolve(PW) }, fullResyncMs: 0, debounceMs: 100,
      reconnect: { initialDelayMs: 60_000 },
    });
    try {
      await svc.connect();
      const s = svc.snapshot();
      assert.deepEqual(s.nodes.map((n) => [n.name, n.state]), [['live', 'online'], ['dead', 'offline']]);
      assert.equal(s.nodes[1]!.error?.code, 'Unreachable');
      assert.match(s.nodes[1]!.error.message, /127\.0\.0\.1:1\b/);
      assert.deepEqual(s.nodes[0]!.containers.map((c) => c.name), ['test2', 'web']);
      assert.equal(s.nodes[0]!.dockerVersion, '20.10.24');
      assert.equal(s.nodes[0]!.transport, 'streamlocal');
      assert.deepEqual(s.multiHostNetworks.map((n) => n.name), ['my-overlay']);

      // connecting an offline node on request shows that it is being tried, then the result
      const tried: string[] = [];
      const watchDead = svc.onDidChange((x) => { const st = x.nodes[1]!.state; if (tried.at(-1) !== st) { tried.push(st); } });
      await svc.connect('dead');
      watchDead.dispose();
      assert.deepEqual(tried, ['connecting', 'offline']);

      for (let i = 0; i < 50 && fake.eventFollowers === 0; i++) { await new Promise((r) => setTimeout(r, 20)); }
      assert.equal(fake.eventFollowers, 1, 'one docker events stream per online node');

      // a burst of events → a resync at once showing the new container, and at most one more at the
      // end of the 100 ms window (the debouncer's own timing is tested with mock timers)
      const before = fake.requests;
      const extra = { ...(load('node2-containers.json')[0] as Record<string, unknown>), Id: '99'.repeat(32), Names: ['/burst'] };
      fake.containers = [...fake.containers, extra];
      for (let i = 0; i < 10; i++) { fake.emit({ Type: 'container', Action: 'start', Actor: { ID: '99'.repeat(32), Attributes: { name: 'burst' } }, timeNano: Date.now() * 1e6 }); }
      const ms = await waitFor(svc, (x) => x.nodes[0]!.containers.some((c) => c.name === 'burst'), 1000);
      assert.ok(ms < 1000, `shown (${ms} ms)`);
      await new Promise((r) => setTimeout(r, 250));
      assert.ok(fake.requests - before <= 4, `at most two resyncs (2 list calls each) for a burst of 10 events, saw ${fake.requests - before} requests`);
      // irrelevant events do not resync
      const quiet = fake.requests;
      fake.emit({ Type: 'container', Action: 'exec_start: sh', Actor: { ID: 'x', Attributes: {} } });
      fake.emit({ Type: 'image', Action: 'pull', Actor: { ID: 'busybox', Attributes: {} } });
      await new Promise((r) => setTimeout(r, 250));
      assert.equal(fake.requests, quiet);
      // removal
      fake.containers = fake.containers.filter((c) => c !== extra);
      fake.emit({ Type: 'container', Action: 'destroy', Actor: { ID: '99'.repeat(32), Attributes: { name: 'burst' } } });
      await waitFor(svc, (x) => !x.nodes[0]!.containers.some((c) => c.name === 'burst'), 1000);

      // shells share the same session
      const shell = await svc.shell('live');
      assert.equal(shell.node, 'live');
      await svc.disconnect('live');
      assert.equal(svc.snapshot().nodes[0]!.state, 'disconnected');
      for (let i = 0; i < 50 && fake.eventFollowers > 0; i++) { await new Promise((r) => setTimeout(r, 20)); }
      assert.equal(fake.eventFollowers, 0, 'disconnect closes the event stream');
    } finally {
      svc.dispose();
    }
  });

  it('marks a dropped node offline and brings it back online by itself (backoff reconnect)', async () => {
    const svc = createTopologyService({
      nodes: [fake.node('flaky')], secrets: { getSecret: () => Promise.resolve(PW) }, fullResyncMs: 0,
      reconnect: { initialDelayMs: 50, maxDelayMs: 200 },
    });
    try {
      await svc.connect();
      assert.equal(svc.snapshot().nodes[0]!.state, 'online');
      const states: string[] = [];
      const sub = svc.onDidChange((s) => { const st = s.nodes[0]!.state; if (states.at(-1) !== st) { states.push(st); } });
      fake.dropConnections();
      await waitFor(svc, (s) => s.nodes[0]!.state === 'offline', 2000);
      assert.equal(svc.snapshot().nodes[0]!.error?.code, 'Disconnected');
      assert.ok(svc.snapshot().nodes[0]!.containers.length > 0, 'last known containers are kept while offline');
      await waitFor(svc, (s) => s.nodes[0]!.state === 'online' && s.nodes[0]!.error === undefined, 3000);
      sub.dispose();
      assert.deepEqual(states, ['offline', 'online'], 'offline until it answers again (no connecting flicker while retrying)');
      for (let i = 0; i < 50 && fake.eventFollowers === 0; i++) { await new Promise((r) => setTimeout(r, 20)); }
      assert.equal(fake.eventFollowers, 1, 'events followed again after the reconnect');
    } finally {
      svc.dispose();
    }
  });

  it('shows a new container while dockerd is slow to list networks (reads of each kind are independent)', async () => {
    const svc = createTopologyService({ nodes: [fake.node('slow')], secrets: { getSecret: () => Promise.resolve(PW) }, fullResyncMs: 0, debounceMs: 100 });
    const saved = fake.containers;
    try {
      await svc.connect();
      for (let i = 0; i < 50 && fake.eventFollowers === 0; i++) { await new Promise((r) => setTimeout(r, 20)); }
      assert.equal(fake.eventFollowers, 1);
      const networksBefore = svc.snapshot().nodes[0]!.networks.map((n) => n.name);
      // dockerd with a recovering cluster store: /networks and /info take 1.5 s, /containers/json answers at once
      fake.delayMs = { networks: 1500, info: 1500 };
      void svc.refresh('slow');
      const extra = { ...(load('node2-containers.json')[0] as Record<string, unknown>), Id: '77'.repeat(32), Names: ['/quick'] };
      fake.containers = [...saved, extra];
      fake.networks = [...fake.networks, { ...(load('node2-networks.json')[0] as Record<string, unknown>), Id: '66'.repeat(32), Name: 'late-net' }];
      await new Promise((r) => setTimeout(r, 50));
      fake.emit({ Type: 'container', Action: 'create', Actor: { ID: '77'.repeat(32), Attributes: { name: 'quick' } }, timeNano: Date.now() * 1e6 });
      const ms = await waitFor(svc, (x) => x.nodes[0]!.containers.some((c) => c.name === 'quick'), 1000);
      const now = svc.snapshot().nodes[0]!;
      assert.ok(ms < 1000, `the container is shown ${ms} ms after its event, before the slow reads end`);
      assert.equal(now.state, 'online');
      assert.deepEqual(now.networks.map((n) => n.name), networksBefore, 'the networks are still the last answered list');
      await waitFor(svc, (x) => x.nodes[0]!.networks.some((n) => n.name === 'late-net'), 4000);
    } finally {
      fake.delayMs = {};
      fake.containers = saved;
      fake.networks = load('node2-networks.json');
      svc.dispose();
    }
  });

  it('clears a failed read of dockerd\'s facts on the next event, not only at the next full resync', async () => {
    const svc = createTopologyService({ nodes: [fake.node('facts')], secrets: { getSecret: () => Promise.resolve(PW) }, fullResyncMs: 0, debounceMs: 100 });
    try {
      await svc.connect();
      for (let i = 0; i < 50 && fake.eventFollowers === 0; i++) { await new Promise((r) => setTimeout(r, 20)); }
      fake.failInfo = true;
      await svc.refresh('facts');
      const failed = svc.snapshot().nodes[0]!;
      assert.equal(failed.state, 'error', 'a failed /info shows as an error of the node');
      assert.ok(failed.error !== undefined);
      assert.ok(failed.containers.length > 0, 'the containers that were read are still shown');
      fake.failInfo = false;
      fake.emit({ Type: 'container', Action: 'start', Actor: { ID: 'ab'.repeat(32), Attributes: { name: 'web' } }, timeNano: Date.now() * 1e6 });
      await waitFor(svc, (x) => x.nodes[0]!.state === 'online' && x.nodes[0]!.error === undefined, 2000);
    } finally {
      fake.failInfo = false;
      svc.dispose();
    }
  });

  it('follows a node whose session was opened through shell() before connect()', async () => {
    const svc = createTopologyService({ nodes: [fake.node('early')], secrets: { getSecret: () => Promise.resolve(PW) }, fullResyncMs: 0 });
    try {
      const shell = await svc.shell('early');
      assert.equal(shell.node, 'early');
      await svc.connect();
      const n = svc.snapshot().nodes[0]!;
      assert.equal(n.state, 'online');
      assert.ok(n.containers.length > 0);
    } finally {
      svc.dispose();
    }
  });
});
