import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connect as h2connect } from 'node:http2';
import { WebSocketGateway } from '@nestjs/websockets';
import { WsGateAdapter, WsGateway } from '../../lib/gateway/index.js';
import { TLS_CERT } from '../http2/support/tls-fixture.js';
import { expectCodeInText } from '../support/expect-wsg-error.js';
import { startAdapterApp } from './adapter/support/adapter-app.js';
import { CaptureLogger } from './support/capture-logger.js';
import { startApp, type StartedApp } from './support/nest-app.js';
import { WsTestClient } from './support/ws-client.js';
import { startH2App, type H2App } from './http2/support/h2-apps.js';

@WsGateway('/plain')
class DefaultGateway {}

@WsGateway({ path: '/anywhere', allowedOrigins: ['*'] })
class AnyOriginGateway {}

@WebSocketGateway({ path: '/adapted' })
class AdaptedGateway {}

@WebSocketGateway({ path: '/verified', verifyClient: () => true })
class VerifiedGateway {}

@WebSocketGateway({ path: '/listed', allowedOrigins: ['https://good.example'] })
class ListedAdaptedGateway {}

/** An RFC 8441 extended CONNECT with the given :authority and Origin; the answer's status and body. */
function connectWith(site: H2App, path: string, authority: string, origin: string | undefined): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const session = h2connect(`https://127.0.0.1:${site.port}`, { ca: TLS_CERT });
    session.on('error', reject);
    session.once('remoteSettings', () => {
      const stream = session.request(
        { ':method': 'CONNECT', ':protocol': 'websocket', ':scheme': 'https', ':path': path, ':authority': authority, 'sec-websocket-version': '13', ...(origin !== undefined ? { origin } : {}) },
        { endStream: false },
      );
      let status = 0;
      let body = '';
      stream.on('response', (h) => {
        status = Number(h[':status']);
        if (status === 200) stream.close();
      });
      stream.setEncoding('utf8').on('data', (c: string) => (body += c));
      stream.on('error', () => undefined);
      stream.on('close', () => {
        session.close();
        resolve({ status, body });
      });
    });
  });
}

describe('Origin checked by default: @WsGateway on HTTP/1.1', () => {
  let started: StartedApp;
  const logger = new CaptureLogger();
  beforeAll(async () => {
    started = await startApp('express', { providers: [DefaultGateway, AnyOriginGateway], logger });
  });
  afterAll(async () => {
    await started.app.close();
  });

  it('opens for a page of the host the request was sent to', async () => {
    const client = await WsTestClient.connect(started.url('/plain'), { origin: `http://127.0.0.1:${started.port}` });
    await client.close();
  });

  it.each([
    ['another host', 'http://evil.example'],
    ['null', 'null'],
    ['an 8 KiB origin', `http://${'a'.repeat(8192)}`],
    ['the same host on another port', 'http://127.0.0.1:1'],
  ])('answers 403 WSG_ERR_GATEWAY_ORIGIN to %s, quoting at most 64 characters of it', async (_what, origin) => {
    const refused = await WsTestClient.refused(started.url('/plain'), { origin });
    expect(refused.status).toBe(403);
    expectCodeInText(refused.body, 'WSG_ERR_GATEWAY_ORIGIN');
    expect(refused.body.length).toBeLessThan(200);
  });

  it('lets a client without Origin through', async () => {
    const client = await WsTestClient.connect(started.url('/plain'));
    await client.close();
  });

  it("allowedOrigins ['*'] opens for any origin and was warned about once at boot", async () => {
    const client = await WsTestClient.connect(started.url('/anywhere'), { origin: 'http://evil.example' });
    await client.close();
    const warnings = logger.lines.filter((l) => l.level === 'warn' && l.message.includes("allowedOrigins '*'"));
    expect(warnings.map((l) => l.message)).toEqual([expect.stringContaining('AnyOriginGateway')]);
  });
});

describe('Origin checked by default: @WsGateway on RFC 8441 (:authority)', () => {
  let site: H2App;
  beforeAll(async () => {
    site = await startH2App('fastify-h2', { providers: [DefaultGateway] });
  });
  afterAll(async () => {
    await site.app.close();
  });

  it('opens for an https page of the :authority', async () => {
    expect((await connectWith(site, '/plain', `127.0.0.1:${site.port}`, `https://127.0.0.1:${site.port}`)).status).toBe(200);
  });

  it('answers 403 WSG_ERR_GATEWAY_ORIGIN to another host and to an http page (TLS session)', async () => {
    for (const origin of ['https://evil.example', `http://127.0.0.1:${site.port}`]) {
      const answer = await connectWith(site, '/plain', `127.0.0.1:${site.port}`, origin);
      expect(answer.status).toBe(403);
      expectCodeInText(answer.body, 'WSG_ERR_GATEWAY_ORIGIN');
    }
  });
});

describe('Origin checked by default: WsGateAdapter', () => {
  let started: { app: { close(): Promise<void> }; port: number; url(path: string): string };
  beforeAll(async () => {
    started = await startAdapterApp('express', { adapter: (app, options) => new WsGateAdapter(app, options), providers: [AdaptedGateway, VerifiedGateway, ListedAdaptedGateway] });
  });
  afterAll(async () => {
    await started.app.close();
  });

  it('answers 403 WSG_ERR_GATEWAY_ORIGIN to a page of another host, and opens for its own', async () => {
    const refused = await WsTestClient.refused(started.url('/adapted'), { origin: 'http://evil.example' });
    expect(refused.status).toBe(403);
    expectCodeInText(refused.body, 'WSG_ERR_GATEWAY_ORIGIN');
    const client = await WsTestClient.connect(started.url('/adapted'), { origin: `http://127.0.0.1:${started.port}` });
    await client.close();
  });

  it('a verifyClient decides instead (as ws): the same-host default is off', async () => {
    const client = await WsTestClient.connect(started.url('/verified'), { origin: 'http://evil.example' });
    await client.close();
  });

  it('allowedOrigins lists origins besides the same host', async () => {
    const client = await WsTestClient.connect(started.url('/listed'), { origin: 'https://good.example' });
    await client.close();
    expect((await WsTestClient.refused(started.url('/listed'), { origin: 'https://evil.example' })).status).toBe(403);
  });
});
