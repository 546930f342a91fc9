import { WsGateAdapter } from 'wsgate';
import { runSample } from '../shared/bootstrap.js';
import { BoardAppModule } from './app.module.js';

// `node dist/sample/03-migrate/main.js` (PORT=3000 by default)
await runSample(BoardAppModule, ({ ws }) => `migrate sample: ${ws}/board?name=ada`, {
  configure: (app) => {
    // app.useWebSocketAdapter(new WsAdapter(app));   // before: import { WsAdapter } from '@nestjs/platform-ws'
    app.useWebSocketAdapter(new WsGateAdapter(app)); // after: the one line that changes
  },
});
