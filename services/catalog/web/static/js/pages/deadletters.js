// Operators: per service, the events its consumer gave up on, and a replay into its queue once the cause is fixed.
import { api, currentMember } from '../api.js';
import { h } from '../dom.js';
import { describeError, onSubmit } from '../forms.js';
import { dateTime, t } from '../i18n.js';

const SERVICES = ['catalog', 'booking', 'assessment', 'billing', 'notify'];

export function seesDeadLetters(member = currentMember()) {
  return (member?.roles || []).includes('operator');
}

function lettersTable(service, letters) {
  const header = ['deadletters.replay.column', 'deadletters.event', 'deadletters.attempts', 'deadletters.when',
    'deadletters.reason'].map((key) => h('th', { scope: 'col' }, t(key)));
  const rows = letters.map((letter) => h('tr', {},
    // Every letter is ticked: an operator unticks those whose cause is not fixed yet.
    h('td', {}, h('input', { type: 'checkbox', name: 'message_id', value: letter.message_id, checked: true,
      'aria-label': t('deadletters.replay.one', { id: letter.message_id }) })),
    h('th', { scope: 'row' }, letter.routing_key, h('span', { class: 'meta' }, ` ${letter.message_id}`)),
    h('td', { class: 'number' }, String(letter.attempts)),
    h('td', {}, letter.dead_at ? dateTime(letter.dead_at) : ''),
    h('td', {}, letter.reason)));
  return h('div', { class: 'table-wrap' }, h('table', {}, h('caption', {}, t('deadletters.caption', { service })),
    h('thead', {}, h('tr', {}, header)), h('tbody', {}, rows)));
}

async function serviceSection(service, message = null) {
  const section = h('section', { 'aria-labelledby': `dead-${service}` }, h('h2', { id: `dead-${service}` }, service),
    message ? h('p', { class: 'notice', role: 'status' }, message) : null);
  let letters;
  try {
    letters = await api(`/dead-letters/${service}`, { auth: true });
  } catch (error) {
    if (error.name !== 'ApiError' || error.handled) throw error;
    section.append(h('p', { class: 'notice invalid', role: 'alert' }, describeError(error)));
    return section;
  }
  if (!letters.count) {
    section.append(h('p', {}, t('deadletters.none')));
    return section;
  }
  const form = h('form', { novalidate: true }, lettersTable(service, letters.items),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, t('deadletters.replay'))));
  onSubmit(form, async (data) => {
    const ids = data.getAll('message_id').map(String);
    if (!ids.length) return;
    const answer = await api(`/dead-letters/${service}/replay`, { method: 'POST', auth: true,
      body: { message_ids: ids } });
    section.replaceWith(await serviceSection(service, t('deadletters.replayed', { count: answer.replayed })));
  });
  section.append(form);
  return section;
}

export async function deadLettersPage() {
  const sections = await Promise.all(SERVICES.map(serviceSection));
  return h('section', {}, h('h1', {}, t('deadletters.title')), h('p', {}, t('deadletters.explain')), ...sections);
}
