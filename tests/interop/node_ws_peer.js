// node_ws_peer.js MODE [ARGS] — a Node `ws` server for connect's interop
// tests.  Prints its port as the first line of stdout.  Modes:
//   proto          picks "chat" if offered and tells the client what it chose
//   close CODE R   closes with CODE and reason R after the first message
//   ping           pings with "hi" on connect; answers the pong with "pong:DATA"
'use strict';
const path = require('path');
const { WebSocketServer } = require(path.join(__dirname, 'node_modules', 'ws'));

const [mode, code, reason] = process.argv.slice(2);
const wss = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    handleProtocols: (protos) => (protos.has('chat') ? 'chat' : false),
});
wss.on('listening', () => console.log(wss.address().port));
wss.on('connection', (ws) => {
    if (mode === 'proto') ws.send('proto=' + (ws.protocol || 'none'));
    if (mode === 'ping') {
        ws.on('pong', (d) => ws.send('pong:' + d.toString()));
        ws.ping('hi');
    }
    ws.on('message', (data, isBinary) => {
        if (mode === 'close') ws.close(Number(code), reason || '');
        else ws.send(data, { binary: isBinary });
    });
});
