import { test } from 'node:test';
import assert from 'node:assert/strict';
import { errorMessage } from '../../../electron/engine/base/common/error-message.ts';

test('errorMessage: an Error gives its message, anything else thrown is turned into text', () => {
  assert.equal(errorMessage(new TypeError('bad input')), 'bad input');
  assert.equal(errorMessage('a thrown string'), 'a thrown string');
  assert.equal(errorMessage(42), '42');
  assert.equal(errorMessage(new DOMException('The operation was aborted.', 'AbortError')), 'The operation was aborted.');
});

test('errorMessage: clause keeps the first line without its final period; ifEmpty stands in for no message', () => {
  assert.equal(errorMessage(new Error('Central directory not found.\n  at zip.ts:10'), { clause: true }), 'Central directory not found');
  assert.equal(errorMessage(new Error(''), { ifEmpty: 'failed without a message' }), 'failed without a message');
  assert.equal(errorMessage(new Error('')), '');
  assert.equal(errorMessage(new Error('kept'), { ifEmpty: 'unused' }), 'kept');
});
