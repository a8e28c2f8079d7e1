import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import Ajv from 'ajv';
import { nodeConfigSchema, nodesFileSchema } from '../../src/core/nodes/nodesFile';

// At run time the schemas are compiled with validateSchema: false (checking them against the JSON
// Schema meta-schema compiled that meta-schema on every start). This is where they are checked.
const root = path.resolve(__dirname, '..', '..', '..');

function metaErrors(schema: object): string {
  const ajv = new Ajv({ allErrors: true });
  return ajv.validateSchema(schema) === true ? '' : ajv.errorsText(ajv.errors);
}

describe('schemas against the JSON Schema meta-schema', () => {
  it('the nodes file and node schemas are valid schemas (and compile in strict mode)', () => {
    assert.equal(metaErrors(nodesFileSchema), '');
    assert.equal(metaErrors(nodeConfigSchema), '');
    assert.doesNotThrow(() => new Ajv({ strict: true }).compile(nodesFileSchema));
  });
  it('every lab schema file is a valid schema', () => {
    const dir = path.join(root, 'labs', 'schema');
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json'));
    assert.ok(files.length > 0, `no schema in ${dir}`);
    for (const f of files) {
      assert.equal(metaErrors(JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as object), '', f);
    }
  });
  it('a broken schema is caught (the check can fail)', () => {
    assert.notEqual(metaErrors({ type: 'no-such-type' }), '');
  });
});
