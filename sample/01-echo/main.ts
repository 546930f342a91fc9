import { runSample } from '../shared/bootstrap.js';
import { EchoAppModule } from './app.module.js';

// `node dist/sample/01-echo/main.js` (PORT=3000 by default)
await runSample(EchoAppModule, ({ ws }) => `echo sample: ${ws}/echo`);
