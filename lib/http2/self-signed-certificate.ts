import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Http2Error } from './errors.js';

export interface SelfSignedCertificate {
  /** PEM private key (EC P-256). */
  key: string;
  /** PEM certificate. */
  cert: string;
}

export interface SelfSignedCertificateOptions {
  /** @defaultValue 'localhost' */
  commonName?: string;
  /** subjectAltName entries. @defaultValue ['DNS:localhost', 'IP:127.0.0.1', 'IP:::1'] */
  altNames?: readonly string[];
  /** @defaultValue 30 days */
  days?: number;
  /** The openssl binary; Node has no X.509 generator of its own. @defaultValue 'openssl' (from PATH) */
  openssl?: string;
}

/**
 * Makes a throwaway self-signed certificate with the openssl command line (for the CLI's
 * `echo --http2` and local tests: browsers only speak HTTP/2 over TLS). Fails with
 * `WSG_ERR_H2_CERTIFICATE` when openssl is missing or fails.
 */
export async function createSelfSignedCertificate(options: SelfSignedCertificateOptions = {}): Promise<SelfSignedCertificate> {
  const openssl = options.openssl ?? 'openssl';
  const altNames = options.altNames ?? ['DNS:localhost', 'IP:127.0.0.1', 'IP:::1'];
  const days = options.days ?? 30;
  const dir = await mkdtemp(join(tmpdir(), 'wsgate-cert-'));
  try {
    const keyPath = join(dir, 'key.pem');
    const certPath = join(dir, 'cert.pem');
    const args = [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', keyPath, '-out', certPath, '-days', String(days),
      '-subj', `/CN=${options.commonName ?? 'localhost'}`,
      '-addext', `subjectAltName=${altNames.join(',')}`,
    ];
    await new Promise<void>((resolve, reject) => {
      const child = spawn(openssl, args, { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      child.once('error', (error: NodeJS.ErrnoException) => {
        const why = error.code === 'ENOENT' ? `${openssl} not found; install openssl or pass a certificate and key` : error.message;
        reject(new Http2Error('WSG_ERR_H2_CERTIFICATE', `Cannot make a self-signed certificate: ${why}`, { cause: error }));
      });
      child.once('close', (code) => {
        if (code === 0) resolve();
        else reject(new Http2Error('WSG_ERR_H2_CERTIFICATE', `${openssl} exited ${String(code)}: ${stderr.trim().split('\n').pop() ?? ''}`));
      });
    });
    const [key, cert] = await Promise.all([readFile(keyPath, 'utf8'), readFile(certPath, 'utf8')]);
    return { key, cert };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
