/** Test helper (never a test itself): the CaissonError a promise rejects with, failing when it resolves or rejects with anything else. */
import assert from 'node:assert/strict';
import { CaissonError } from '../../src/errors.js';

export async function rejection(promise: Promise<unknown>): Promise<CaissonError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof CaissonError, `expected a CaissonError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a rejection');
}
