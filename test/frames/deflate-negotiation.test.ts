import { describe, it, expect, afterAll, beforeAll, jest } from '@jest/globals';
import { createHook } from 'node:async_hooks';
import { connectWebSocket, upgradeOverHttp1 } from '../../lib/frames/websocket-client.js';
import { WsServer } from '../../lib/frames/websocket-server.js';
import type { WebSocketConnection } from '../../lib/frames/websocket-connection.js';
import { HandshakeError, InvalidOptionError } from '../../lib/frames/errors.js';
import { formatExtensionHeader, parseExtensionHeader, type ExtensionParams } from '../../lib/frames/extension-header.js';
import {
  DeflateConfig,
  PERMESSAGE_DEFLATE,
  acceptDeflateOffer,
  checkDeflateResponse,
  deflateOffer,
  resolveDeflateConfig,
  type DeflateAcceptance,
  type PerMessageDeflateOptions,
} from '../../lib/frames/deflate-negotiation.js';
import { ensureBuilt } from '../support/built-cli.js';
import { bareCodec } from '../support/deflate-pair.js';
import { expectThrowsWsgError, expectWsgError } from '../support/expect-wsg-error.js';
import { ModuleTracer } from '../support/module-trace.js';

// RFC 7692 negotiation as pure functions: a frozen DeflateConfig made once from the options,
// then (config, offers) → response and agreement on a server, (config, response) → agreement
// on a client. No zlib: the codec (deflate-codec.test.ts) is built from what these return.

function config(options: PerMessageDeflateOptions | undefined): DeflateConfig {
  return DeflateConfig.from(options ?? {});
}

/** Offers as they arrive at a server: through a real header string and the parser. */
function offersFrom(header: string): ExtensionParams[] {
  return parseExtensionHeader(header).get(PERMESSAGE_DEFLATE) ?? [];
}

function paramsOf(accepted: DeflateAcceptance | null): Record<string, string | true> | null {
  return accepted === null ? null : { ...accepted.response };
}

function handshakeError(fn: () => unknown): HandshakeError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(HandshakeError);
    return error as HandshakeError;
  }
  throw new Error('expected a HandshakeError');
}

describe('RFC 7692 §7.1 negotiation, server side', () => {
  const table: [string, PerMessageDeflateOptions | undefined, string, Record<string, string | true> | null][] = [
    ['accepts a bare offer with an empty response', undefined, 'permessage-deflate', {}],
    ['does not answer client_max_window_bits offered without a value', undefined, 'permessage-deflate; client_max_window_bits', {}],
    ['echoes client_max_window_bits offered with a value', undefined, 'permessage-deflate; client_max_window_bits=10', { client_max_window_bits: '10' }],
    ['answers its clientMaxWindowBits when the client supports the parameter', { clientMaxWindowBits: 12 }, 'permessage-deflate; client_max_window_bits', { client_max_window_bits: '12' }],
    ['answers the smaller of its clientMaxWindowBits and the offer', { clientMaxWindowBits: 12 }, 'permessage-deflate; client_max_window_bits=10', { client_max_window_bits: '10' }],
    ['caps an offered client_max_window_bits at its clientMaxWindowBits', { clientMaxWindowBits: 9 }, 'permessage-deflate; client_max_window_bits=10', { client_max_window_bits: '9' }],
    ['declines an offer without client_max_window_bits when it insists on clientMaxWindowBits', { clientMaxWindowBits: 12 }, 'permessage-deflate', null],
    ['never answers client_max_window_bits when clientMaxWindowBits is false', { clientMaxWindowBits: false }, 'permessage-deflate; client_max_window_bits=10', {}],
    ['echoes server_no_context_takeover (§7.1.1.1: accepting means echoing)', undefined, 'permessage-deflate; server_no_context_takeover', { server_no_context_takeover: true }],
    ['adds server_no_context_takeover when serverNoContextTakeover is set', { serverNoContextTakeover: true }, 'permessage-deflate', { server_no_context_takeover: true }],
    ['echoes the client_no_context_takeover hint', undefined, 'permessage-deflate; client_no_context_takeover', { client_no_context_takeover: true }],
    ['adds client_no_context_takeover when clientNoContextTakeover is set', { clientNoContextTakeover: true }, 'permessage-deflate', { client_no_context_takeover: true }],
    ['echoes server_max_window_bits', undefined, 'permessage-deflate; server_max_window_bits=10', { server_max_window_bits: '10' }],
    ['answers the smaller of its serverMaxWindowBits and the offer', { serverMaxWindowBits: 12 }, 'permessage-deflate; server_max_window_bits=10', { server_max_window_bits: '10' }],
    ['answers a server_max_window_bits below the offer', { serverMaxWindowBits: 9 }, 'permessage-deflate; server_max_window_bits=10', { server_max_window_bits: '9' }],
    ['answers serverMaxWindowBits even when not offered (§7.1.2.1)', { serverMaxWindowBits: 11 }, 'permessage-deflate', { server_max_window_bits: '11' }],
    ['declines an offer with server_max_window_bits when serverMaxWindowBits is false', { serverMaxWindowBits: false }, 'permessage-deflate; server_max_window_bits=10', null],
    ['accepts an offer without server_max_window_bits when serverMaxWindowBits is false', { serverMaxWindowBits: false }, 'permessage-deflate', {}],
    ['accepts an 8-bit server window', undefined, 'permessage-deflate; server_max_window_bits=8', { server_max_window_bits: '8' }],
    ['accepts an 8-bit client window', undefined, 'permessage-deflate; client_max_window_bits=8', { client_max_window_bits: '8' }],
    ['accepts a quoted window value', undefined, 'permessage-deflate; server_max_window_bits="10"', { server_max_window_bits: '10' }],
    [
      'answers all four parameters together',
      undefined,
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9; client_max_window_bits=11',
      { server_no_context_takeover: true, client_no_context_takeover: true, server_max_window_bits: '9', client_max_window_bits: '11' },
    ],
  ];
  it.each(table)('%s', (_label, options, header, expected) => {
    expect(paramsOf(acceptDeflateOffer(config(options), offersFrom(header)))).toEqual(expected);
  });

  const invalidOffers: [string, string][] = [
    ['an unknown parameter', 'permessage-deflate; foo'],
    ['a prototype-named parameter', 'permessage-deflate; __proto__=1'],
    ['a repeated parameter', 'permessage-deflate; server_no_context_takeover; server_no_context_takeover'],
    ['a repeated window parameter', 'permessage-deflate; client_max_window_bits=10; client_max_window_bits=11'],
    ['server_max_window_bits without a value', 'permessage-deflate; server_max_window_bits'],
    ['server_max_window_bits=7', 'permessage-deflate; server_max_window_bits=7'],
    ['server_max_window_bits=16', 'permessage-deflate; server_max_window_bits=16'],
    ['server_max_window_bits with a leading zero', 'permessage-deflate; server_max_window_bits=09'],
    ['server_max_window_bits not a number', 'permessage-deflate; server_max_window_bits=ten'],
    ['client_max_window_bits=16', 'permessage-deflate; client_max_window_bits=16'],
    ['client_max_window_bits=0', 'permessage-deflate; client_max_window_bits=0'],
    ['server_no_context_takeover with a value', 'permessage-deflate; server_no_context_takeover=1'],
    ['client_no_context_takeover with a quoted value', 'permessage-deflate; client_no_context_takeover="x"'],
  ];
  it.each(invalidOffers)('declines an offer with %s and takes the next acceptable one', (_label, header) => {
    const server = config(undefined);
    expect(acceptDeflateOffer(server, offersFrom(header))).toBeNull();
    expect(paramsOf(acceptDeflateOffer(server, offersFrom(`${header}, permessage-deflate; client_max_window_bits=11`)))).toEqual({
      client_max_window_bits: '11',
    });
  });

  it('returns null when nothing is offered', () => {
    expect(acceptDeflateOffer(config(undefined), [])).toBeNull();
  });

  it('picks the first acceptable offer in order', () => {
    const answer = acceptDeflateOffer(
      config({ clientMaxWindowBits: 10 }),
      offersFrom('permessage-deflate, permessage-deflate; client_max_window_bits=12, permessage-deflate; client_max_window_bits=9'),
    );
    expect(paramsOf(answer)).toEqual({ client_max_window_bits: '10' });
  });

  it('returns a null-prototype params object', () => {
    expect(Object.getPrototypeOf(acceptDeflateOffer(config(undefined), offersFrom('permessage-deflate'))!.response)).toBeNull();
  });
});

describe('RFC 7692 §7.1 negotiation, client side', () => {
  const offers: [string, PerMessageDeflateOptions | undefined, Record<string, string | true>][] = [
    ['offers client_max_window_bits without a value by default', undefined, { client_max_window_bits: true }],
    ['offers nothing extra when clientMaxWindowBits is false', { clientMaxWindowBits: false }, {}],
    ['offers client_max_window_bits with its value', { clientMaxWindowBits: 10 }, { client_max_window_bits: '10' }],
    ['offers server_max_window_bits with its value', { serverMaxWindowBits: 8 }, { server_max_window_bits: '8', client_max_window_bits: true }],
    ['never offers server_max_window_bits without a value', { serverMaxWindowBits: true, clientMaxWindowBits: false }, {}],
    [
      'offers both no_context_takeover parameters',
      { serverNoContextTakeover: true, clientNoContextTakeover: true, clientMaxWindowBits: false },
      { server_no_context_takeover: true, client_no_context_takeover: true },
    ],
  ];
  it.each(offers)('%s', (_label, options, expected) => {
    const offer = deflateOffer(config(options));
    expect(Object.getPrototypeOf(offer)).toBeNull();
    expect({ ...offer }).toEqual(expected);
  });

  const accepted: [string, PerMessageDeflateOptions | undefined, string][] = [
    ['an empty response', undefined, 'permessage-deflate'],
    ['server_no_context_takeover it did not request (§7.1.1.1)', undefined, 'permessage-deflate; server_no_context_takeover'],
    ['client_no_context_takeover it did not offer (§7.1.1.2)', undefined, 'permessage-deflate; client_no_context_takeover'],
    ['server_max_window_bits it did not request (§7.1.2.1)', undefined, 'permessage-deflate; server_max_window_bits=10'],
    ['server_max_window_bits below its request', { serverMaxWindowBits: 12 }, 'permessage-deflate; server_max_window_bits=9'],
    ['an 8-bit server window it requested', { serverMaxWindowBits: 8 }, 'permessage-deflate; server_max_window_bits=8'],
    ['client_max_window_bits after offering it without a value', undefined, 'permessage-deflate; client_max_window_bits=8'],
    ['client_max_window_bits at its offered value', { clientMaxWindowBits: 10 }, 'permessage-deflate; client_max_window_bits=10'],
    ['server_no_context_takeover it requested', { serverNoContextTakeover: true }, 'permessage-deflate; server_no_context_takeover'],
  ];
  it.each(accepted)('accepts %s', (_label, options, header) => {
    expect(() => checkDeflateResponse(config(options), offersFrom(header))).not.toThrow();
  });

  const rejected: [string, PerMessageDeflateOptions | undefined, string][] = [
    ['no response entry', undefined, ''],
    ['two response entries', undefined, 'permessage-deflate, permessage-deflate'],
    ['an unknown parameter', undefined, 'permessage-deflate; foo=1'],
    ['a repeated parameter', undefined, 'permessage-deflate; server_max_window_bits=10; server_max_window_bits=10'],
    ['server_max_window_bits=16', undefined, 'permessage-deflate; server_max_window_bits=16'],
    ['server_max_window_bits=7', undefined, 'permessage-deflate; server_max_window_bits=7'],
    ['server_max_window_bits without a value', undefined, 'permessage-deflate; server_max_window_bits'],
    ['client_max_window_bits without a value (only offers may omit it)', undefined, 'permessage-deflate; client_max_window_bits'],
    ['client_max_window_bits=08', undefined, 'permessage-deflate; client_max_window_bits=08'],
    ['server_no_context_takeover with a value', undefined, 'permessage-deflate; server_no_context_takeover=1'],
    ['client_max_window_bits it did not offer', { clientMaxWindowBits: false }, 'permessage-deflate; client_max_window_bits=10'],
    ['client_max_window_bits above its offer', { clientMaxWindowBits: 10 }, 'permessage-deflate; client_max_window_bits=12'],
    ['server_max_window_bits above its request', { serverMaxWindowBits: 10 }, 'permessage-deflate; server_max_window_bits=12'],
    ['no server_max_window_bits after requesting one', { serverMaxWindowBits: 10 }, 'permessage-deflate'],
    ['no server_no_context_takeover after requesting it', { serverNoContextTakeover: true }, 'permessage-deflate'],
  ];
  it.each(rejected)('fails the handshake with WSG_ERR_HANDSHAKE_EXTENSION on %s', (_label, options, header) => {
    const client = config(options);
    const response = header === '' ? [] : offersFrom(header);
    const error = handshakeError(() => checkDeflateResponse(client, response));
    expectWsgError(error, 'WSG_ERR_HANDSHAKE_EXTENSION');
    expect(error.status).toBe(0);
  });
});

describe('RFC 7692 §7.1 agreements: what each side deflates and inflates with', () => {
  it('uses 15-bit windows and context takeover for parameters nobody sent', () => {
    expect(acceptDeflateOffer(config(undefined), offersFrom('permessage-deflate'))!.agreement).toEqual({
      serverNoContextTakeover: false,
      clientNoContextTakeover: false,
      serverMaxWindowBits: 15,
      clientMaxWindowBits: 15,
    });
  });

  it('agrees on the server what it answered', () => {
    const accepted = acceptDeflateOffer(
      config({ serverMaxWindowBits: 12, clientMaxWindowBits: 10 }),
      offersFrom('permessage-deflate; client_max_window_bits; server_no_context_takeover'),
    )!;
    expect(paramsOf(accepted)).toEqual({ server_no_context_takeover: true, server_max_window_bits: '12', client_max_window_bits: '10' });
    expect(accepted.agreement).toEqual({ serverNoContextTakeover: true, clientNoContextTakeover: false, serverMaxWindowBits: 12, clientMaxWindowBits: 10 });
  });

  it('keeps the client to its own offer even where the server did not answer it (§7.1.1.2, §7.1.2.2 hints)', () => {
    expect(checkDeflateResponse(config({ clientNoContextTakeover: true, clientMaxWindowBits: 10 }), offersFrom('permessage-deflate'))).toEqual({
      serverNoContextTakeover: false,
      clientNoContextTakeover: true,
      serverMaxWindowBits: 15,
      clientMaxWindowBits: 10,
    });
  });

  it('takes the server window and the smaller client window from the response', () => {
    expect(checkDeflateResponse(config({ serverMaxWindowBits: 12 }), offersFrom('permessage-deflate; server_max_window_bits=9; client_max_window_bits=11'))).toEqual({
      serverNoContextTakeover: false,
      clientNoContextTakeover: false,
      serverMaxWindowBits: 9,
      clientMaxWindowBits: 11,
    });
  });
});

describe('DeflateConfig: options validated once, then frozen', () => {
  it('applies the defaults: threshold 1024 B, concurrencyLimit 10, level -1, memLevel 8, no window or takeover preference', () => {
    expect({ ...config(undefined) }).toEqual({
      serverNoContextTakeover: false,
      clientNoContextTakeover: false,
      serverMaxWindowBits: undefined,
      clientMaxWindowBits: undefined,
      threshold: 1024,
      concurrencyLimit: 10,
      level: -1,
      memLevel: 8,
    });
    expect(config({ threshold: 0 }).threshold).toBe(0);
  });

  it('is frozen, and does not follow later changes to the options object it was made from', () => {
    const options: PerMessageDeflateOptions = { threshold: 10, serverMaxWindowBits: 11 };
    const made = config(options);
    options.threshold = 99;
    options.serverMaxWindowBits = 9;
    expect(Object.isFrozen(made)).toBe(true);
    expect([made.threshold, made.serverMaxWindowBits]).toEqual([10, 11]);
    expect(() => {
      (made as { threshold: number }).threshold = 5;
    }).toThrow(TypeError);
  });

  it('resolveDeflateConfig: off for undefined and false, defaults for true, and a config made earlier as the same object', () => {
    expect(resolveDeflateConfig(undefined)).toBeNull();
    expect(resolveDeflateConfig(false)).toBeNull();
    expect({ ...resolveDeflateConfig(true)! }).toEqual({ ...config(undefined) });
    const made = config({ level: 1 });
    expect(resolveDeflateConfig(made)).toBe(made);
  });

  const invalid: [string, unknown][] = [
    ['serverMaxWindowBits 7', { serverMaxWindowBits: 7 }],
    ['serverMaxWindowBits 16', { serverMaxWindowBits: 16 }],
    ['clientMaxWindowBits 9.5', { clientMaxWindowBits: 9.5 }],
    ['clientMaxWindowBits "10"', { clientMaxWindowBits: '10' }],
    ['serverNoContextTakeover "yes"', { serverNoContextTakeover: 'yes' }],
    ['clientNoContextTakeover 1', { clientNoContextTakeover: 1 }],
    ['threshold -1', { threshold: -1 }],
    ['threshold 1.5', { threshold: 1.5 }],
    ['concurrencyLimit 0', { concurrencyLimit: 0 }],
    ['level 10', { level: 10 }],
    ['level -2', { level: -2 }],
    ['memLevel 0', { memLevel: 0 }],
    ['memLevel 10', { memLevel: 10 }],
    ['a string instead of options', 'yes'],
    ['null instead of options', null],
    ['an array instead of options', []],
  ];
  it.each(invalid)('rejects %s with WSG_ERR_INVALID_OPTION', (_label, options) => {
    const error = expectThrowsWsgError(() => resolveDeflateConfig(options as PerMessageDeflateOptions), 'WSG_ERR_INVALID_OPTION');
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect(error.message).toMatch(/^Option perMessageDeflate/);
  });

  it('accepts every bound exactly', () => {
    for (const options of [
      { serverMaxWindowBits: 8, clientMaxWindowBits: 15 },
      { serverMaxWindowBits: 15, clientMaxWindowBits: 8 },
      { serverMaxWindowBits: true, clientMaxWindowBits: false },
      { threshold: 0, concurrencyLimit: 1, level: -1, memLevel: 1 },
      { level: 9, memLevel: 9 },
    ]) {
      expect(() => config(options)).not.toThrow();
    }
  });
});

describe('negotiation is pure', () => {
  it('negotiates 10,000 times with the same answers and inputs untouched, opening no zlib handle', () => {
    const created: string[] = [];
    const hook = createHook({
      init(_id, type) {
        if (type === 'ZLIB') created.push(type);
      },
    });
    const server = config({ serverMaxWindowBits: 12, clientMaxWindowBits: 10 });
    const client = config({ serverNoContextTakeover: true, serverMaxWindowBits: 12 });
    const offers = offersFrom('permessage-deflate; bogus, permessage-deflate; client_max_window_bits; server_no_context_takeover; server_max_window_bits=12');
    const offersBefore = JSON.stringify(offers.map((o) => ({ ...o })));
    hook.enable();
    let first: { offer: string; accepted: string; agreed: string } | null = null;
    let differing = 0;
    try {
      for (let i = 0; i < 10_000; i++) {
        const offer = formatExtensionHeader({ [PERMESSAGE_DEFLATE]: deflateOffer(client) });
        const accepted = acceptDeflateOffer(server, offers)!;
        const agreed = checkDeflateResponse(client, [accepted.response]);
        const round = { offer, accepted: JSON.stringify(accepted), agreed: JSON.stringify(agreed) };
        if (first === null) first = round;
        else if (round.offer !== first.offer || round.accepted !== first.accepted || round.agreed !== first.agreed) differing++;
      }
    } finally {
      hook.disable();
    }
    expect(differing).toBe(0);
    expect(first).toEqual({
      offer: 'permessage-deflate; server_no_context_takeover; server_max_window_bits=12; client_max_window_bits',
      accepted: JSON.stringify({
        response: { server_no_context_takeover: true, server_max_window_bits: '12', client_max_window_bits: '10' },
        agreement: { serverNoContextTakeover: true, clientNoContextTakeover: false, serverMaxWindowBits: 12, clientMaxWindowBits: 10 },
      }),
      agreed: JSON.stringify({ serverNoContextTakeover: true, clientNoContextTakeover: false, serverMaxWindowBits: 12, clientMaxWindowBits: 10 }),
    });
    expect(JSON.stringify(offers.map((o) => ({ ...o })))).toBe(offersBefore);
    expect(created).toEqual([]);
  });

  it('the zlib probe above does see a handle as soon as a codec compresses (so "none" means none)', async () => {
    const created: string[] = [];
    const hook = createHook({
      init(_id, type) {
        if (type === 'ZLIB') created.push(type);
      },
    });
    const codec = bareCodec('server');
    hook.enable();
    try {
      await new Promise<void>((resolve, reject) => codec.compress(Buffer.from('x'.repeat(2000)), true, (error) => (error === null ? resolve() : reject(error))));
    } finally {
      hook.disable();
      codec.cleanup();
    }
    expect(created).toEqual(['ZLIB']);
  });

  it('returns frozen results, so no caller can change an agreement after the fact', () => {
    const accepted = acceptDeflateOffer(config(undefined), offersFrom('permessage-deflate'))!;
    expect([Object.isFrozen(accepted), Object.isFrozen(accepted.response), Object.isFrozen(accepted.agreement)]).toEqual([true, true, true]);
    expect(Object.isFrozen(checkDeflateResponse(config(undefined), offersFrom('permessage-deflate')))).toBe(true);
  });
});

describe('lib/frames/deflate-negotiation.ts loads no zlib', () => {
  const tracer = new ModuleTracer();
  beforeAll(() => ensureBuilt(), 120_000);
  afterAll(() => tracer.dispose());

  it('negotiates in a process that never resolves node:zlib, while the codec does resolve it', () => {
    const script = (file: string, body: string): string[] => [
      '--input-type=module',
      '-e',
      `const m = await import('./dist/lib/frames/${file}'); ${body}`,
    ];
    const negotiation = tracer.run(
      script(
        'deflate-negotiation.js',
        "const c = m.resolveDeflateConfig({ clientMaxWindowBits: 10 }); const a = m.acceptDeflateOffer(c, [{ client_max_window_bits: true }]); console.log(JSON.stringify(a.agreement));",
      ),
    );
    expect(negotiation.stderr).toBe('');
    expect(JSON.parse(negotiation.stdout)).toEqual({ serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 15, clientMaxWindowBits: 10 });
    expect(negotiation.modules.some((url) => url.endsWith('/dist/lib/frames/deflate-negotiation.js'))).toBe(true);
    expect(negotiation.modules.filter((url) => url === 'node:zlib' || url === 'zlib' || url.includes('/deflate-codec.js'))).toEqual([]);

    const codec = tracer.run(script('deflate-codec.js', "console.log(typeof m.DeflateCodec);"));
    expect(codec.stdout.trim()).toBe('function');
    expect(codec.modules).toContain('node:zlib');
  });
});

describe('a server resolves its perMessageDeflate options once, not per upgrade', () => {
  let server: WsServer | null = null;
  const conns: WebSocketConnection[] = [];
  afterAll(async () => {
    for (const conn of conns) conn.terminate();
    await server?.close();
  });

  it('makes one DeflateConfig at construction; three upgrades make none and ignore a later change to the options', async () => {
    // The client's config is made before counting: the count is the server's alone.
    const clientConfig = resolveDeflateConfig(true);
    const from = jest.spyOn(DeflateConfig, 'from');
    try {
      const options: PerMessageDeflateOptions = { serverMaxWindowBits: 11 };
      server = new WsServer({ port: 0, perMessageDeflate: options });
      expect(from).toHaveBeenCalledTimes(1);
      // Had the server kept the options object, this would change the next answers.
      options.serverMaxWindowBits = 9;
      const { port } = await server.listen();
      for (let i = 0; i < 3; i++) {
        const conn = await connectWebSocket(`ws://127.0.0.1:${port}`, { perMessageDeflate: clientConfig! }, upgradeOverHttp1);
        conns.push(conn);
        expect(conn.extensions).toBe('permessage-deflate; server_max_window_bits=11');
      }
      expect(from).toHaveBeenCalledTimes(1);
      expect(server.clients.size).toBe(3);
    } finally {
      from.mockRestore();
    }
  });

  it('refuses bad options at construction with WSG_ERR_INVALID_OPTION, before any upgrade', () => {
    const error = expectThrowsWsgError(() => new WsServer({ port: 0, perMessageDeflate: { serverMaxWindowBits: 16 } }), 'WSG_ERR_INVALID_OPTION');
    expect(error).toBeInstanceOf(InvalidOptionError);
    expectWsgError(error, 'WSG_ERR_INVALID_OPTION');
  });
});
