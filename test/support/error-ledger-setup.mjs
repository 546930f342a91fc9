// Jest global setup: a fresh error ledger for this run (see error-ledger.mjs).
import { createLedger, LEDGER_ENV } from './error-ledger.mjs';

export default function setup() {
  process.env[LEDGER_ENV] = createLedger();
}
