// Issue [C]: the very same @WebSocketGateway app as nest-platform-ws-echo.js, with the one-line
// migration: WsGateAdapter from wsgate instead of WsAdapter from @nestjs/platform-ws.
import { serveEchoChild } from './echo-server-child.js';

await serveEchoChild(async (context) => {
  const { WsGateAdapter } = await import('../../dist/lib/index.js');
  const { startWebSocketGatewayEchoApp } = await import('../../dist/bench/nest/websocket-gateway-echo-app.js');
  return startWebSocketGatewayEchoApp(context, (app) => new WsGateAdapter(app));
});
