import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { isLabError } from '../../src/core/errors';
import { findPlaceholders, lintTemplate, renderTemplate, validateCapture } from '../../src/core/lab/template';

const vars = { 'node1.ip': '10.99.0.11', 'self.name': 'docker-node1', 'cap.odd': "a b'c", 'images.nginx': 'nginx' };

describe('lab templates', () => {
  it('fills known variables and leaves Docker Go templates alone', () => {
    const t = "docker inspect -f '{{.NetworkSettings.IPAddress}}' web; curl http://{{node1.ip}}/ {{ images.nginx }} '{{range .Containers}}{{.Name}}{{println}}{{end}}'";
    assert.equal(renderTemplate(t, vars), "docker inspect -f '{{.NetworkSettings.IPAddress}}' web; curl http://10.99.0.11/ nginx '{{range .Containers}}{{.Name}}{{println}}{{end}}'");
  });
  it('refuses unknown variables', () => {
    assert.throws(() => renderTemplate('echo {{node2.ip}}', vars), (e) => isLabError(e, 'InvalidInput') && /node2\.ip/.test(e.message));
  });
  it('shell-quotes values outside quotes so a real shell reads them back unchanged', () => {
    const cmd = renderTemplate('printf %s {{cap.odd}}', vars);
    assert.equal(cmd, "printf %s 'a b'\\''c'");
    assert.equal(execFileSync('sh', ['-c', cmd]).toString(), "a b'c");
  });
  it('inside double quotes accepts only safe values', () => {
    assert.equal(renderTemplate('echo "ip={{node1.ip}}"', vars), 'echo "ip=10.99.0.11"');
    assert.throws(() => renderTemplate('echo "{{cap.odd}}"', vars), (e) => isLabError(e, 'InvalidInput'));
  });
  it('refuses placeholders inside single quotes', () => {
    assert.throws(() => renderTemplate("echo '{{node1.ip}}'", vars), (e) => isLabError(e, 'InvalidInput') && /single quotes/.test(e.message));
    assert.deepEqual(lintTemplate("echo '{{node1.ip}}'"), ['{{node1.ip}} inside single quotes cannot be substituted safely']);
  });
  it('plain mode (URLs) refuses values that need quoting', () => {
    assert.equal(renderTemplate('http://{{node1.ip}}:5000/', vars, 'plain'), 'http://10.99.0.11:5000/');
    assert.throws(() => renderTemplate('http://{{cap.odd}}/', vars, 'plain'), (e) => isLabError(e, 'InvalidInput'));
  });
  it('tracks quoting: escaped quotes and double quotes inside single quotes', () => {
    const ph = findPlaceholders(`a \\' {{node1.ip}} '"' {{self.name}} "x'y" {{images.nginx}}`);
    assert.deepEqual(ph.map((p) => [p.name, p.quote]), [['node1.ip', 'none'], ['self.name', 'none'], ['images.nginx', 'none']]);
  });
  it('validates captured values by type', () => {
    assert.equal(validateCapture(' 10.0.0.2\n', 'ipv4', 'x'), '10.0.0.2');
    assert.throws(() => validateCapture('10.0.0.300', 'ipv4', 'x'), (e) => isLabError(e, 'InvalidInput'));
    assert.throws(() => validateCapture('$(reboot)', 'token', 'x'), (e) => isLabError(e, 'InvalidInput'));
    assert.equal(validateCapture('SWMTKN-1-abc', 'token', 'x'), 'SWMTKN-1-abc');
    assert.throws(() => validateCapture('12a', 'int', 'x'));
  });
});
