// Issue [B]: a Nest 12 app with a wsgate `@WsGateway` + `@OnMessage('echo')` (json codec).
import { serveEchoChild } from './echo-server-child.js';

await serveEchoChild(async (context) => {
  // Imported here, not at the top, so a missing build is reported as a start failure.
  const { startWsgateEchoApp } = await import('../../dist/bench/nest/wsgate-echo-app.js');
  return startWsgateEchoApp(context);
});
