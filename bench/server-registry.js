// Every server the bench can measure. Adding one = a file in servers/ + one line here.
//
// name         shown in the report and accepted by --servers
// file         the child module (see servers/echo-server-child.js for its contract)
// clientMasks  false only for the raw TCP echo, which must get back frames a client may parse
// needs        a path (relative to the repo) that must exist first; the report names it if not
export const BASELINE = 'ws';

export const SERVERS = [
  { name: 'wsgate', file: 'servers/wsgate-echo.js', clientMasks: true, needs: 'dist/lib/index.js' },
  { name: 'ws', file: 'servers/ws-echo.js', clientMasks: true },
  { name: 'tcp', file: 'servers/tcp-echo.js', clientMasks: false },
];
