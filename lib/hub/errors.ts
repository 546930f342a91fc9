import { WsgError } from '../frames/errors.js';

/** Every error code the hub raises, with the one-line meaning users search for. */
export const HubErrorCode = {
  WSG_ERR_HUB_INVALID_TOPIC: 'A topic was not a non-empty string within maxNameLength bytes',
  WSG_ERR_HUB_INVALID_ALIAS: 'An alias was not a non-empty string within maxNameLength bytes',
  WSG_ERR_HUB_INVALID_TARGET: 'send()/disconnect()/except() got an empty or non-string connection id or alias',
  WSG_ERR_HUB_INVALID_EVENT: 'emit() or send() got an empty or non-string event/info type',
  WSG_ERR_HUB_INVALID_PAYLOAD: 'A raw broadcast payload was neither a string nor a Uint8Array',
  WSG_ERR_HUB_INVALID_CLOSE_CODE: 'disconnect() got a close code that may not be sent on the wire (RFC 6455 §7.4)',
  WSG_ERR_HUB_INVALID_CLOSE_REASON: 'disconnect() got a reason that is not a string of at most 123 UTF-8 bytes',
  WSG_ERR_HUB_INVALID_MEMBER: 'A member lacked a non-empty string id',
  WSG_ERR_HUB_DUPLICATE_MEMBER: 'register() got a second member with an id already registered',
  WSG_ERR_HUB_UNKNOWN_MEMBER: 'join()/alias() got a member that is not registered with this hub',
  WSG_ERR_HUB_TOO_MANY_TOPICS: 'A member tried to join more than maxTopicsPerMember topics',
  WSG_ERR_HUB_TOO_MANY_ALIASES: 'A member was given more than maxAliasesPerMember aliases',
  WSG_ERR_HUB_ENCODE_FAILED: 'The hub encoder threw or returned something other than a string or Uint8Array',
  WSG_ERR_HUB_INVALID_OPTION: 'A hub option is out of range or of the wrong type',
  WSG_ERR_HUB_CLOSED: 'The hub was closed; it accepts no new members, joins or publishes',
} as const;
export type HubErrorCode = keyof typeof HubErrorCode;

/** An error raised by the hub; `code` is one of `HubErrorCode`. */
export class HubError extends WsgError {
  constructor(code: HubErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, undefined, options);
  }
}
