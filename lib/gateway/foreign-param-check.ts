import { RouteParamtypes } from '@nestjs/common/internal';
import type { WsParamRecord } from './decorators/param.decorators.js';
import { GatewayError } from './errors.js';
import { NEST_CUSTOM_PARAM_MARK } from './metadata-keys.js';
import { WsParamType } from './param-type.js';

/**
 * Parameter kinds a wsgate handler is called with a value for: wsgate's own decorators, plus
 * `@ConnectedSocket()` and `@MessageBody()` of `@nestjs/websockets`, which share numbers with
 * `@Conn()` and `@Payload()`. `@Req()`/`@Request()` and `@Body()` of `@nestjs/common` write
 * records identical to those two (same key, number and shape), so they cannot be told apart
 * and keep yielding the connection and the payload.
 */
const OWNED: ReadonlySet<number> = new Set(Object.values(WsParamType));

interface Foreign {
  readonly decorator: string;
  readonly fix: string;
}

const FROM_WSGATE = "from 'wsgate'";

/**
 * Every other kind Nest knows, by its `RouteParamtypes` number (`@Ack()` of
 * `@nestjs/websockets` uses `ACK`), with the decorator users most likely meant and what a
 * gateway offers instead. Names, not numbers, so a renumbering in Nest cannot misname one.
 */
const FOREIGN: ReadonlyMap<number, Foreign> = new Map<number, Foreign>([
  [RouteParamtypes.RESPONSE, { decorator: '@Res()/@Response() of @nestjs/common', fix: `a WebSocket has no HTTP response: return a value to reply, or take @Conn() ${FROM_WSGATE} and call send()/emit()` }],
  [RouteParamtypes.NEXT, { decorator: '@Next() of @nestjs/common', fix: 'a gateway handler has no middleware chain: remove the parameter' }],
  [RouteParamtypes.QUERY, { decorator: '@Query() of @nestjs/common', fix: `use @Query() ${FROM_WSGATE} (the upgrade URL's query string)` }],
  [RouteParamtypes.PARAM, { decorator: '@Param() of @nestjs/common', fix: `use @Param() ${FROM_WSGATE} (the gateway path's :params)` }],
  [RouteParamtypes.HEADERS, { decorator: '@Headers() of @nestjs/common', fix: `use @Headers() ${FROM_WSGATE} (the upgrade request's headers)` }],
  [RouteParamtypes.SESSION, { decorator: '@Session() of @nestjs/common', fix: `use @Req() ${FROM_WSGATE} (the upgrade request) in @OnAccept, and keep what you need with accept(state) and @State()` }],
  [RouteParamtypes.FILE, { decorator: '@UploadedFile() of @nestjs/common', fix: `a message is not a multipart upload: take its bytes with @Payload() ${FROM_WSGATE} (codec 'binary')` }],
  [RouteParamtypes.FILES, { decorator: '@UploadedFiles() of @nestjs/common', fix: `a message is not a multipart upload: take its bytes with @Payload() ${FROM_WSGATE} (codec 'binary')` }],
  [RouteParamtypes.HOST, { decorator: '@HostParam() of @nestjs/common', fix: `use @Headers('host') ${FROM_WSGATE}` }],
  [RouteParamtypes.IP, { decorator: '@Ip() of @nestjs/common', fix: `use @Req() ${FROM_WSGATE} and read its remoteAddress` }],
  [RouteParamtypes.RAW_BODY, { decorator: '@RawBody() of @nestjs/common', fix: `use @Payload() ${FROM_WSGATE} with codec 'binary' or 'text'` }],
  [RouteParamtypes.ACK, { decorator: '@Ack() of @nestjs/websockets', fix: `a gateway replies with what the handler returns (or reply() ${FROM_WSGATE})` }],
  [RouteParamtypes.COOKIES, { decorator: '@Cookies() of @nestjs/common', fix: `use @Headers('cookie') ${FROM_WSGATE}` }],
  [RouteParamtypes.SIGNED_COOKIES, { decorator: '@SignedCookies() of @nestjs/common', fix: `use @Headers('cookie') ${FROM_WSGATE} and verify the signature yourself` }],
]);

/**
 * Refuses a handler parameter whose decorator wsgate does not fill. Without this, a
 * `@Query()` auto-imported from `@nestjs/common` compiles and is `undefined` on every call.
 * Custom decorators made with `createParamDecorator()` are Nest's to resolve and pass.
 */
export function checkForeignParams(className: string, methodName: string, records: Readonly<Record<string, WsParamRecord>>): void {
  for (const [key, record] of Object.entries(records)) {
    if (key.includes(NEST_CUSTOM_PARAM_MARK)) continue;
    const type = Number(key.split(':')[0]);
    if (OWNED.has(type)) continue;
    const foreign = FOREIGN.get(type);
    const decorator = foreign?.decorator ?? `a decorator wsgate does not know (parameter kind ${key.split(':')[0]})`;
    const fix = foreign?.fix ?? `use a decorator ${FROM_WSGATE} (@Payload, @Conn, @Req, @Param, @Query, @Headers, @State, @Info, @Reason) or createParamDecorator()`;
    throw new GatewayError(
      'WSG_ERR_GATEWAY_FOREIGN_PARAM',
      `${className}.${methodName}(): parameter ${record.index} has ${decorator}, which a wsgate gateway never fills (it would be undefined on every call); ${fix}`,
    );
  }
}
