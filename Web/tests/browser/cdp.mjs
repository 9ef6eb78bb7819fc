// A small Chrome DevTools Protocol client over --remote-debugging-pipe (no websocket, no port,
// nothing downloaded): Chromium reads commands on fd 3 and writes replies and events on fd 4,
// each message JSON followed by a NUL byte.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The Chromium to drive: $CHROMIUM, or Debian's. */
export function findChromium() {
  for (const candidate of [process.env.CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser']) {
    if (candidate && existsSync(candidate)) return candidate;
  }
  return null;
}

/**
 * Starts headless Chromium and returns a connection: `send(method, params, sessionId)`,
 * `on(method, fn)`, `waitFor(method, predicate, timeoutMs)`, `close()`.
 */
export async function launch({ executable = '/usr/bin/chromium', args = [], timeoutMs = 30000 } = {}) {
  const profile = mkdtempSync(join(tmpdir(), 'pomona-chromium-'));
  const child = spawn(
    executable,
    [
      '--headless',
      '--remote-debugging-pipe',
      `--user-data-dir=${profile}`,
      '--no-first-run',
      '--no-default-browser-check',
      '--disable-gpu',
      '--disable-extensions',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-default-apps',
      '--disable-features=Translate,MediaRouter,OptimizationHints',
      '--metrics-recording-only',
      '--mute-audio',
      '--hide-scrollbars',
      '--force-color-profile=srgb',
      '--lang=en-US',
      // Root in a container has no user namespace for the sandbox.
      ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
      ...args,
      'about:blank',
    ],
    { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
    if (stderr.length > 20000) stderr = stderr.slice(-20000);
  });
  const toBrowser = child.stdio[3];
  const fromBrowser = child.stdio[4];
  let nextId = 1;
  const pending = new Map();
  const listeners = new Map();
  let buffer = Buffer.alloc(0);
  let exited = null;
  child.on('exit', (code, signal) => {
    exited = { code, signal };
    for (const { reject } of pending.values()) reject(new Error(`chromium exited (${code ?? signal}): ${stderr.slice(-2000)}`));
    pending.clear();
  });
  fromBrowser.on('data', (chunk) => {
    buffer = Buffer.concat([buffer, chunk]);
    let end;
    while ((end = buffer.indexOf(0)) !== -1) {
      const message = JSON.parse(buffer.subarray(0, end).toString('utf8'));
      buffer = buffer.subarray(end + 1);
      if (message.id !== undefined) {
        const waiter = pending.get(message.id);
        pending.delete(message.id);
        if (!waiter) continue;
        if (message.error) waiter.reject(new Error(`${waiter.method}: ${message.error.message}`));
        else waiter.resolve(message.result);
      } else {
        for (const fn of listeners.get(message.method) ?? []) fn(message.params, message.sessionId);
      }
    }
  });

  function send(method, params = {}, sessionId = undefined) {
    if (exited) return Promise.reject(new Error('chromium is not running'));
    const id = nextId++;
    const message = { id, method, params };
    if (sessionId) message.sessionId = sessionId;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`${method}: no answer in ${timeoutMs} ms`));
      }, timeoutMs);
      pending.set(id, {
        method,
        resolve: (v) => (clearTimeout(timer), resolve(v)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      toBrowser.write(JSON.stringify(message) + '\0');
    });
  }

  function on(method, fn) {
    if (!listeners.has(method)) listeners.set(method, []);
    listeners.get(method).push(fn);
    return () => listeners.set(method, listeners.get(method).filter((f) => f !== fn));
  }

  function waitFor(method, predicate = () => true, ms = timeoutMs) {
    return new Promise((resolve, reject) => {
      const off = on(method, (params, sessionId) => {
        if (!predicate(params, sessionId)) return;
        clearTimeout(timer);
        off();
        resolve(params);
      });
      const timer = setTimeout(() => {
        off();
        reject(new Error(`no ${method} within ${ms} ms`));
      }, ms);
    });
  }

  async function close() {
    try {
      await send('Browser.close');
    } catch {
      // already gone
    }
    await new Promise((resolve) => {
      if (exited) return resolve();
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        resolve();
      }, 5000);
      child.on('exit', () => (clearTimeout(timer), resolve()));
    });
    rmSync(profile, { recursive: true, force: true });
  }

  // The first answer proves the pipe works (and Chromium started).
  const version = await send('Browser.getVersion');
  return { send, on, waitFor, close, version, get stderr() { return stderr; } };
}
