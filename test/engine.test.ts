import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ensureBuilt } from './support/built-cli.js';
import { MODULE_TRACE_REGISTER as REGISTER, ModuleTracer } from './support/module-trace.js';

const tracer = new ModuleTracer();
const ROOT = fileURLToPath(new URL('../', import.meta.url));

beforeAll(() => ensureBuilt(), 120_000);
afterAll(() => tracer.dispose());

/** Every module URL a Node process resolved while running `args`, traced by module hooks. */
function tracedRun(args: string[]): { modules: string[]; stdout: string; status: number | null } {
  return tracer.run(args);
}

const FRAMEWORK = /\/node_modules\/(@nestjs\/|rxjs\/|reflect-metadata\/)/;

describe("the 'wsgate/engine' entry", () => {
  it('loads the engine and both roads, and nothing of @nestjs/*, rxjs or reflect-metadata', () => {
    const run = tracedRun([
      '--input-type=module',
      '-e',
      "const e = await import('wsgate/engine'); console.log(JSON.stringify([typeof e.WsServer, typeof e.WsClient, typeof e.Http2WsServer, typeof e.WsHub]));",
    ]);
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual(['function', 'function', 'function', 'undefined']);
    expect(run.modules.some((url) => url.endsWith('/dist/lib/engine.js'))).toBe(true);
    expect(run.modules.filter((url) => FRAMEWORK.test(url))).toEqual([]);
  });

  it("is what 'wsgate' loads Nest beside: the full entry does load @nestjs/* (the trace sees it)", () => {
    const run = tracedRun(['--input-type=module', '-e', "await import('wsgate'); console.log('ok');"]);
    expect(run.status).toBe(0);
    expect(run.modules.some((url) => url.includes('/node_modules/@nestjs/'))).toBe(true);
  });
});

describe('lib/frames stands alone', () => {
  it('imports no node:http2 (the HTTP/2 roads live in lib/http2)', () => {
    const run = tracedRun(['--input-type=module', '-e', "await import('./dist/lib/frames/index.js'); console.log('ok');"]);
    expect(run.status).toBe(0);
    expect(run.modules.some((url) => url.endsWith('/dist/lib/frames/index.js'))).toBe(true);
    expect(run.modules.filter((url) => url === 'node:http2' || url.includes('/dist/lib/http2/') || url.includes('/dist/lib/gateway/'))).toEqual([]);
  });
});

describe('wsgate echo', () => {
  it('serves from the engine entry alone: no @nestjs/*, rxjs or reflect-metadata file is opened', async () => {
    const trace = tracer.traceFile('echo-trace.txt');
    const child = spawn(process.execPath, ['--import', REGISTER, 'dist/bin/wsgate.js', 'echo', '--port', '0'], {
      cwd: ROOT,
      env: { ...process.env, WSGATE_MODULE_TRACE: trace },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`no URL printed: ${out}`)), 10_000);
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString('utf8');
        const match = /ws:\/\/[^\s]+/.exec(out);
        if (match !== null) {
          clearTimeout(timer);
          resolve(match[0]);
        }
      });
      child.once('exit', (code) => reject(new Error(`echo exited ${code}: ${out}`)));
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
    expect(url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+/);
    const modules = readFileSync(trace, 'utf8').split('\n').filter((line) => line !== '');
    expect(modules.some((m) => m.endsWith('/dist/lib/engine.js'))).toBe(true);
    expect(modules.filter((m) => FRAMEWORK.test(m))).toEqual([]);
  });
});

describe('the published types (dist/**/*.d.ts)', () => {
  it("keep the connection's parser and socket hooks out of WebSocketConnection's public surface", () => {
    const dts = readFileSync(join(ROOT, 'dist/lib/frames/websocket-connection.d.ts'), 'utf8');
    const declared = dts.slice(dts.indexOf('export declare class WebSocketConnection'));
    const publicMembers = [...declared.matchAll(/^ {4}(?!private )(?:get |static |readonly )*([A-Za-z_]\w*)[(:<?]/gm)].map((m) => m[1]);
    for (const hook of ['onSocketData', 'onMessage', 'onPing', 'onPong', 'onClose', 'onParseError', 'onWaiting', 'flush', 'failWith', 'setOwner', 'deliverQueued', 'onSocketClose']) {
      expect([hook, publicMembers.includes(hook)]).toEqual([hook, false]);
    }
    for (const api of ['send', 'close', 'terminate', 'pause', 'resume', 'receive', 'drain', 'ping']) {
      expect([api, publicMembers.includes(api)]).toEqual([api, true]);
    }
  });

  it('type-check for a strict consumer that does not skip library checks', () => {
    // In the package root, so 'wsgate' resolves to this package (self-reference).
    const local = join(ROOT, `.dts-consumer-${process.pid}.ts`);
    writeFileSync(
      local,
      "import { WsServer, WsClient, WebSocketConnection } from 'wsgate/engine';\nimport { WsGateModule, WsHub } from 'wsgate';\nimport { connectTestClient } from 'wsgate/testing';\nexport const all = [WsServer, WsClient, WebSocketConnection, WsGateModule, WsHub, connectTestClient];\n",
    );
    try {
      const run = spawnSync(
        process.execPath,
        [join(ROOT, 'node_modules/typescript/bin/tsc'), '--ignoreConfig', '--noEmit', '--skipLibCheck', 'false', '--strict', '--module', 'nodenext',
          '--moduleResolution', 'nodenext', '--target', 'es2023', '--types', 'node', '--experimentalDecorators', local],
        { cwd: ROOT, encoding: 'utf8', timeout: 60_000 },
      );
      // Errors inside third-party typings (Nest, rxjs) are theirs; ours must be none.
      const ours = run.stdout.split('\n').filter((line) => line.startsWith('dist/') || line.includes('.dts-consumer-'));
      expect(ours).toEqual([]);
    } finally {
      rmSync(local, { force: true });
    }
  }, 60_000);
});
