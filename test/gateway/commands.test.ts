import { describe, it, expect } from '@jest/globals';
import { accept, deny, reply, emit, send, close, isCommand, GatewayError } from '../../lib/gateway/index.js';
import { commandKind } from '../../lib/gateway/commands.js';
import { expectThrowsWsgError } from '../support/expect-wsg-error.js';

/** `fn` must throw WSG_ERR_GATEWAY_INVALID_COMMAND, a GatewayError with no close code (the helper runs before anything is sent). */
function invalid(fn: () => unknown): GatewayError {
  const error = expectThrowsWsgError(fn, 'WSG_ERR_GATEWAY_INVALID_COMMAND');
  expect(error).toBeInstanceOf(GatewayError);
  return error as GatewayError;
}

describe('command helpers', () => {
  it('build frozen, branded commands', () => {
    const commands = [accept({ a: 1 }, { protocol: 'p', headers: { 'x-a': 'b' } }), deny(401, { body: 'no' }), reply(1), emit('e', 2), send('raw'), close(4000, 'bye')];
    expect(commands.map(commandKind)).toEqual(['accept', 'deny', 'reply', 'emit', 'send', 'close']);
    for (const c of commands) {
      expect(Object.isFrozen(c)).toBe(true);
      expect(isCommand(c)).toBe(true);
    }
    expect(commands[0]).toMatchObject({ state: { a: 1 }, protocol: 'p', headers: { 'x-a': 'b' } });
    expect(commands[5]).toMatchObject({ code: 4000, reason: 'bye' });
  });

  it('a plain object shaped like a command is not one', () => {
    expect(isCommand({ kind: 'emit', event: 'x', data: 1 })).toBe(false);
    expect(isCommand(null)).toBe(false);
    expect(isCommand('emit')).toBe(false);
  });

  it('deny() takes only 4xx and 5xx statuses', () => {
    expect(deny(400).status).toBe(400);
    expect(deny(599).status).toBe(599);
    invalid(() => deny(399));
    invalid(() => deny(600));
    invalid(() => deny(401.5));
  });

  it('close() takes only codes that may be sent, and reasons up to 123 bytes', () => {
    expect(close(1000).reason).toBe('');
    expect(close(4999, 'x'.repeat(123)).reason).toHaveLength(123);
    invalid(() => close(1005));
    invalid(() => close(1006));
    invalid(() => close(999));
    invalid(() => close(5000));
    invalid(() => close(1000, 'x'.repeat(124)));
    invalid(() => close(1000, 'é'.repeat(62)));
  });

  it('emit() needs an event; send() needs a string or bytes', () => {
    invalid(() => emit(''));
    invalid(() => send(42 as never));
    expect(send(new Uint8Array([1])).raw).toEqual(new Uint8Array([1]));
  });

  it('headers must be names and single-line values (no header injection)', () => {
    invalid(() => accept(undefined, { headers: { 'x-a': 'b\r\nSet-Cookie: x=1' } }));
    invalid(() => deny(401, { headers: { 'bad name': 'v' } }));
    invalid(() => accept(undefined, { protocol: '' }));
  });
});
