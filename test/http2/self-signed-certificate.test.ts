import { once } from 'node:events';
import { createSecureServer } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { expect, it } from '@jest/globals';
import { WsClient } from '../../lib/http2/ws-client.js';
import { ExtendedConnectIntake } from '../../lib/http2/extended-connect.js';
import { createSelfSignedCertificate } from '../../lib/http2/self-signed-certificate.js';
import { expectRejectsWsgError } from '../support/expect-wsg-error.js';
import { OPENSSL, opensslBinary, requireBinary } from '../support/interop-binaries.js';

requireBinary(OPENSSL, opensslBinary)('createSelfSignedCertificate() (openssl)', () => {
  it('makes a certificate for localhost and 127.0.0.1 that a client trusting it accepts over h2', async () => {
    const { key, cert } = await createSelfSignedCertificate({ days: 2 });
    const x509 = new X509Certificate(cert);
    expect(x509.subject).toBe('CN=localhost');
    expect(x509.subjectAltName).toMatch(/IP Address:127\.0\.0\.1/);
    expect(x509.checkPrivateKey(createPrivateKey(key))).toBe(true);
    const server = createSecureServer({ key, cert, settings: { enableConnectProtocol: true } });
    const intake = new ExtendedConnectIntake(server);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const conn = await WsClient.connect(`wss://127.0.0.1:${(server.address() as AddressInfo).port}/`, { http2: true, ca: cert });
      expect(conn.isOpen).toBe(true);
      conn.close();
      await conn.closed;
    } finally {
      await intake.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

it('fails WSG_ERR_H2_CERTIFICATE with advice when the openssl binary does not exist', async () => {
  const error = await expectRejectsWsgError(createSelfSignedCertificate({ openssl: '/nonexistent/openssl' }), 'WSG_ERR_H2_CERTIFICATE');
  expect(error.message).toMatch(/not found; install openssl or pass a certificate and key/);
  expect((error.cause as NodeJS.ErrnoException).code).toBe('ENOENT');
});
