import { register } from 'node:module';

register('./module-trace-hooks.mjs', import.meta.url);
