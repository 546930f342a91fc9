import { readFileSync } from 'node:fs';

const FIXTURES = new URL('../fixtures/', import.meta.url);

/** A self-signed certificate for 127.0.0.1 and localhost, for tests only (valid until 2126). */
export const TLS_CERT = readFileSync(new URL('cert.pem', FIXTURES), 'utf8');
export const TLS_KEY = readFileSync(new URL('key.pem', FIXTURES), 'utf8');
export const FIXTURES_DIR = new URL('../fixtures/', import.meta.url).pathname;
