// Every server the bench can measure. Adding one = a file in servers/ + one line here.
//
// name         shown in the report and accepted by --servers
// file         the child module (see servers/echo-server-child.js for its contract)
// clientMasks  false only for the raw TCP echo, which must get back frames a client may parse
// echoes       'any': sends back every message as it came (echo, large, json)
//              'json': answers only `{"event":"echo","data":…}` with the same bytes (json)
//              'none': holds connections and never answers (idle only: memory floors)
// path         where the generator opens its WebSocket; '/' when absent
// needs        a path (relative to the repo) that must exist first; the report names it if not
//
// Which servers a scenario compares against is the scenario's `baselines`, not set here.

export const SERVERS = [
  { name: 'wsgate', file: 'servers/wsgate-echo.js', clientMasks: true, echoes: 'any', needs: 'dist/lib/engine.js' },
  { name: 'ws', file: 'servers/ws-echo.js', clientMasks: true, echoes: 'any' },
  { name: 'tcp', file: 'servers/tcp-echo.js', clientMasks: false, echoes: 'any' },
  { name: 'http-upgrade', file: 'servers/http-upgrade-hold.js', clientMasks: true, echoes: 'none' },
  { name: 'bare-socket', file: 'servers/bare-socket-hold.js', clientMasks: true, echoes: 'none' },
  { name: 'nest-wsgate', file: 'servers/nest-wsgate-echo.js', clientMasks: true, echoes: 'json', path: '/echo', needs: 'dist/bench/nest/wsgate-echo-app.js' },
  { name: 'nest-platform-ws', file: 'servers/nest-platform-ws-echo.js', clientMasks: true, echoes: 'json', path: '/echo', needs: 'dist/bench/nest/websocket-gateway-echo-app.js' },
  { name: 'nest-wsgate-adapter', file: 'servers/nest-wsgate-adapter-echo.js', clientMasks: true, echoes: 'json', path: '/echo', needs: 'dist/bench/nest/websocket-gateway-echo-app.js' },
];
