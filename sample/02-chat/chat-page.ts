/** The browser client: plain HTML and a few lines of script, served by the app at `/`. */
export const CHAT_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>wsgate chat</title>
<style>
  body { font: 15px system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; }
  #log { border: 1px solid #ccc; height: 18rem; overflow-y: auto; padding: .5rem; list-style: none; margin: 0; }
  #typing { height: 1.2rem; color: #777; font-style: italic; }
  form { display: flex; gap: .5rem; margin-top: .5rem; }
  #text { flex: 1; }
</style>
</head>
<body>
<h1>wsgate chat</h1>
<p id="status">connecting…</p>
<ul id="log"></ul>
<div id="typing"></div>
<form id="form"><input id="text" autocomplete="off" placeholder="Say something"><button id="send">Send</button></form>
<script>
  const params = new URLSearchParams(location.search);
  const room = params.get('room') || 'lobby';
  const token = params.get('token') || '';
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const ws = new WebSocket(scheme + '://' + location.host + '/chat/' + encodeURIComponent(room) + '?token=' + encodeURIComponent(token));
  const $ = (id) => document.getElementById(id);
  const log = (line, kind) => {
    const li = document.createElement('li');
    li.textContent = line;
    li.className = kind;
    $('log').append(li);
    $('log').scrollTop = $('log').scrollHeight;
  };
  let typingTimer = null;
  ws.onmessage = (e) => {
    const { event, data } = JSON.parse(e.data);
    switch (event) {
      case 'welcome': $('status').textContent = 'connected as ' + data.user + ' in ' + data.room; break;
      case 'said': log(data.user + ': ' + data.text, 'said'); break;
      case 'joined': log('* ' + data.user + ' joined', 'joined'); break;
      case 'left': log('* ' + data.user + ' left', 'left'); break;
      case 'typing':
        $('typing').textContent = data.user + ' is typing…';
        clearTimeout(typingTimer);
        typingTimer = setTimeout(() => ($('typing').textContent = ''), 1500);
        break;
      default: log('! ' + event + ': ' + JSON.stringify(data), 'error');
    }
  };
  // 1013: the server cut this tab because it fell 1 MiB behind the room; a reload rejoins.
  ws.onclose = (e) => ($('status').textContent = 'closed (' + e.code + ')' + (e.code === 1013 ? ': fell behind, reload to rejoin' : ''));
  let lastTyping = 0;
  $('text').addEventListener('input', () => {
    if (Date.now() - lastTyping < 1000 || ws.readyState !== WebSocket.OPEN) return;
    lastTyping = Date.now();
    ws.send(JSON.stringify({ event: 'typing' }));
  });
  $('form').addEventListener('submit', (e) => {
    e.preventDefault();
    const text = $('text').value.trim();
    if (!text || ws.readyState !== WebSocket.OPEN) return;
    ws.send(JSON.stringify({ event: 'say', data: { text } }));
    $('text').value = '';
  });
</script>
</body>
</html>
`;
