/**
 * Parameter kinds, stored as the numeric prefix of a Nest parameter record key
 * (`"<type>:<index>"`). `Conn` and `Payload` share their numbers with Nest's `WsParamtype`
 * (`SOCKET` 0, `PAYLOAD` 3), so `@ConnectedSocket()` and `@MessageBody()` mean the same here.
 * The others sit above every `RouteParamtypes` value.
 */
export const WsParamType = {
  Conn: 0,
  Payload: 3,
  Req: 101,
  Param: 102,
  Query: 103,
  Headers: 104,
  State: 105,
  Info: 106,
  Reason: 107,
} as const;
export type WsParamType = (typeof WsParamType)[keyof typeof WsParamType];
