import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { OverlayPath } from '../../src/core/lab/labDefinition';
import type { OverlayPathRequest } from '../../src/core/lab/overlayPathDecision';
import { decideOverlayPath } from '../../src/core/lab/overlayPathDecision';

// The overlay path on today's Docker: the cluster store exists only up to Docker 22, and on every node of the pair.

const legacy = ['20.10.24+dfsg1', '20.10.24+dfsg1'];
const modern = ['26.1.5+dfsg1', '26.1.5+dfsg1'];
const mixed = ['20.10.24+dfsg1', '26.1.5+dfsg1'];

function decide(versions: readonly string[], choice: { explicit?: OverlayPath; saved?: OverlayPath } = {}): ReturnType<typeof decideOverlayPath> {
  const req: OverlayPathRequest = { nodes: versions.map((v, i) => ({ name: `docker-node${i + 1}`, dockerVersion: v })), clusterStoreMaxDockerMajor: 22, ...choice };
  return decideOverlayPath(req);
}

describe('overlay path decision (CLI and VS Code)', () => {
  it('Docker 23+ on both nodes: swarm by itself, and says why in one sentence', () => {
    const d = decide(modern);
    assert.deepEqual([d.path, d.source, d.refusal], ['swarm', 'docker-version', undefined]);
    assert.equal(d.reason, 'Docker 26.1 on docker-node1 and docker-node2 has no --cluster-store (removed in Docker 23): taking the swarm path.');
  });

  it('a saved cluster-store choice (from the legacy nodes) gives way to swarm on Docker 23+, and says so', () => {
    const d = decide(modern, { saved: 'cluster-store' });
    assert.deepEqual([d.path, d.refusal], ['swarm', undefined]);
    assert.match(d.reason, /taking the swarm path \(the saved cluster-store choice does not apply to these nodes\)\.$/);
  });

  it('an explicit cluster-store on Docker 23+ is refused with the node, its version and why', () => {
    const d = decide(modern, { explicit: 'cluster-store', saved: 'swarm' });
    assert.equal(d.path, 'cluster-store');
    assert.match(d.refusal ?? '', /^The cluster-store path needs Docker 22 or older on every node, but docker-node1 runs Docker 26\.1\.5\+dfsg1: dockerd 23 and later have no --cluster-store/);
    assert.equal(decide(modern, { explicit: 'swarm' }).refusal, undefined);
  });

  it('mixed 20.10 + 26: swarm (one overlay store for both nodes), naming both engines', () => {
    const d = decide(mixed);
    assert.equal(d.path, 'swarm');
    assert.equal(d.reason, 'Docker 26.1 on docker-node2 has no --cluster-store (removed in Docker 23), and both nodes need the same store '
      + '(Docker 20.10 on docker-node1 has swarm mode too): taking the swarm path.');
    assert.match(decide(mixed, { explicit: 'cluster-store' }).refusal ?? '', /but docker-node2 runs Docker 26\.1\.5/);
    assert.equal(decide(['26.1.5', '20.10.24']).path, 'swarm');
  });

  it('Docker 22 or older on both nodes: the cluster store by default, and --path (explicit, then saved) decides', () => {
    const d = decide(legacy);
    assert.deepEqual([d.path, d.source, d.clusterStoreBlocker], ['cluster-store', 'docker-version', undefined]);
    assert.match(d.reason, /^Docker 20\.10 on docker-node1 and docker-node2 still has --cluster-store: taking the cluster-store path/);
    assert.deepEqual([decide(legacy, { saved: 'swarm' }).path, decide(legacy, { saved: 'swarm' }).source], ['swarm', 'choice']);
    assert.equal(decide(legacy, { saved: 'swarm', explicit: 'cluster-store' }).path, 'cluster-store');
    assert.equal(decide(['22.06.0', '22.06.0']).path, 'cluster-store');
    assert.equal(decide(['23.0.0', '23.0.0']).path, 'swarm');
  });

  it('an unknown version (dockerd down) is not assumed old, and is not refused either', () => {
    const d = decide(['20.10.24', '']);
    assert.equal(d.path, 'swarm');
    assert.match(d.reason, /The Docker version of docker-node2 is unknown/);
    const chosen = decide(['20.10.24', ''], { explicit: 'cluster-store' });
    assert.deepEqual([chosen.path, chosen.refusal], ['cluster-store', undefined]);
    assert.equal(decide([]).path, 'swarm');
  });
});
