import { describe, it, expect, beforeAll } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureBuilt, ROOT } from '../support/built-cli.js';
import { WsTestClient } from './support/ws-client.js';

interface Running {
  readonly child: ChildProcess;
  /** The line main.ts printed for the user. */
  readonly banner: string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Runs a built sample as `node dist/sample/<name>/main.js` with PORT=0, until it prints its URL. */
function run(name: string): Promise<Running> {
  const child = spawn(process.execPath, [join(ROOT, 'dist/sample', name, 'main.js')], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return new Promise((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const banner = output.split('\n').find((line) => line.startsWith(`${name.slice(3)} sample: `));
      if (banner === undefined) return;
      child.stdout!.off('data', onData);
      child.stdout!.resume();
      resolve({ child, banner, exited });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    void exited.then(({ code }) => reject(new Error(`${name}/main.js exited with ${code} before printing its URL:\n${output}`)));
  });
}

function urlIn(banner: string): URL {
  return new URL(/\b(?:ws|http):\/\/\S+/.exec(banner)![0]);
}

// What `npm start` and `node dist/sample/<name>/main.js` do: listen on PORT, print where to go,
// and on SIGTERM close the app (enableShutdownHooks) so clients are told.
describe('sample main.ts, built and run as users run it', () => {
  beforeAll(() => ensureBuilt(), 180_000);

  it('npm start runs 02-chat: the printed page URL serves a room, SIGTERM closes clients with 1001', async () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } };
    expect(pkg.scripts.start).toBe('node dist/sample/02-chat/main.js');
    const { child, banner, exited } = await run('02-chat');
    const page = urlIn(banner);
    expect(page.searchParams.get('token')).toBe('alice-token');
    const client = await WsTestClient.connect(`ws://${page.host}/chat/lobby?token=alice-token`);
    expect(await client.nextJson()).toEqual({ event: 'welcome', data: { user: 'alice', room: 'lobby', members: 1 } });
    child.kill('SIGTERM');
    expect((await client.closed).code).toBe(1001);
    expect(await exited).toEqual({ code: null, signal: 'SIGTERM' });
  });

  it('01-echo prints its ws:// URL and echoes there', async () => {
    const { child, banner, exited } = await run('01-echo');
    const client = await WsTestClient.connect(urlIn(banner).href);
    client.emit('echo', 'hi');
    expect(await client.nextJson()).toEqual({ event: 'echo', data: 'hi' });
    child.kill('SIGTERM');
    expect((await client.closed).code).toBe(1001);
    await exited;
  });

  it('03-migrate prints its ws:// URL and runs the platform-ws gateway on WsGateAdapter', async () => {
    const { child, banner, exited } = await run('03-migrate');
    const client = await WsTestClient.connect(urlIn(banner).href);
    client.emit('add', { title: 'ship it' });
    expect(await client.nextJson()).toEqual({ event: 'added', data: { id: 1, title: 'ship it', by: 'ada' } });
    child.kill('SIGTERM');
    // WsGateAdapter's default onShutdown is 'terminate', as platform-ws: the client sees 1006.
    expect((await client.closed).code).toBe(1006);
    await exited;
  });
});
