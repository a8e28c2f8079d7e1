import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { toEngineContainer, toEngineEvent } from '../../src/core/docker/dockerRecords';
import { valueAtPath } from '../../src/core/lab/stepRunner';
import { isTopologyEvent } from '../../src/core/topology/topologyService';
import { bridgeGateway, firstBridgeIp } from './fixtures/bridgeAddresses.fixture';

// Engine API shapes across versions: 1.41 (Docker 20.10) and 1.45 (Docker 26) still carry the top-level
// NetworkSettings.IPAddress/Gateway/MacAddress of container inspect and the deprecated status/id/from of events;
// 1.52 (Docker 29) drops them. Fixtures: documented-v* are written after the Engine API reference of each version;
// recorded-v* are real answers of the lab's nodes (GET /containers/{id}/json, /containers/json, /events).
const root = path.resolve(__dirname, '..', '..', '..');
const fixtures = path.join(root, 'test', 'unit', 'fixtures', 'engine-api');
const sets = fs.readdirSync(fixtures).sort();
const read = (set: string, file: string): unknown => JSON.parse(fs.readFileSync(path.join(fixtures, set, file), 'utf8')) as unknown;
const events = (set: string): Record<string, unknown>[] => fs.readFileSync(path.join(fixtures, set, 'events.jsonl'), 'utf8')
  .split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Record<string, unknown>);

/** The top-level NetworkSettings fields of container inspect that API 1.52 removed (docs/api version history). */
const removedIn152 = ['Bridge', 'HairpinMode', 'LinkLocalIPv6Address', 'LinkLocalIPv6PrefixLen', 'SecondaryIPAddresses', 'SecondaryIPv6Addresses',
  'EndpointID', 'Gateway', 'GlobalIPv6Address', 'GlobalIPv6PrefixLen', 'IPAddress', 'IPPrefixLen', 'IPv6Gateway', 'MacAddress'];

describe('Engine API 1.41, 1.45 and 1.52 shapes', () => {
  it('has the documented and the recorded sets', () => {
    assert.deepEqual(sets, ['documented-v1.41', 'documented-v1.45', 'documented-v1.52', 'recorded-v1.41-docker-20.10', 'recorded-v1.45-docker-26.1']);
  });

  it('the fixtures have the shape of their version: 1.52 without the top-level addresses and the old event fields', () => {
    for (const set of sets) {
      const ns = valueAtPath(read(set, 'container-inspect.json'), 'NetworkSettings') ?? '{}';
      const top = Object.keys(JSON.parse(ns) as Record<string, unknown>);
      const has152Shape = set.includes('v1.52');
      assert.equal(top.includes('IPAddress'), !has152Shape, `${set}: NetworkSettings keys ${top.join(',')}`);
      for (const e of events(set)) {
        assert.equal('status' in e || 'id' in e || 'from' in e, !has152Shape && e['Type'] === 'container', `${set}: ${JSON.stringify(e)}`);
      }
    }
  });

  it('container list: addresses come from NetworkSettings.Networks in every version', () => {
    for (const set of sets) {
      const list = read(set, 'containers.json') as unknown[];
      assert.equal(list.length, 1, set);
      const c = toEngineContainer(list[0]);
      assert.equal(c.networks['bridge']?.ipv4, firstBridgeIp, set);
      assert.match(c.networks['bridge']?.mac ?? '', /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/, set);
      assert.match(c.networks['bridge']?.networkId ?? '', /^[0-9a-f]{64}$/, set);
    }
  });

  it('container inspect: the per-network address answers on every version; the top-level one is gone in 1.52', () => {
    for (const set of sets) {
      const doc = read(set, 'container-inspect.json');
      assert.equal(valueAtPath(doc, 'NetworkSettings.Networks.bridge.IPAddress'), firstBridgeIp, set);
      assert.equal(valueAtPath(doc, 'NetworkSettings.Networks.bridge.Gateway'), bridgeGateway, set);
      assert.equal(valueAtPath(doc, 'NetworkSettings.IPAddress'), set.includes('v1.52') ? undefined : firstBridgeIp, set);
    }
  });

  it('events: Action, Actor.ID and Actor.Attributes give the same records with or without status/id/from', () => {
    const parsed = (set: string): unknown[] => events(set).map(toEngineEvent);
    assert.deepEqual(parsed('documented-v1.52'), parsed('documented-v1.41'));
    assert.deepEqual(parsed('documented-v1.52'), parsed('documented-v1.45'));
    for (const set of sets) {
      for (const e of events(set).map(toEngineEvent)) {
        assert.match(e.action, /^[a-z]+$/, set);
        assert.match(e.id, /^[0-9a-f]{64}$/, set);
        assert.ok(e.timeMs > 0, set);
        if (e.type === 'container') { assert.ok((e.attributes['name'] ?? '') !== '', `${set}: a container event names its container`); }
      }
      const kinds = events(set).map(toEngineEvent).filter(isTopologyEvent).map((e) => e.action);
      assert.ok(kinds.includes('start') && kinds.includes('destroy'), `${set}: ${kinds.join(',')}`);
    }
  });

  it('no lab command, check, diagnostic or walkthrough reads a top-level NetworkSettings field that API 1.52 removed', () => {
    // a Go template ({{.NetworkSettings.IPAddress}}) or a docker check's dotted path ("NetworkSettings.IPAddress": …)
    const fields = removedIn152.join('|');
    const removed = new RegExp(`\\{\\{[^}]*\\.NetworkSettings\\.(${fields})\\b|"NetworkSettings\\.(${fields})"`);
    const files = [
      ...['labs/docker-networking', 'walkthroughs'].flatMap((d) => fs.readdirSync(path.join(root, d)).filter((f) => /\.(json|md)$/.test(f)).map((f) => path.join(d, f))),
      ...['src/core/diagnostics', 'src/core/lab', 'src/core/docker', 'src/core/topology'].flatMap((d) => fs.readdirSync(path.join(root, d)).filter((f) => f.endsWith('.ts')).map((f) => path.join(d, f))),
    ];
    const hits = files.flatMap((f) => fs.readFileSync(path.join(root, f), 'utf8').split('\n')
      .filter((line) => removed.test(line))
      .map((line) => `${f}: ${line.trim().slice(0, 160)}`));
    assert.deepEqual(hits, []);
  });
});
