// One browser tab over CDP, with the checks every page gets: console errors, uncaught
// exceptions, CSP violations, and every request's URL (none may leave the server's origin).

import { writeFileSync } from 'node:fs';

export async function openPage(browser, origin) {
  const { targetId } = await browser.send('Target.createTarget', { url: 'about:blank' });
  const { sessionId } = await browser.send('Target.attachToTarget', { targetId, flatten: true });
  const send = (method, params = {}) => browser.send(method, params, sessionId);
  const problems = [];
  const requests = [];
  const responses = [];
  const allowedStatus = [];
  const mine = (fn) => (params, sid) => sid === sessionId && fn(params);

  browser.on('Runtime.exceptionThrown', mine((p) => problems.push(`uncaught exception: ${p.exceptionDetails?.exception?.description ?? p.exceptionDetails?.text}`)));
  browser.on('Runtime.consoleAPICalled', mine((p) => {
    if (p.type === 'error' || p.type === 'assert') problems.push(`console.${p.type}: ${p.args.map((a) => a.value ?? a.description).join(' ')}`);
  }));
  browser.on('Log.entryAdded', mine(({ entry }) => {
    if (entry.level !== 'error') return;
    // A 4xx the test provoked on purpose (a wrong password) is logged by Chromium as a network
    // error; those are checked against `expectStatus` below instead.
    if (entry.source === 'network' && /status of 4\d\d/.test(entry.text)) return;
    problems.push(`${entry.source} error: ${entry.text} ${entry.url ?? ''}`);
  }));
  browser.on('Network.requestWillBeSent', mine((p) => requests.push(p.request.url)));
  browser.on('Network.responseReceived', mine((p) => {
    responses.push({ url: p.response.url, status: p.response.status });
    const { status, url } = p.response;
    if (status >= 500) problems.push(`HTTP ${status} for ${url}`);
    else if (status >= 400 && !allowedStatus.some((a) => a.status === status && url.includes(a.path))) problems.push(`unexpected HTTP ${status} for ${url}`);
  }));
  browser.on('Network.loadingFailed', mine((p) => {
    if (p.canceled || p.errorText === 'net::ERR_ABORTED') return; // a stream the page closed on purpose
    problems.push(`request failed: ${p.errorText} (${p.type})`);
  }));

  await send('Page.enable');
  await send('Runtime.enable');
  await send('Log.enable');
  await send('Network.enable');

  async function evaluate(expression) {
    const result = await send('Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true });
    if (result.exceptionDetails) throw new Error(`evaluate failed: ${result.exceptionDetails.exception?.description ?? result.exceptionDetails.text}\n${expression}`);
    return result.result.value;
  }

  /** Polls `expression` until it is truthy; a deadline (not a sleep) bounds the wait. */
  async function waitFor(expression, what, timeoutMs = 15000) {
    const deadline = Date.now() + timeoutMs;
    let last;
    while (Date.now() < deadline) {
      try {
        last = await evaluate(expression);
        if (last) return last;
      } catch (error) {
        last = error.message;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${JSON.stringify(last)})`);
  }

  async function goto(path) {
    const loaded = browser.waitFor('Page.loadEventFired', (_, sid) => sid === sessionId);
    await send('Page.navigate', { url: origin + path });
    await loaded;
  }

  async function reload() {
    const loaded = browser.waitFor('Page.loadEventFired', (_, sid) => sid === sessionId);
    await send('Page.reload', { ignoreCache: false });
    await loaded;
  }

  async function setViewport(width, height = 900) {
    await send('Emulation.setDeviceMetricsOverride', { width, height, deviceScaleFactor: 1, mobile: false });
  }

  /** A full-page PNG. */
  async function screenshot(file) {
    const { cssContentSize } = await send('Page.getLayoutMetrics');
    const { data } = await send('Page.captureScreenshot', {
      format: 'png',
      captureBeyondViewport: true,
      clip: { x: 0, y: 0, width: Math.ceil(cssContentSize.width), height: Math.min(6000, Math.ceil(cssContentSize.height)), scale: 1 },
    });
    writeFileSync(file, Buffer.from(data, 'base64'));
  }

  /** Focuses `selector` and types `text` as keyboard input would insert it. */
  async function type(selector, text, { clear = true } = {}) {
    await evaluate(`(() => { const el = document.querySelector(${JSON.stringify(selector)}); if (!el) throw new Error('no ${selector}'); el.focus(); ${clear ? "el.select?.(); if (el.value !== undefined) el.value = '';" : ''} return true; })()`);
    await send('Input.insertText', { text });
  }

  async function press(key, { code = key, modifiers = 0, windowsVirtualKeyCode } = {}) {
    await send('Input.dispatchKeyEvent', { type: 'keyDown', key, code, modifiers, windowsVirtualKeyCode });
    await send('Input.dispatchKeyEvent', { type: 'keyUp', key, code, modifiers, windowsVirtualKeyCode });
  }

  async function click(selector) {
    await evaluate(`(() => { const el = document.querySelector(${JSON.stringify(selector)}); if (!el) throw new Error('no element ${selector.replaceAll("'", '')}'); el.scrollIntoView({block: 'center'}); el.click(); return true; })()`);
  }

  /** The text of the first element matching `selector` (or null). */
  const text = (selector) => evaluate(`document.querySelector(${JSON.stringify(selector)})?.textContent ?? null`);

  return {
    send, evaluate, waitFor, goto, reload, setViewport, screenshot, type, press, click, text,
    problems, requests, responses,
    /** Allows one kind of 4xx the next steps provoke on purpose. */
    expectStatus: (status, path) => allowedStatus.push({ status, path }),
    clearExpected: () => allowedStatus.splice(0),
  };
}
