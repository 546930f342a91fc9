import { readdirSync, readFileSync } from 'node:fs';
import { constants as h2 } from 'node:http2';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { HandshakeError, WsgError } from '../../lib/frames/errors.js';
import { H2ClientErrorCode, H2HandshakeError } from '../../lib/http2/errors.js';
import { Http2Error, Http2ErrorCode, Http2HandshakeError, fromNodeHttp2Error } from '../../lib/http2/errors.js';
import { RstCode, isValidRstCode, rstCodeName } from '../../lib/http2/rst-codes.js';

function codesUsedIn(dir: string, prefix: string, files: (name: string) => boolean): Set<string> {
  const used = new Set<string>();
  for (const file of readdirSync(dir)) {
    if (!file.endsWith('.ts') || file.endsWith('errors.ts') || !files(file)) continue;
    for (const match of readFileSync(join(dir, file), 'utf8').matchAll(new RegExp(`'(${prefix}[A-Z0-9_]+)'`, 'g'))) {
      used.add(match[1]!);
    }
  }
  return used;
}

// Table consistency only: these tests read source text and build errors by hand, so they prove
// that the tables and the code literals agree, never that a code is raised. Each code is raised
// through the public API, and recorded with expectWsgError(), in the behavioural suites:
// extended-connect, push-service, python-h2, http2-ws-server, self-signed-certificate
// (test/http2) and push.e2e, roads.e2e, adapter-h2.e2e (test/gateway/http2).
describe('HTTP/2 error code tables agree with the source text', () => {
  it('Http2ErrorCode lists exactly the WSG_ERR_H2_* literals written in lib/http2', () => {
    const used = codesUsedIn(join(process.cwd(), 'lib/http2'), 'WSG_ERR_H2_', () => true);
    expect([...used].sort()).toEqual(Object.keys(Http2ErrorCode).sort());
  });

  it('H2ClientErrorCode lists exactly the WSG_ERR_HANDSHAKE_H2_* literals written in the RFC 8441 dialer', () => {
    const used = codesUsedIn(join(process.cwd(), 'lib/http2'), 'WSG_ERR_HANDSHAKE_H2_', (file) => file === 'extended-connect-dialer.ts');
    expect([...used].sort()).toEqual(Object.keys(H2ClientErrorCode).sort());
  });

  it('Http2Error is a WsgError; both handshake error classes are HandshakeErrors carrying status', () => {
    const error = new Http2Error('WSG_ERR_H2_PUSH_RESET', 'reset');
    expect(error).toBeInstanceOf(WsgError);
    expect(error.name).toBe('Http2Error');
    const server = new Http2HandshakeError('WSG_ERR_H2_CONNECT_VERSION', 'v', 400, { 'sec-websocket-version': '13' });
    expect(server).toBeInstanceOf(HandshakeError);
    expect([server.status, server.headers]).toEqual([400, { 'sec-websocket-version': '13' }]);
    const client = new H2HandshakeError('WSG_ERR_HANDSHAKE_H2_RESET', 'r', 0, RstCode.RefusedStream);
    expect(client).toBeInstanceOf(HandshakeError);
    expect(client.rstCode).toBe(RstCode.RefusedStream);
  });

  it("fromNodeHttp2Error() maps Node's ERR_HTTP2_* by table, the rest to the caller's fallback, with cause", () => {
    const disabled = Object.assign(new Error('Push disabled'), { code: 'ERR_HTTP2_PUSH_DISABLED' });
    const wrapped = fromNodeHttp2Error(disabled, 'WSG_ERR_H2_PUSH_REFUSED', 'Could not push');
    expect(wrapped.code).toBe('WSG_ERR_H2_PUSH_DISABLED');
    expect(wrapped.cause).toBe(disabled);
    expect(wrapped.message).toBe('Could not push: Push disabled');
    const other = Object.assign(new Error('Invalid stream'), { code: 'ERR_HTTP2_INVALID_STREAM' });
    expect(fromNodeHttp2Error(other, 'WSG_ERR_H2_RESPOND_FAILED', 'x').code).toBe('WSG_ERR_H2_RESPOND_FAILED');
  });
});

describe('RST_STREAM codes (RFC 9113 §7)', () => {
  it("match node:http2's NGHTTP2_* constants name for name", () => {
    const nodeNames: Record<string, string> = {
      NoError: 'NGHTTP2_NO_ERROR',
      ProtocolError: 'NGHTTP2_PROTOCOL_ERROR',
      InternalError: 'NGHTTP2_INTERNAL_ERROR',
      FlowControlError: 'NGHTTP2_FLOW_CONTROL_ERROR',
      SettingsTimeout: 'NGHTTP2_SETTINGS_TIMEOUT',
      StreamClosed: 'NGHTTP2_STREAM_CLOSED',
      FrameSizeError: 'NGHTTP2_FRAME_SIZE_ERROR',
      RefusedStream: 'NGHTTP2_REFUSED_STREAM',
      Cancel: 'NGHTTP2_CANCEL',
      CompressionError: 'NGHTTP2_COMPRESSION_ERROR',
      ConnectError: 'NGHTTP2_CONNECT_ERROR',
      EnhanceYourCalm: 'NGHTTP2_ENHANCE_YOUR_CALM',
      InadequateSecurity: 'NGHTTP2_INADEQUATE_SECURITY',
      Http11Required: 'NGHTTP2_HTTP_1_1_REQUIRED',
    };
    for (const [name, code] of Object.entries(RstCode)) {
      expect([name, code]).toEqual([name, (h2 as unknown as Record<string, number>)[nodeNames[name]!]]);
    }
  });

  it('names known codes and prints unknown ones in hex; accepts exactly the 32-bit range', () => {
    expect(rstCodeName(8)).toBe('Cancel');
    expect(rstCodeName(0xff)).toBe('0xff');
    expect(isValidRstCode(0xffff_ffff)).toBe(true);
    expect(isValidRstCode(0x1_0000_0000)).toBe(false);
    expect(isValidRstCode(-1)).toBe(false);
  });
});
