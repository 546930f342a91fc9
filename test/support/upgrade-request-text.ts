/** RFC 6455 §1.3's sample key; its accept value is s3pPLMBiTxaQ9kYGzzhZRbK+xOo=. */
export const SAMPLE_KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

/**
 * A hand-written HTTP/1.1 upgrade request: a valid one by default; `lines` adds or replaces
 * headers, and `undefined` leaves one out.
 */
export function upgradeRequestText(lines: Record<string, string | undefined> = {}, method = 'GET', path = '/'): string {
  const headers: Record<string, string | undefined> = {
    Host: '127.0.0.1',
    Upgrade: 'websocket',
    Connection: 'Upgrade',
    'Sec-WebSocket-Key': SAMPLE_KEY,
    'Sec-WebSocket-Version': '13',
    ...lines,
  };
  let out = `${method} ${path} HTTP/1.1\r\n`;
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) out += `${name}: ${value}\r\n`;
  return out + '\r\n';
}
