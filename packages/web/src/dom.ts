// A few lines of DOM building instead of a framework (README "Why no framework"): every element is
// made with createElement and every piece of text goes in as a text node, so nothing a contact sends
// (a message, a file name) can ever become markup, and nothing needs innerHTML or inline styles, which
// the server's Content-Security-Policy forbids anyway (style-src 'self').

type Child = Node | string | false | null | undefined;

/** Attributes: strings are set as attributes (aria-*, data-*, type, for, ...), booleans add or omit
 *  them (`hidden`, `disabled`, `required`); `class` takes a space-separated list. */
export type Attrs = Readonly<Record<string, string | boolean | undefined>>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    el.setAttribute(name, value === true ? '' : value);
  }
  append(el, ...children);
  return el;
}

export function append(parent: Node, ...children: Child[]): void {
  for (const c of children) {
    if (c === false || c === null || c === undefined) continue;
    parent.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
  }
}

/** Replaces all of `parent`'s children. */
export function replaceChildren(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, ...children);
}

/** Text for a screen reader only (the `visually-hidden` class in styles.css). */
export function srOnly(text: string): HTMLSpanElement {
  return h('span', { class: 'visually-hidden' }, text);
}

/** A stable id for label/aria wiring. */
let nextId = 0;
export function uid(prefix: string): string {
  nextId++;
  return `${prefix}-${nextId}`;
}
