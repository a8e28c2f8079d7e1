// Reconnection inside a real VS Code: node2's sshd is killed (the listener from its pidfile and the
// per-connection sshd processes it forked, as in a crash; the lab reliability tests' helper); the Lab
// Nodes tree shows node2 offline, then, after `lab up` brings sshd back, online again by itself within
// 5 s, and Docker events reach the tree again. No unhandled rejection in the extension host meanwhile.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { labNodesFile } from '../../../src/core/nodes/localLabPaths';
import type { NodesFile } from '../../../src/core/nodes/nodesFile';
import type { NodesTestApi } from '../../../src/vscode/nodes/registerNodes';
import { repoRoot } from '../../lab/labHelpers';
import { killSshd, shAsync, sshBanner } from '../../lab/reliabilityHelpers';
import { sleep, until } from '../polling';

const EXTENSION_ID = 'docker-network-lab.docker-network-lab';
const backWithinMs = 5000;

suite('Lab Nodes reconnect', () => {
  let lab: NodesFile | undefined;
  try { lab = JSON.parse(fs.readFileSync(labNodesFile(), 'utf8')) as NodesFile; } catch { lab = undefined; }
  const rejections: unknown[] = [];
  const onRejection = (e: unknown): void => { rejections.push(e); };

  test('node2 killed: offline in the tree, back online within 5 s of sshd returning, events resume', async function () {
    if (lab === undefined || lab.nodes.length < 2) {
      console.log(`    skipped: no local lab nodes file at ${labNodesFile()} (run "docker-net-lab lab up" as root)`);
      this.skip();
    }
    this.timeout(180_000);
    const node2 = lab.nodes[1]!;
    const ext = vscode.extensions.getExtension<NodesTestApi>(EXTENSION_ID);
    assert.ok(ext !== undefined, `extension ${EXTENSION_ID} is not installed`);
    const t = await ext.activate();
    const state = (): string | undefined => t.nodeServices.snapshot().nodes.find((n) => n.name === node2.name)?.state;
    const treeDescription = (): string => {
      const el = t.nodesTree.getChildren().find((e) => { const l = t.nodesTree.getTreeItem(e).label; return (typeof l === 'string' ? l : l?.label) === node2.name; });
      const d = el === undefined ? undefined : t.nodesTree.getTreeItem(el).description;
      return typeof d === 'string' ? d : '';
    };
    const name = `dnl-reconnect-${process.pid}`;
    process.on('unhandledRejection', onRejection);
    let killed = false;
    try {
      t.nodesTree.getChildren();
      await t.nodeServices.connect();
      assert.equal(await until(45_000, () => (state() === 'online' ? true : undefined)), true, `${node2.name} not online first: ${state() ?? 'missing'}`);

      const t0 = Date.now();
      killSshd(node2.name);
      killed = true;
      assert.equal(await until(15_000, () => (state() !== 'online' ? true : undefined)), true, `${node2.name} still online 15 s after its sshd was killed`);
      const offlineMs = Date.now() - t0;
      const shown = await until(3000, () => (/offline|disconnected|connecting|error/i.test(treeDescription()) ? treeDescription() : undefined));
      assert.ok(shown !== undefined, `the tree item of ${node2.name} does not show it offline: "${treeDescription()}"`);

      await sleep(3000); // a few reconnect attempts fail meanwhile
      const up = shAsync(process.execPath, [path.join(repoRoot, 'bin', 'docker-net-lab.js'), 'lab', 'up'], 600_000);
      const returnedAt = await until(120_000, async () => (await sshBanner(node2.host) ? Date.now() : undefined));
      assert.ok(returnedAt !== undefined, `sshd of ${node2.name} did not come back: ${JSON.stringify(await up)}`);
      killed = false;
      const onlineAt = await until(backWithinMs + 2000, () => (state() === 'online' ? Date.now() : undefined));
      assert.ok(onlineAt !== undefined, `${node2.name} not online ${backWithinMs + 2000} ms after sshd returned: ${state() ?? 'missing'}`);
      console.log(`    ${node2.name}: not online ${offlineMs} ms after the kill (tree: "${shown}"); online ${onlineAt - returnedAt} ms after sshd answered again`);
      assert.ok(onlineAt - returnedAt <= backWithinMs, `online ${onlineAt - returnedAt} ms after sshd returned (goal ${backWithinMs} ms)`);
      assert.equal((await up).code, 0, 'lab up failed');

      // events flow again: a container started on node2 shows up in the tree data
      const shell = await (await t.nodeServices.shells()).shell(node2.name);
      const started = Date.now();
      const r = await shell.exec(`docker run -d --name ${name} busybox sleep 600 >/dev/null`, { timeoutMs: 30_000 });
      assert.equal(r.code, 0, r.stderr);
      const seen = await until(5000, () => (t.nodeServices.snapshot().nodes.find((n) => n.name === node2.name)?.containers.some((c) => c.name === name) === true ? Date.now() : undefined));
      assert.ok(seen !== undefined, `container ${name} not in the tree data 5 s after docker run`);
      console.log(`    events resumed: ${name} in the tree ${seen - started} ms after docker run was sent`);
      assert.deepEqual(rejections, [], 'unhandled rejections in the extension host');
    } finally {
      process.off('unhandledRejection', onRejection);
      if (killed) { await shAsync(process.execPath, [path.join(repoRoot, 'bin', 'docker-net-lab.js'), 'lab', 'up'], 600_000); }
      try {
        const shell = await (await t.nodeServices.shells()).shell(node2.name);
        await shell.exec(`docker rm -f ${name} >/dev/null 2>&1 || true`, { timeoutMs: 20_000 });
      } catch (e) {
        console.log(`    cleanup of ${name} not possible: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  });
});
