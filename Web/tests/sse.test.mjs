import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SSEParser, readEventStream } from '../assets/js/sse.js';

test('a Pomona live-query stream parses into named events with ids', () => {
  const p = new SSEParser();
  const events = p.push(
    'event: totals\ndata: {"count":3}\n\n' +
      ': keep-alive\n\n' +
      'event: result\nid: 1\ndata: {"host_id":1}\n\n' +
      'event: done\ndata: {"status":"finished"}\n\n',
  );
  assert.deepEqual(events, [
    { event: 'totals', data: '{"count":3}', id: '' },
    { event: 'result', data: '{"host_id":1}', id: '1' },
    { event: 'done', data: '{"status":"finished"}', id: '1' },
  ]);
});

test('events split at any byte boundary come out the same', () => {
  const text = 'event: result\r\nid: 7\r\ndata: {"a":1}\r\n\r\ndata: second\rdata: line\r\r';
  const whole = new SSEParser().push(text);
  for (let cut = 1; cut < text.length; cut++) {
    const p = new SSEParser();
    const parts = [...p.push(text.slice(0, cut)), ...p.push(text.slice(cut))];
    assert.deepEqual(parts, whole, `cut at ${cut}`);
  }
  assert.deepEqual(whole, [
    { event: 'result', data: '{"a":1}', id: '7' },
    { event: 'message', data: 'second\nline', id: '7' },
  ]);
});

test('multi-line data joins with LF; a field without a colon is a name with an empty value', () => {
  const p = new SSEParser();
  assert.deepEqual(p.push('data: a\ndata\ndata:  b\n\n'), [{ event: 'message', data: 'a\n\n b', id: '' }]);
});

test('a leading BOM is dropped; comments, unknown fields and blank events are ignored; retry is kept', () => {
  const p = new SSEParser();
  assert.deepEqual(p.push('\uFEFF: hello\nfoo: bar\nevent: x\n\nretry: 2500\nretry: x\n\n'), []);
  assert.equal(p.retry, 2500);
});

test('an id with NUL is ignored; the last id carries over', () => {
  const p = new SSEParser();
  p.push('id: 4\ndata: a\n\n');
  assert.equal(p.push('id: 5\0\ndata: b\n\n')[0].id, '4');
});

test('nothing is emitted until the blank line arrives', () => {
  const p = new SSEParser();
  assert.deepEqual(p.push('event: result\ndata: {}\n'), []);
  assert.equal(p.push('\n').length, 1);
});

function streamResponse(chunks, status = 200) {
  const encoder = new TextEncoder();
  const body = new ReadableStream({
    start(controller) {
      for (const c of chunks) controller.enqueue(typeof c === 'string' ? encoder.encode(c) : c);
      controller.close();
    },
  });
  return new Response(body, { status, headers: { 'Content-Type': 'text/event-stream' } });
}

test('readEventStream delivers parsed JSON and drops an unterminated last event', async () => {
  // "é" split across two chunks checks the streaming UTF-8 decode.
  const bytes = new TextEncoder().encode('event: result\ndata: {"name":"é"}\n\nevent: done\ndata: {}');
  const got = [];
  await readEventStream('/x', {
    fetchImpl: async (url, init) => {
      assert.equal(init.credentials, 'same-origin');
      return streamResponse([bytes.slice(0, 24), bytes.slice(24)]);
    },
    onEvent: (e) => got.push(e),
  });
  assert.equal(got.length, 1);
  assert.deepEqual(got[0].json, { name: 'é' });
});

test('readEventStream rejects a non-2xx answer with its status and body', async () => {
  await assert.rejects(
    readEventStream('/x', {
      fetchImpl: async () => new Response('{"message":"Resource Not Found"}', { status: 404 }),
      onEvent: () => assert.fail('no events'),
    }),
    (e) => e.status === 404 && e.body.message === 'Resource Not Found',
  );
});
