import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import {
  appendKnownHost, checkHostKey, entryMatchesHost, fingerprintOfKey, hostKeyCheckCommand, keyTypeOfBlob, knownHostsName, parseKnownHosts,
} from '../../src/core/ssh/hostKeys';

let dir = '';
interface GenKey { file: string; pub: string; type: string; blob: Buffer; fp: string }
const keys: Record<string, GenKey> = {};

function genKey(name: string, type: string): GenKey {
  const file = path.join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', name, '-f', file]);
  const pub = fs.readFileSync(`${file}.pub`, 'utf8').trim();
  const [kt, b64] = pub.split(' ');
  const fp = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${file}.pub`], { encoding: 'utf8' }).split(' ')[1]!;
  return { file, pub, type: kt!, blob: Buffer.from(b64!, 'base64'), fp };
}

describe('host keys', () => {
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dnl-hostkeys-'));
    keys['a'] = genKey('a', 'ed25519');
    keys['b'] = genKey('b', 'ed25519');
    keys['r'] = genKey('r', 'ecdsa');
  });
  after(() => { fs.rmSync(dir, { recursive: true, force: true }); });

  it('computes the same SHA256 fingerprint as ssh-keygen -l', () => {
    for (const k of Object.values(keys)) {
      assert.equal(fingerprintOfKey(k.blob), k.fp);
      assert.ok(!fingerprintOfKey(k.blob).endsWith('='));
    }
    assert.equal(keyTypeOfBlob(keys['a']!.blob), 'ssh-ed25519');
    assert.equal(keyTypeOfBlob(keys['r']!.blob), 'ecdsa-sha2-nistp256');
  });

  it('parses plain, comma-list, [host]:port and marker lines, skipping comments and junk', () => {
    const a = keys['a']!;
    const text = [
      '# comment',
      '',
      `node1,10.99.0.11 ${a.type} ${a.blob.toString('base64')} a comment`,
      `[10.99.0.12]:2222 ${a.type} ${a.blob.toString('base64')}`,
      'garbage-line-without-key',
      `@revoked * ${a.type} ${a.blob.toString('base64')}`,
    ].join('\n');
    const entries = parseKnownHosts(text);
    assert.equal(entries.length, 3);
    assert.deepEqual(entries[0]!.patterns, ['node1', '10.99.0.11']);
    assert.equal(entries[0]!.line, 3);
    assert.ok(entries[0]!.key.equals(a.blob));
    assert.equal(entries[2]!.marker, '@revoked');
    assert.ok(entryMatchesHost(entries[0]!, '10.99.0.11', 22));
    assert.ok(!entryMatchesHost(entries[0]!, '10.99.0.11', 2222), 'port 2222 needs the [host]:port form');
    assert.ok(entryMatchesHost(entries[1]!, '10.99.0.12', 2222));
    assert.ok(!entryMatchesHost(entries[1]!, '10.99.0.12', 22));
    assert.equal(knownHostsName('h', 22), 'h');
    assert.equal(knownHostsName('h', 2200), '[h]:2200');
  });

  it('matches hashed entries written by ssh-keygen -H', () => {
    const a = keys['a']!;
    const file = path.join(dir, 'kh-hashed');
    fs.writeFileSync(file, `10.99.0.11 ${a.type} ${a.blob.toString('base64')}\n[10.99.0.12]:2222 ${a.type} ${a.blob.toString('base64')}\n`);
    execFileSync('ssh-keygen', ['-H', '-f', file], { stdio: 'ignore' });
    const text = fs.readFileSync(file, 'utf8');
    assert.ok(text.startsWith('|1|'), 'ssh-keygen -H hashed the names');
    assert.ok(!text.includes('10.99.0.11'));
    const entries = parseKnownHosts(text);
    assert.equal(entries.length, 2);
    assert.ok(entryMatchesHost(entries[0]!, '10.99.0.11', 22));
    assert.ok(!entryMatchesHost(entries[0]!, '10.99.0.12', 22));
    assert.ok(entryMatchesHost(entries[1]!, '10.99.0.12', 2222));
    const v = checkHostKey({ host: '10.99.0.11', port: 22, key: a.blob, knownHosts: [{ file, text }] });
    assert.equal(v.status, 'trusted');
  });

  it('supports wildcards and negation', () => {
    const a = keys['a']!;
    const [e] = parseKnownHosts(`10.99.0.*,!10.99.0.13 ${a.type} ${a.blob.toString('base64')}`);
    assert.ok(entryMatchesHost(e!, '10.99.0.11', 22));
    assert.ok(!entryMatchesHost(e!, '10.99.0.13', 22));
    assert.ok(!entryMatchesHost(e!, '10.99.1.11', 22));
  });

  it('decides trusted / changed / unknown / revoked from known_hosts', () => {
    const a = keys['a']!;
    const b = keys['b']!;
    const r = keys['r']!;
    const text = `# lab\n10.99.0.11 ${a.type} ${a.blob.toString('base64')}\n10.99.0.12 ${r.type} ${r.blob.toString('base64')}\n`;
    const kh = [{ file: 'KH', text }];
    assert.deepEqual(checkHostKey({ host: '10.99.0.11', port: 22, key: a.blob, knownHosts: kh }), { status: 'trusted', via: 'known_hosts', file: 'KH', line: 2 });
    const changed = checkHostKey({ host: '10.99.0.11', port: 22, key: b.blob, knownHosts: kh });
    assert.deepEqual(changed, { status: 'changed', file: 'KH', line: 2, knownFingerprint: a.fp });
    // only a key of another type is known: unknown (OpenSSH asks), with the other type listed
    assert.deepEqual(checkHostKey({ host: '10.99.0.12', port: 22, key: a.blob, knownHosts: kh }), { status: 'unknown', otherTypesKnown: [r.type] });
    assert.deepEqual(checkHostKey({ host: '10.99.0.13', port: 22, key: a.blob, knownHosts: kh }), { status: 'unknown', otherTypesKnown: [] });
    const revoked = [{ file: 'RV', text: `@revoked * ${a.type} ${a.blob.toString('base64')}\n${text}` }];
    assert.deepEqual(checkHostKey({ host: '10.99.0.11', port: 22, key: a.blob, knownHosts: revoked }), { status: 'revoked', file: 'RV', line: 1 });
  });

  it('lets pinned fingerprints decide alone (with or without = padding)', () => {
    const a = keys['a']!;
    const b = keys['b']!;
    assert.equal(checkHostKey({ host: 'x', port: 22, key: a.blob, fingerprints: [`${a.fp}=`] }).status, 'trusted');
    const v = checkHostKey({ host: 'x', port: 22, key: b.blob, fingerprints: [a.fp], knownHosts: [{ file: 'K', text: `x ${b.type} ${b.blob.toString('base64')}` }] });
    assert.deepEqual(v, { status: 'changed-fingerprint', expected: [a.fp] });
  });

  it('appends accepted keys in a form ssh-keygen -F finds', () => {
    const a = keys['a']!;
    const file = path.join(dir, 'kh-append');
    fs.writeFileSync(file, '# no newline at end');
    appendKnownHost(file, '10.99.0.11', 2222, a.blob);
    const out = execFileSync('ssh-keygen', ['-F', '[10.99.0.11]:2222', '-f', file], { encoding: 'utf8' });
    assert.ok(out.includes(a.blob.toString('base64')));
    assert.equal(checkHostKey({ host: '10.99.0.11', port: 2222, key: a.blob, knownHosts: [{ file, text: fs.readFileSync(file, 'utf8') }] }).status, 'trusted');
  });
});

describe('the command a host-key prompt tells the user to run on the node', () => {
  it('names the public key file of the presented key type', () => {
    assert.equal(hostKeyCheckCommand('ssh-ed25519'), 'ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub');
    assert.equal(hostKeyCheckCommand('ecdsa-sha2-nistp256'), 'ssh-keygen -lf /etc/ssh/ssh_host_ecdsa_key.pub');
    assert.equal(hostKeyCheckCommand('rsa-sha2-512'), 'ssh-keygen -lf /etc/ssh/ssh_host_rsa_key.pub');
    assert.equal(hostKeyCheckCommand('ssh-rsa'), 'ssh-keygen -lf /etc/ssh/ssh_host_rsa_key.pub');
  });
  it('lists every host key for a type it does not know', () => {
    assert.equal(hostKeyCheckCommand('unknown'), 'for f in /etc/ssh/ssh_host_*_key.pub; do ssh-keygen -lf "$f"; done');
  });
});
