/** What a message parser returns: the event to route by and its data; nothing drops the message. */
export interface WsParsedMessage {
  readonly event: unknown;
  readonly data?: unknown;
}

/**
 * Turns one client message into `{ event, data }`, as `WsAdapter`'s `messageParser` does:
 * text arrives as a string, binary as a Buffer. Throwing marks the message undecodable;
 * returning nothing drops it without an answer.
 */
export type WsGateMessageParser = (data: string | Buffer) => WsParsedMessage | null | undefined | void;

/** `JSON.parse` of the message, binary ones read as UTF-8, exactly as platform-ws parses. */
export const jsonMessageParser: WsGateMessageParser = (data) => JSON.parse(typeof data === 'string' ? data : data.toString()) as WsParsedMessage;
