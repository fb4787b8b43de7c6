// Building the page from data without ever parsing it as HTML: every text from the API goes in as text.

export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') element.addEventListener(name.slice(2), value);
    else if (name === 'class') element.className = value;
    else if (value === true) element.setAttribute(name, '');
    else element.setAttribute(name, String(value));
  }
  append(element, children);
  return element;
}

export function append(element, children) {
  for (const child of [children].flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

let counter = 0;
export function uniqueId(prefix) {
  counter += 1;
  return `${prefix}-${counter}`;
}

/** A labelled form control with a slot for its error, tied together for screen readers. */
export function field(label, control, hint) {
  const id = control.id || uniqueId(`field-${control.name}`);
  control.id = id;
  const error = h('p', { class: 'field-error', id: `${id}-error`, hidden: true });
  const described = [];
  let hintElement = null;
  if (hint) {
    hintElement = h('p', { class: 'hint', id: `${id}-hint` }, hint);
    described.push(hintElement.id);
  }
  control.dataset.errorId = error.id;
  control.setAttribute('aria-describedby', described.join(' ') || error.id);
  return h('div', { class: 'field' }, h('label', { for: id }, label), hintElement, control, error);
}

export function input(name, attrs = {}) {
  return h('input', { name, ...attrs });
}

export function select(name, options, selected, attrs = {}) {
  return h('select', { name, ...attrs },
    options.map(([value, text]) => h('option', { value, selected: value === selected }, text)));
}

export function clear(element) {
  element.replaceChildren();
  return element;
}
