// A problem document from the API, shown in words: each field's messages next to the field, the rest above the form.
import { h } from './dom.js';
import { currentLanguage, t } from './i18n.js';

// The API words its field messages in English (marshmallow's); the commonest ones in German, the rest as sent.
const GERMAN_MESSAGES = [
  [/^Missing data for required field\.$/, 'Dieses Feld fehlt.'],
  [/^Field may not be null\.$/, 'Dieses Feld darf nicht leer sein.'],
  [/^Unknown field\.$/, 'Unbekanntes Feld.'],
  [/^Not a valid integer\.$/, 'Keine gültige ganze Zahl.'],
  [/^Not a valid email address\.$/, 'Keine gültige E-Mail-Adresse.'],
  [/^Not a valid URL\.$/, 'Keine gültige Adresse (URL).'],
  [/^Not a valid aware datetime\.$/, 'Kein gültiger Zeitpunkt.'],
  [/^Length must be between (\d+) and (\d+)\.$/, 'Die Länge muss zwischen $1 und $2 liegen.'],
  [/^Shorter than minimum length (\d+)\.$/, 'Kürzer als die Mindestlänge $1.'],
  [/^Longer than maximum length (\d+)\.$/, 'Länger als die Höchstlänge $1.'],
  [/^Must be greater than or equal to (\S+) and less than or equal to (\S+)\.$/, 'Muss zwischen $1 und $2 liegen.'],
  [/^Must be one of: (.*)\.$/, 'Muss einer dieser Werte sein: $1.'],
  // The catalog's own words for a provider's offers and dates.
  [/^cannot change once published$/, 'Nach der Veröffentlichung nur mit neuer Prüfung änderbar.'],
  [/^shares must sum to 100$/, 'Die Anteile müssen zusammen 100 ergeben.'],
  [/^must include you$/, 'Sie selbst müssen dabei sein.'],
  [/^no member (.+)$/, 'Kein Mitglied $1.'],
  [/^must be in the future$/, 'Muss in der Zukunft liegen.'],
  [/^must be after starts_at$/, 'Muss nach dem Beginn liegen.'],
];

function inLanguage(message) {
  if (currentLanguage() !== 'de') return message;
  const found = GERMAN_MESSAGES.find(([pattern]) => pattern.test(message));
  return found ? message.replace(found[0], found[1]) : message;
}

/** Nested error messages as one sentence: lists joined, objects as "key: message". */
export function messageText(messages) {
  if (Array.isArray(messages)) return messages.map(messageText).join(' ');
  if (messages && typeof messages === 'object') {
    return Object.entries(messages).map(([key, value]) => `${key}: ${messageText(value)}`).join('; ');
  }
  return inLanguage(String(messages ?? ''));
}

export function formAlert(form) {
  let alert = form.querySelector(':scope > .form-alert');
  if (!alert) {
    alert = h('div', { class: 'form-alert', role: 'alert', tabindex: '-1', hidden: true });
    form.prepend(alert);
  }
  return alert;
}

/** A control's error slot, looked up in its form: the form may not be in the document yet. */
function errorSlot(form, control) {
  const id = control?.dataset.errorId;
  return id ? form.querySelector(`#${CSS.escape(id)}`) : null;
}

export function clearProblems(form) {
  for (const control of form.querySelectorAll('[aria-invalid]')) {
    control.removeAttribute('aria-invalid');
    const error = errorSlot(form, control);
    if (error) {
      error.hidden = true;
      error.textContent = '';
    }
    const described = (control.getAttribute('aria-describedby') || '').split(' ').filter((id) => id !== control.dataset.errorId);
    control.setAttribute('aria-describedby', described.join(' '));
  }
  const alert = formAlert(form);
  alert.hidden = true;
  alert.replaceChildren();
}

/** Why a request failed, for people: the problem's detail or title, or what the status means. */
export function describeError(error) {
  if (error.status === 0) return t('error.network');
  if (error.status === 429) return t('error.throttled', { seconds: error.retryAfter || '60' });
  if (error.status === 503) return t('error.unavailable');
  const problem = error.problem || {};
  if (problem.detail) return problem.detail;
  if (error.status >= 500) return t('error.server');
  return problem.title || t('error.generic', { status: error.status });
}

/** Put each of the problem's `errors` next to its field; what has no field goes into the form's alert. */
export function showProblem(form, error) {
  clearProblems(form);
  const problem = error.problem || {};
  const unplaced = [];
  let first = null;
  for (const [name, messages] of Object.entries(problem.errors || {})) {
    // A field may show an API field in other units (a price in euros for price_cents): data-api-name says so.
    const control = form.querySelector(`[data-api-name="${CSS.escape(name)}"], [name="${CSS.escape(name)}"]`);
    const slot = errorSlot(form, control);
    if (!slot) {
      unplaced.push(`${name}: ${messageText(messages)}`);
      continue;
    }
    slot.textContent = messageText(messages);
    slot.hidden = false;
    control.setAttribute('aria-invalid', 'true');
    const described = (control.getAttribute('aria-describedby') || '').split(' ').filter(Boolean);
    control.setAttribute('aria-describedby', [...described, slot.id].join(' '));
    first = first || control;
  }
  const alert = formAlert(form);
  const summary = problem.errors ? t('error.fields') : describeError(error);
  alert.append(h('p', {}, summary));
  if (unplaced.length) alert.append(h('ul', {}, unplaced.map((text) => h('li', {}, text))));
  alert.hidden = false;
  (first || alert).focus();
}

/** Run `work` for a submitted form, with the button busy meanwhile and the API's refusal shown in place. */
export function onSubmit(form, work) {
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const button = form.querySelector('button[type="submit"]');
    if (button?.disabled) return;
    clearProblems(form);
    if (button) {
      button.disabled = true;
      button.setAttribute('aria-busy', 'true');
    }
    try {
      await work(new FormData(form));
    } catch (error) {
      if (error.name !== 'ApiError') throw error;
      if (!error.handled) showProblem(form, error);
    } finally {
      if (button) {
        button.disabled = false;
        button.removeAttribute('aria-busy');
      }
    }
  });
  return form;
}
