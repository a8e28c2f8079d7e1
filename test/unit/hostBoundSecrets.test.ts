import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import type { SecretRequest } from '../../src/core/ssh/nodeSession';
import type { SecretStorageLike } from '../../src/vscode/nodes/hostBoundSecrets';
import { HostBoundSecrets, legacySecretKey, secretIndexKey } from '../../src/vscode/nodes/hostBoundSecrets';

// The saved-secret store on a real in-memory SecretStorage-shaped object (a Map behind get/store/delete):
// a secret saved for one target is found only for exactly that user@host:port and host key.

class MemorySecretStorage implements SecretStorageLike {
  readonly map = new Map<string, string>();
  get(key: string): Promise<string | undefined> { return Promise.resolve(this.map.get(key)); }
  store(key: string, value: string): Promise<void> { this.map.set(key, value); return Promise.resolve(); }
  delete(key: string): Promise<void> { this.map.delete(key); return Promise.resolve(); }
}

const fpA = `SHA256:${'a'.repeat(43)}`;
const fpB = `SHA256:${'b'.repeat(43)}`;
const saved: SecretRequest = { kind: 'password', node: 'node1', user: 'learner', host: '10.99.0.11', port: 22, hostKeyFingerprint: fpA };

describe('saved secrets bound to the host', () => {
  it('finds a secret only for the same user, host, port and host key, whatever the node is called', async () => {
    const store = new HostBoundSecrets(new MemorySecretStorage());
    await store.store(saved, 'pw-1');
    assert.equal(await store.get(saved), 'pw-1');
    assert.equal(await store.get({ ...saved, node: 'renamed' }), 'pw-1', 'the name does not select the secret');
    assert.equal(await store.get({ ...saved, host: '10.99.0.12' }), undefined, 'other host');
    assert.equal(await store.get({ ...saved, host: 'evil.example' }), undefined, 'other host name');
    assert.equal(await store.get({ ...saved, port: 2222 }), undefined, 'other port');
    assert.equal(await store.get({ ...saved, user: 'root' }), undefined, 'other user');
    assert.equal(await store.get({ ...saved, hostKeyFingerprint: fpB }), undefined, 'other host key');
    assert.equal(await store.get({ ...saved, kind: 'sudo' }), undefined, 'other kind');
  });

  it('drops a legacy secret kept under the node name, without ever handing it out', async () => {
    const mem = new MemorySecretStorage();
    mem.map.set(legacySecretKey('node1', 'password'), 'old-pw');
    const store = new HostBoundSecrets(mem);
    assert.equal(await store.get(saved), undefined);
    assert.equal(mem.map.has(legacySecretKey('node1', 'password')), false, 'the legacy secret is still stored');
  });

  it('forgets every secret of a node\'s user@host:port (any host key), and only those', async () => {
    const mem = new MemorySecretStorage();
    const store = new HostBoundSecrets(mem);
    await store.store(saved, 'pw-1');
    await store.store({ ...saved, hostKeyFingerprint: fpB }, 'pw-2');
    await store.store({ ...saved, kind: 'sudo' }, 'sudo-1');
    await store.store({ ...saved, host: '10.99.0.12' }, 'pw-other');
    mem.map.set(legacySecretKey('node1', 'sudo'), 'old');
    await store.forget({ name: 'node1', user: 'learner', host: '10.99.0.11', port: 22 });
    assert.equal(await store.get(saved), undefined);
    assert.equal(await store.get({ ...saved, hostKeyFingerprint: fpB }), undefined);
    assert.equal(await store.get({ ...saved, kind: 'sudo' }), undefined);
    assert.equal(await store.get({ ...saved, host: '10.99.0.12' }), 'pw-other', 'another host\'s secret was forgotten');
    assert.deepEqual([...mem.map.keys()].filter((k) => k !== secretIndexKey).length, 1);
  });

  it('treats host names case-insensitively and IPv6 with or without brackets as the same target', async () => {
    const store = new HostBoundSecrets(new MemorySecretStorage());
    await store.store({ ...saved, host: 'Node1.Lab' }, 'pw');
    assert.equal(await store.get({ ...saved, host: 'node1.lab' }), 'pw');
    await store.store({ ...saved, host: '[fd00::11]' }, 'pw6');
    assert.equal(await store.get({ ...saved, host: 'fd00::11' }), 'pw6');
  });
});
