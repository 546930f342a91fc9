import { runSample } from '../shared/bootstrap.js';
import { ChatAppModule } from './app.module.js';

// `npm start`, or `node dist/sample/02-chat/main.js` (PORT=3000 by default)
await runSample(ChatAppModule, ({ http }) => `chat sample: open ${http}/?token=alice-token and ${http}/?token=bob-token`);
