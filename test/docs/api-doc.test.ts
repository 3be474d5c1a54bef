// docs/api.md's reference section is what scripts/docs/api-doc.ts generates from the contract now.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { API_EVENTS } from '../../electron/contract/common/api-events.ts';
import { API_METHODS } from '../../electron/contract/common/api-methods.ts';
import { DOC_PATH, renderApiReference, updatedDoc } from '../../scripts/docs/api-doc.ts';

describe('docs/api.md', () => {
  it('is up to date with the contract (run: node --import tsx scripts/docs/api-doc.ts --write)', () => {
    const committed = readFileSync(DOC_PATH, 'utf8');
    assert.equal(updatedDoc(committed), committed);
  });

  it('documents every method and event with its schema', () => {
    const reference = renderApiReference();
    for (const name of [...Object.keys(API_METHODS), ...Object.keys(API_EVENTS)]) assert.ok(reference.includes(`### \`${name}\``), name);
    assert.match(reference, /limit\?: integer; \/\/ 1–500, default 60/);
    assert.match(reference, /kind: "image" \| "video" \| "pdf" \| "text" \| "document";/);
  });

  it('refuses a doc without its markers instead of guessing where to write', () => {
    assert.throws(() => updatedDoc('# no markers'), /must contain the markers/);
  });
});
