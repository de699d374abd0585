// Electron main process: one window, and the generated bridge that connects the window's
// `window.todos` API (from the generated preload) to the Rust main (the `todos_main_stdio`
// example, started as a child process and spoken to over its stdin/stdout).
'use strict';

const path = require('node:path');
const { app, BrowserWindow, ipcMain, webContents, protocol, net } = require('electron');
const { createBridge } = require('./generated/bridge.js');

// The page is served from a custom scheme, so its origin is a stable `app://todos`, which the
// bridge's allowlist names. (Every file:// page shares the origin `file://`; a page loaded from
// disk would be allowed by its folder instead, `pathToFileURL(dir).href + '/'`, never by a bare
// 'file://', which createBridge refuses.)
protocol.registerSchemesAsPrivileged([
  { scheme: 'app', privileges: { standard: true, secure: true, supportFetchAPI: true } },
]);

function rustMain() {
  if (process.env.TODOS_MAIN) return process.env.TODOS_MAIN;
  const target = process.env.CARGO_TARGET_DIR || path.join(__dirname, '..', '..', 'target');
  const exe = process.platform === 'win32' ? 'todos_main_stdio.exe' : 'todos_main_stdio';
  return path.resolve(target, 'debug', 'examples', exe);
}

app.whenReady().then(async () => {
  protocol.handle('app', (request) => {
    const { pathname } = new URL(request.url);
    const file = path.join(__dirname, 'page', path.normalize(pathname === '/' ? 'index.html' : pathname));
    return net.fetch(`file://${file}`);
  });

  const bridge = createBridge({
    ipcMain,
    webContents,
    command: rustMain(),
    args: [],
    allowedOrigins: ['app://todos'],
  });
  bridge.closed.then((error) => console.log(`the connection to the Rust main ended: ${error.message}`));
  await bridge.ready;

  const window = new BrowserWindow({
    width: 520,
    height: 640,
    webPreferences: {
      preload: path.join(__dirname, 'generated', 'preload.js'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
    },
  });
  await window.loadURL('app://todos/index.html');

  app.on('window-all-closed', () => {
    bridge();
    app.quit();
  });
});
