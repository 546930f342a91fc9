import type { Role } from '../../lib/frames/connection-options.js';
import { DeflateCodec } from '../../lib/frames/deflate-codec.js';
import {
  DeflateConfig,
  PERMESSAGE_DEFLATE,
  acceptDeflateOffer,
  checkDeflateResponse,
  deflateOffer,
  type PerMessageDeflateOptions,
} from '../../lib/frames/deflate-negotiation.js';
import { formatExtensionHeader, parseExtensionHeader, type ExtensionParams } from '../../lib/frames/extension-header.js';

// permessage-deflate codecs built the way a handshake builds them: config, pure negotiation
// through real header strings, then the codec. For suites that exercise the codec itself.

const MiB = 1024 * 1024;

/** Offers (or a response) as they arrive: through a real header string and the parser. */
export function deflateParamsFrom(header: string): ExtensionParams[] {
  return parseExtensionHeader(header).get(PERMESSAGE_DEFLATE) ?? [];
}

/** Client offers, server answers, client checks the answer: both codecs configured as on a real handshake. */
export function negotiatedPair(
  serverOptions: PerMessageDeflateOptions | undefined,
  clientOptions: PerMessageDeflateOptions | undefined,
  maxMessageSize = MiB,
): { server: DeflateCodec; client: DeflateCodec; response: string } {
  const serverConfig = DeflateConfig.from(serverOptions ?? {});
  const clientConfig = DeflateConfig.from(clientOptions ?? {});
  const offerHeader = formatExtensionHeader({ [PERMESSAGE_DEFLATE]: deflateOffer(clientConfig) });
  const accepted = acceptDeflateOffer(serverConfig, deflateParamsFrom(offerHeader));
  if (accepted === null) throw new Error('server declined the offer');
  const response = formatExtensionHeader({ [PERMESSAGE_DEFLATE]: accepted.response });
  const clientAgreement = checkDeflateResponse(clientConfig, deflateParamsFrom(response));
  return {
    server: new DeflateCodec(serverConfig, accepted.agreement, 'server', maxMessageSize),
    client: new DeflateCodec(clientConfig, clientAgreement, 'client', maxMessageSize),
    response,
  };
}

/** One codec as a server (or client) would have it after a bare `permessage-deflate` offer. */
export function bareCodec(r: Role, options: PerMessageDeflateOptions = {}, maxMessageSize = MiB): DeflateCodec {
  const config = DeflateConfig.from(options);
  const accepted = acceptDeflateOffer(config, deflateParamsFrom(PERMESSAGE_DEFLATE));
  if (accepted === null) throw new Error('a bare offer was declined');
  return new DeflateCodec(config, accepted.agreement, r, maxMessageSize);
}
