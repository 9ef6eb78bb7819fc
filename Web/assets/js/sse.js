// Server-Sent Events: a parser that follows the WHATWG "event stream interpretation" rules, and a
// reader over fetch().
//
// Why not EventSource: it reconnects by itself when the server ends the stream, and a live-query
// stream always ends (after `done`), so it would replay the whole campaign again; and Pomona's
// stream sends its own `event: error`, which EventSource mixes up with connection errors. fetch()
// sends the session cookie the same way (same origin), and aborting it stops the request.

/** Incremental parser: feed it text chunks as they arrive; it returns the complete events. */
export class SSEParser {
  constructor() {
    this.buffer = '';
    this.data = [];
    this.eventType = '';
    this.lastEventId = '';
    /** Reconnection time the server asked for (`retry:`), in ms, or null. */
    this.retry = null;
    this.sawFirstChunk = false;
    this.skipLF = false;
  }

  /**
   * @param {string} chunk
   * @returns {{event: string, data: string, id: string}[]}
   */
  push(chunk) {
    if (!this.sawFirstChunk && chunk.length > 0) {
      this.sawFirstChunk = true;
      if (chunk.charCodeAt(0) === 0xfeff) chunk = chunk.slice(1);
    }
    // A line ends at CRLF, LF or CR. A CR ends its line at once; an LF right after it (possibly
    // at the start of the next chunk) is the second half of a CRLF and is skipped.
    if (chunk.length > 0) {
      if (this.skipLF && chunk.charCodeAt(0) === 10) chunk = chunk.slice(1);
      this.skipLF = false;
    }
    this.buffer += chunk;
    const events = [];
    let start = 0;
    for (let i = 0; i < this.buffer.length; i++) {
      const c = this.buffer.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      const line = this.buffer.slice(start, i);
      if (c === 13) {
        if (i + 1 < this.buffer.length) {
          if (this.buffer.charCodeAt(i + 1) === 10) i++;
        } else {
          this.skipLF = true;
        }
      }
      start = i + 1;
      const event = this.line(line);
      if (event) events.push(event);
    }
    this.buffer = this.buffer.slice(start);
    return events;
  }

  /** One line; returns an event when the line is blank and data was collected. */
  line(line) {
    if (line === '') {
      if (this.data.length === 0) {
        this.eventType = '';
        return null;
      }
      const event = { event: this.eventType || 'message', data: this.data.join('\n'), id: this.lastEventId };
      this.data = [];
      this.eventType = '';
      return event;
    }
    if (line.startsWith(':')) return null; // a comment (Pomona's keep-alive)
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'event':
        this.eventType = value;
        break;
      case 'data':
        this.data.push(value);
        break;
      case 'id':
        if (!value.includes('\0')) this.lastEventId = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.retry = Number(value);
        break;
      default:
        break; // unknown fields are ignored, as the spec says
    }
    return null;
  }
}

/**
 * Reads an event stream with fetch, calling `onEvent({event, data, id})` for each event; an event
 * whose data is JSON gets it parsed as `json`. Resolves when the stream ends; rejects with an
 * Error carrying `status` on a non-2xx answer. Abort with `signal`.
 * @param {string} url
 * @param {{signal?: AbortSignal, onEvent: (e: any) => void, fetchImpl?: typeof fetch}} options
 */
export async function readEventStream(url, { signal, onEvent, fetchImpl = fetch }) {
  const response = await fetchImpl(url, {
    headers: { Accept: 'text/event-stream' },
    credentials: 'same-origin',
    cache: 'no-store',
    signal,
  });
  if (!response.ok) {
    const error = new Error(`event stream answered ${response.status}`);
    error.status = response.status;
    try {
      error.body = await response.json();
    } catch {
      error.body = null;
    }
    throw error;
  }
  const parser = new SSEParser();
  const decoder = new TextDecoder();
  const reader = response.body.getReader();
  const deliver = (events) => {
    for (const e of events) {
      let json;
      try {
        json = JSON.parse(e.data);
      } catch {
        json = undefined;
      }
      onEvent({ ...e, json });
    }
  };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    deliver(parser.push(decoder.decode(value, { stream: true })));
  }
  // An event without its closing blank line at the end is discarded, as the spec says.
  deliver(parser.push(decoder.decode()));
}
