import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from '@jest/globals';
import { WsgError } from '../../lib/index.js';

/**
 * Asserts that `error` is a WsgError with exactly this `code` and `closeCode` (undefined for an
 * error that closes nothing), then records the code in the suite's error ledger. The global
 * teardown fails the full run when a code of docs/errors.md was never recorded here, so every
 * documented code must be raised by a behavioural test that goes through this helper.
 */
export function expectWsgError(error: unknown, code: `WSG_ERR_${string}`, closeCode?: number): WsgError {
  expect(error).toBeInstanceOf(WsgError);
  const wsg = error as WsgError;
  expect({ code: wsg.code, closeCode: wsg.closeCode }).toEqual({ code, closeCode });
  const dir = process.env.WSGATE_ERROR_LEDGER;
  if (dir !== undefined && dir !== '') appendFileSync(join(dir, `codes-${process.pid}`), `${code} ${closeCode ?? 'none'}\n`);
  return wsg;
}

/** Awaits `promise`, expects it to reject, and checks the rejection with {@link expectWsgError}. */
export async function expectRejectsWsgError(promise: Promise<unknown>, code: `WSG_ERR_${string}`, closeCode?: number): Promise<WsgError> {
  let caught: unknown = undefined;
  let settled = false;
  try {
    await promise;
    settled = true;
  } catch (error) {
    caught = error;
  }
  expect(settled).toBe(false);
  return expectWsgError(caught, code, closeCode);
}

/** Calls `fn`, expects it to throw, and checks the error with {@link expectWsgError}. */
export function expectThrowsWsgError(fn: () => unknown, code: `WSG_ERR_${string}`, closeCode?: number): WsgError {
  let caught: unknown = undefined;
  let returned = false;
  try {
    fn();
    returned = true;
  } catch (error) {
    caught = error;
  }
  expect(returned).toBe(false);
  return expectWsgError(caught, code, closeCode);
}

/**
 * For codes that reach the user as words, not as an error object: an HTTP refusal's body or a
 * log line. Asserts that `text` begins with, or holds, `[code]` as wsgate writes it, then records
 * the code (it closes nothing) in the error ledger.
 */
export function expectCodeInText(text: string | undefined, code: `WSG_ERR_${string}`): void {
  expect(text).toEqual(expect.stringContaining(`[${code}]`));
  const dir = process.env.WSGATE_ERROR_LEDGER;
  if (dir !== undefined && dir !== '') appendFileSync(join(dir, `codes-${process.pid}`), `${code} none\n`);
}
