// A minimal DOM for unit tests of the modules that build elements (no jsdom: nothing is installed
// from npm). It records every element created and makes any use of innerHTML/outerHTML/
// insertAdjacentHTML throw, so a test fails if code ever parses markup.

export class FakeNode {
  constructor(ownerDocument) {
    this.ownerDocument = ownerDocument;
    this.childNodes = [];
    this.parentNode = null;
  }
  append(...nodes) {
    for (const node of nodes) {
      const child = typeof node === 'string' ? this.ownerDocument.createTextNode(node) : node;
      child.parentNode = this;
      this.childNodes.push(child);
    }
  }
  replaceChildren(...nodes) {
    this.childNodes = [];
    this.append(...nodes);
  }
  remove() {
    if (this.parentNode) this.parentNode.childNodes = this.parentNode.childNodes.filter((n) => n !== this);
    this.parentNode = null;
  }
  get textContent() {
    return this.childNodes.map((c) => c.textContent).join('');
  }
  set textContent(value) {
    this.childNodes = [];
    if (value !== '') this.append(this.ownerDocument.createTextNode(String(value)));
  }
}

export class FakeText extends FakeNode {
  constructor(doc, data) {
    super(doc);
    this.nodeType = 3;
    this.data = data;
  }
  get textContent() {
    return this.data;
  }
}

const forbidden = () => {
  throw new Error('markup parsing used (innerHTML/outerHTML/insertAdjacentHTML)');
};

export class FakeElement extends FakeNode {
  constructor(doc, tagName, namespace) {
    super(doc);
    this.nodeType = 1;
    this.tagName = tagName.toUpperCase();
    this.namespace = namespace;
    this.attributes = new Map();
    this.listeners = {};
    this.dataset = {};
    // Form controls' live state (the modules read and write these, as in a browser).
    this.value = '';
    this.checked = false;
    this.disabled = false;
    this.focused = false;
    const el = this;
    this.classList = {
      has: (c) => (el.getAttribute('class') ?? '').split(' ').includes(c),
      contains: (c) => el.classList.has(c),
      add: (c) => { if (!el.classList.has(c)) el.setAttribute('class', `${el.getAttribute('class') ?? ''} ${c}`.trim()); },
      remove: (c) => el.setAttribute('class', (el.getAttribute('class') ?? '').split(' ').filter((x) => x && x !== c).join(' ')),
      toggle: (c, on) => ((on ?? !el.classList.has(c)) ? el.classList.add(c) : el.classList.remove(c)),
    };
  }
  focus() {
    this.focused = true;
  }
  setAttribute(name, value) {
    this.attributes.set(name, String(value));
  }
  getAttribute(name) {
    return this.attributes.has(name) ? this.attributes.get(name) : null;
  }
  hasAttribute(name) {
    return this.attributes.has(name);
  }
  addEventListener(type, fn) {
    (this.listeners[type] ??= []).push(fn);
  }
  dispatch(type, event = {}) {
    for (const fn of this.listeners[type] ?? []) fn(event);
  }
  set innerHTML(_) {
    forbidden();
  }
  get innerHTML() {
    return forbidden();
  }
  set outerHTML(_) {
    forbidden();
  }
  insertAdjacentHTML() {
    forbidden();
  }
  /** Every descendant element (depth first). */
  *elements() {
    for (const c of this.childNodes) {
      if (c instanceof FakeElement) {
        yield c;
        yield* c.elements();
      }
    }
  }
  find(tag) {
    return [...this.elements()].filter((e) => e.tagName === tag.toUpperCase());
  }
}

/** Installs `document`, `Node` globals; returns the fake document with `created` (all elements). */
export function installFakeDOM() {
  const doc = {
    created: [],
    createElement(tag) {
      const el = new FakeElement(doc, tag, null);
      doc.created.push(el);
      return el;
    },
    createElementNS(ns, tag) {
      const el = new FakeElement(doc, tag, ns);
      doc.created.push(el);
      return el;
    },
    createTextNode(data) {
      return new FakeText(doc, String(data));
    },
  };
  globalThis.document = doc;
  globalThis.Node = FakeNode;
  return doc;
}
