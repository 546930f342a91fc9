// Issue [B]'s reference: a Nest 12 app with `@WebSocketGateway` + `@SubscribeMessage('echo')` on
// WsAdapter from @nestjs/platform-ws. The same app on another adapter is one more file like
// this one, passing a different factory (see bench/README.md, "Servers").
import { serveEchoChild } from './echo-server-child.js';

await serveEchoChild(async (context) => {
  const { WsAdapter } = await import('@nestjs/platform-ws');
  const { startWebSocketGatewayEchoApp } = await import('../../dist/bench/nest/websocket-gateway-echo-app.js');
  return startWebSocketGatewayEchoApp(context, (app) => new WsAdapter(app));
});
