// Providers: propose an offer, schedule its dates, submit it for review, read its history, withdraw it.
// Reviewers: the queue of offers in review and the review form with its checklist.
import { api, currentMember, SignInNeeded, signedIn } from '../api.js';
import { field, h, input, select, uniqueId } from '../dom.js';
import { describeError, onSubmit } from '../forms.js';
import { currentLanguage, dateTime, label, money, t } from '../i18n.js';

const FORMATS = ['online', 'in_person', 'hybrid'];
const POLICIES = ['flexible', 'standard', 'strict'];
const EDITABLE = ['draft', 'changes_requested', 'published'];  // the statuses the API lets the proposer change
const CHECKLIST = ['competences_justified', 'level_plausible', 'format_and_dates_complete'];
const ATTENDANCE_DAYS = 14;  // booking takes the list from the start until 14 days after the end

/** "249", "249.5", "249,50", "1.234,50" or "1,234.50" as integer cents, without floating point; null if it is
 * not an amount. Three digits after a separator are a thousands group, so "5.999" is 5999 euros, as in German. */
export function parseCents(text) {
  const match = String(text).trim().match(/^(\d+|\d{1,3}([.,\s])\d{3}(?:\2\d{3})*)(?:([.,])(\d{1,2}))?$/);
  if (!match) return null;
  const [, whole, group, decimal, fraction = ''] = match;
  if (group && group === decimal) return null;
  return Number.parseInt(whole.replace(/[.,\s]/g, ''), 10) * 100 + Number.parseInt(fraction.padEnd(2, '0'), 10);
}

export function checkboxGroup(name, legend, options, checked = []) {
  const error = h('p', { class: 'field-error', id: `${name}-error`, hidden: true });
  const group = h('fieldset', { class: 'choices' }, h('legend', {}, legend),
    options.map(([value, text]) => {
      const id = `${name}-${value}`;
      return h('div', { class: 'choice' },
        h('input', { type: 'checkbox', name, value, id, checked: checked.includes(value), 'data-error-id': error.id }),
        h('label', { for: id }, text));
    }));
  return [group, error];
}

export function competencePicker(framework, checked = [], prefix = '') {
  const error = h('p', { class: 'field-error', id: `${prefix}competences-error`, hidden: true });
  return [h('fieldset', { class: 'competences' }, h('legend', {}, t('provide.competences')),
    (framework.areas || []).map((area) => h('details', {
      open: area.competences.some((competence) => checked.includes(competence.code)) }, h('summary', {}, area.name),
    area.competences.map((competence) => {
      const id = `${prefix}competence-${competence.code}`;
      return h('div', { class: 'choice' },
        h('input', { type: 'checkbox', name: 'competences', value: competence.code, id, 'data-error-id': error.id,
          checked: checked.includes(competence.code) }),
        h('label', { for: id }, `${competence.name} (${competence.code})`));
    })))), error];
}

/** What members need, anonymised by assessment (no row under its minimum group): for providers choosing a topic. */
async function demandTable(framework) {
  const demand = await api('/demand?group_by=competence', { auth: true }).catch(() => null);
  const heading = h('h2', {}, t('demand.title'));
  if (!demand?.items?.length) {
    return [heading, h('p', {}, t('demand.none', { minimum: demand?.minimum_group ?? 5 }))];
  }
  const names = Object.fromEntries((framework.areas || []).flatMap((area) => area.competences || [])
    .map((competence) => [competence.code, competence.name]));
  const rows = [...demand.items].sort((a, b) => b.members_with_gap - a.members_with_gap).slice(0, 10);
  const percent = new Intl.NumberFormat(currentLanguage(), { style: 'percent', maximumFractionDigits: 0 });
  const decimal = new Intl.NumberFormat(currentLanguage(), { maximumFractionDigits: 1 });
  return [heading, h('div', { class: 'table-wrap' }, h('table', {},
    h('caption', {}, t('demand.caption', { minimum: demand.minimum_group })),
    h('thead', {}, h('tr', {}, ['assessment.competence', 'demand.members', 'demand.share', 'demand.gap',
      'demand.importance'].map((key) => h('th', { scope: 'col' }, t(key))))),
    h('tbody', {}, rows.map((row) => h('tr', {},
      h('th', { scope: 'row' }, names[row.competence] || row.competence),
      h('td', { class: 'number' }, String(row.members)),
      h('td', { class: 'number' }, percent.format(row.share_with_gap)),
      h('td', { class: 'number' }, decimal.format(row.mean_gap)),
      h('td', { class: 'number' }, decimal.format(row.mean_future_importance)))))))];
}

/** The offer's fields as the propose and edit forms hold them, as the API takes them. */
function offerFields(data) {
  const cents = parseCents(data.get('price'));
  return {
    title: String(data.get('title') || ''), summary: String(data.get('summary') || ''),
    description: String(data.get('description') || ''), format: data.get('format'),
    languages: data.getAll('languages'), competences: data.getAll('competences'),
    level: Number(data.get('level')), cancellation_policy: data.get('cancellation_policy'),
    minimum_participants: Number(data.get('minimum_participants') || 0),
    // An amount the page cannot read goes as it is, so that the API names the field.
    price_cents: cents === null ? String(data.get('price')) : cents,
  };
}

export async function proposePage() {
  if (!signedIn()) throw new SignInNeeded(false);
  const framework = await api(`/competence-framework?lang=${currentLanguage()}`);
  const levels = (framework.levels || []).map((level) => [String(level.level), `${level.level} – ${level.name}`]);
  const own = (await api('/members/me/offers?per_page=100', { auth: true })).items;
  const form = h('form', { class: 'narrow wide', novalidate: true },
    field(t('provide.title'), input('title', { type: 'text', required: true, maxlength: 200 })),
    field(t('provide.summary'), input('summary', { type: 'text', maxlength: 500 })),
    field(t('provide.description'), h('textarea', { name: 'description', rows: '6', maxlength: 5000, required: true })),
    field(t('search.format'), select('format', FORMATS.map((format) => [format, label('format', format)]), 'online')),
    checkboxGroup('languages', t('provide.languages'), [['de', label('language', 'de')], ['en', label('language', 'en')]],
      [currentLanguage()]),
    competencePicker(framework),
    field(t('search.level'), select('level', levels, levels[1]?.[0] || '2')),
    field(t('provide.price'), input('price', { type: 'text', inputmode: 'decimal', required: true }),
      t('provide.price.hint')),
    field(t('provide.policy'), select('cancellation_policy',
      POLICIES.map((policy) => [policy, t(`provide.policy.${policy}`)]), 'standard')),
    field(t('provide.minimum'), input('minimum_participants', { type: 'number', min: 0, value: '0' }),
      t('provide.minimum.hint')),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, t('provide.create'))));
  onSubmit(form, async (data) => {
    const offer = await api('/offers', { method: 'POST', auth: true, body: offerFields(data) });
    location.hash = `#/offers/${encodeURIComponent(offer.id)}`;
  });
  // The API names the price field price_cents; the page's field is in currency units.
  form.querySelector('[name="price"]').setAttribute('data-api-name', 'price_cents');
  return h('section', {}, h('h1', {}, t('provide.heading')),
    h('h2', {}, t('provide.mine')),
    own.length
      ? h('ul', { class: 'cards' }, own.map((offer) => h('li', { class: 'card' },
        h('h3', {}, h('a', { href: `#/offers/${encodeURIComponent(offer.id)}` }, offer.title)),
        h('p', { class: 'status' }, label('status', offer.status)))))
      : h('p', {}, t('provide.none')),
    await demandTable(framework),
    h('h2', {}, t('provide.new')), form);
}

export function isProvider(offer) {
  const me = currentMember()?.id;
  return Boolean(me) && (offer.provider_id === me || (offer.providers || []).some((item) => item.member_id === me));
}

function isReviewer() {
  return (currentMember()?.roles || []).some((role) => role === 'reviewer' || role === 'operator');
}

function sessionForm(offer) {
  const form = h('form', { class: 'narrow', novalidate: true, 'aria-labelledby': 'schedule-heading' },
    h('h3', { id: 'schedule-heading' }, t('provide.schedule')),
    field(t('provide.starts'), input('starts_at', { type: 'datetime-local', required: true })),
    field(t('provide.ends'), input('ends_at', { type: 'datetime-local', required: true })),
    offer.format !== 'in_person'
      ? field(t('provide.seats.online'), input('online', { type: 'number', min: 0, value: '20' })) : null,
    offer.format !== 'online'
      ? field(t('provide.seats.in_person'), input('in_person', { type: 'number', min: 0, value: '10' })) : null,
    offer.format !== 'online' ? field(t('session.location'), input('location', { type: 'text', maxlength: 200 })) : null,
    offer.format !== 'in_person'
      ? field(t('provide.link'), input('link', { type: 'url', maxlength: 500 }), t('provide.link.hint')) : null,
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, t('provide.schedule.submit'))));
  onSubmit(form, async (data) => {
    const moment = (name) => (data.get(name) ? new Date(String(data.get(name))).toISOString() : '');
    const seats = {};
    for (const format of ['online', 'in_person']) if (data.has(format)) seats[format] = Number(data.get(format) || 0);
    const body = { starts_at: moment('starts_at'), ends_at: moment('ends_at'), seats };
    if (String(data.get('location') || '').trim()) body.location = String(data.get('location')).trim();
    if (String(data.get('link') || '').trim()) body.link = String(data.get('link')).trim();
    await api(`/offers/${encodeURIComponent(offer.id)}/sessions`, { method: 'POST', auth: true, body });
    window.dispatchEvent(new HashChangeEvent('hashchange'));
  });
  return form;
}

function actionButton(text, path, className = '') {
  const alert = h('p', { class: 'form-alert', role: 'alert', hidden: true });
  const button = h('button', { type: 'button', class: className, onclick: async () => {
    button.disabled = true;
    try {
      await api(path, { method: 'POST', auth: true });
      window.dispatchEvent(new HashChangeEvent('hashchange'));
    } catch (error) {
      if (error.name !== 'ApiError' || error.handled) throw error;
      alert.textContent = describeError(error);
      alert.hidden = false;
      button.disabled = false;
    }
  } }, text);
  return [button, alert];
}

async function historyList(offer) {
  const history = await api(`/offers/${encodeURIComponent(offer.id)}/history`, { auth: true }).catch(() => null);
  if (!history?.items?.length) return null;
  return h('section', {}, h('h2', {}, t('provide.history')),
    h('ol', { class: 'history' }, history.items.map((entry) => h('li', {},
      h('time', { datetime: entry.at }, dateTime(entry.at)), ' – ', label('action', entry.action),
      ' → ', label('status', entry.status), entry.detail ? h('p', { class: 'detail' }, entry.detail) : null))));
}

function reviewForm(offer) {
  const form = h('form', { class: 'narrow', novalidate: true, 'aria-labelledby': 'review-heading' },
    h('h2', { id: 'review-heading' }, t('review.heading')),
    h('fieldset', { class: 'choices stacked' }, h('legend', {}, t('review.checklist')),
      CHECKLIST.map((item) => h('div', { class: 'choice' },
        h('input', { type: 'checkbox', name: item, id: `check-${item}` }),
        h('label', { for: `check-${item}` }, t(`review.${item}`))))),
    field(t('review.comment'), h('textarea', { name: 'comment', rows: '4', maxlength: 5000 })),
    h('div', { class: 'actions' },
      h('button', { type: 'submit', name: 'decision', value: 'approve' }, t('review.approve')),
      h('button', { type: 'submit', name: 'decision', value: 'request_changes', class: 'secondary' },
        t('review.changes'))));
  let decision = 'approve';
  for (const button of form.querySelectorAll('button[name="decision"]')) {
    button.addEventListener('click', () => {
      decision = button.value;
    });
  }
  onSubmit(form, async (data) => {
    const checklist = Object.fromEntries(CHECKLIST.map((item) => [item, data.has(item)]));
    await api(`/offers/${encodeURIComponent(offer.id)}/reviews`, { method: 'POST', auth: true,
      body: { decision, comment: String(data.get('comment') || ''), checklist } });
    window.dispatchEvent(new HashChangeEvent('hashchange'));
  });
  return form;
}

function providersList(offer) {
  const me = currentMember()?.id;
  const mine = (offer.providers || []).find((provider) => provider.member_id === me);
  const invitation = mine && !mine.accepted_at && offer.provider_id !== me
    ? h('div', { class: 'notice' }, h('p', {}, t('provide.invited', { share: mine.share_percent })),
      h('div', { class: 'actions' },
        actionButton(t('provide.accept'), `/offers/${encodeURIComponent(offer.id)}/providers/me/acceptance`)))
    : null;
  if ((offer.providers || []).length < 2) return invitation;
  return [invitation, h('h3', {}, t('provide.providers')),
    h('ul', {}, offer.providers.map((provider) => h('li', {},
      t(provider.accepted_at ? 'provide.provider.accepted' : 'provide.provider.pending', {
        who: provider.member_id === me ? t('provide.me') : provider.member_id, share: provider.share_percent }))))];
}

/** A row of the providers' list: a member id (the proposing member's fixed) and a share in percent. */
function providerRow(member, share, lead, rows, error) {
  const id = uniqueId('provider');
  const me = member === currentMember()?.id;
  const row = h('div', { class: 'provider-row' },
    h('div', { class: 'field' }, h('label', { for: `${id}-member` }, t('provide.providers.member')),
      h('input', { type: 'text', name: 'provider_member', id: `${id}-member`, value: member, maxlength: 36,
        required: true, readonly: lead, 'data-error-id': error.id, 'aria-describedby': error.id,
        spellcheck: 'false', autocomplete: 'off' }),
      me ? h('span', { class: 'hint' }, t('provide.me')) : null),
    h('div', { class: 'field' }, h('label', { for: `${id}-share` }, t('provide.providers.share')),
      h('input', { type: 'number', name: 'provider_share', id: `${id}-share`, value: String(share), min: 1,
        max: 100, required: true, 'data-error-id': error.id, 'aria-describedby': error.id })));
  if (!lead) {
    row.append(h('button', { type: 'button', class: 'secondary', onclick: () => {
      row.remove();
      rows.querySelector('input')?.focus();
    } }, t('provide.providers.remove')));
  }
  return row;
}

/** Who teaches the offer and for which part: the API's `providers`, the proposing member first and always in. */
function providersFieldset(offer) {
  const error = h('p', { class: 'field-error', id: 'providers-error', hidden: true });
  const rows = h('div', { class: 'provider-rows' });
  const providers = offer.providers?.length ? offer.providers
    : [{ member_id: offer.provider_id, share_percent: 100 }];
  for (const provider of providers) {
    rows.append(providerRow(provider.member_id, provider.share_percent, provider.member_id === offer.provider_id,
      rows, error));
  }
  const add = h('button', { type: 'button', class: 'secondary', onclick: () => {
    const row = providerRow('', '', false, rows, error);
    rows.append(row);
    row.querySelector('input').focus();
  } }, t('provide.providers.add'));
  // showProblem looks the field up by name: the first member input stands for the whole list.
  rows.querySelector('input').setAttribute('data-api-name', 'providers');
  return [h('fieldset', { class: 'shares' }, h('legend', {}, t('provide.providers')),
    h('p', { class: 'hint' }, t('provide.providers.hint')), rows, add), error];
}

const sameList = (a, b) => JSON.stringify(a) === JSON.stringify(b);
const UNORDERED = ['languages', 'competences'];  // sets to the API: another order is no change

/** The offer's fields as the provider may change them, prefilled; only what changed goes to the API, so that a
 * published offer's refusal names exactly the fields it will not take. */
function editForm(offer, framework) {
  const levels = (framework.levels || []).map((level) => [String(level.level), `${level.level} – ${level.name}`]);
  const policies = POLICIES.includes(offer.cancellation_policy) ? POLICIES : [...POLICIES, offer.cancellation_policy];
  const euros = new Intl.NumberFormat(currentLanguage(), { minimumFractionDigits: 2, useGrouping: false });
  const form = h('form', { class: 'narrow wide', novalidate: true, 'aria-labelledby': 'edit-heading' },
    h('h3', { id: 'edit-heading' }, t('provide.edit.heading')),
    offer.status === 'published' ? h('p', { class: 'hint' }, t('provide.edit.published')) : null,
    field(t('provide.title'), input('title', { type: 'text', required: true, maxlength: 200, value: offer.title })),
    field(t('provide.summary'), input('summary', { type: 'text', maxlength: 500, value: offer.summary || '' })),
    field(t('provide.description'), h('textarea', { name: 'description', rows: '6', maxlength: 5000, required: true },
      offer.description || '')),
    field(t('search.format'), select('format', FORMATS.map((format) => [format, label('format', format)]),
      offer.format)),
    checkboxGroup('languages', t('provide.languages'), [['de', label('language', 'de')],
      ['en', label('language', 'en')]], offer.languages || []),
    competencePicker(framework, offer.competences || [], 'edit-'),
    field(t('search.level'), select('level', levels, String(offer.level))),
    field(t('provide.price'), input('price', { type: 'text', inputmode: 'decimal', required: true,
      value: euros.format(offer.price_cents / 100) }), t('provide.price.hint')),
    field(t('provide.policy'), select('cancellation_policy',
      policies.map((policy) => [policy, t(`provide.policy.${policy}`)]), offer.cancellation_policy)),
    field(t('provide.minimum'), input('minimum_participants', { type: 'number', min: 0,
      value: String(offer.minimum_participants ?? 0) }), t('provide.minimum.hint')),
    offer.provider_id === currentMember()?.id ? providersFieldset(offer) : null,
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, t('provide.edit.save'))));
  form.querySelector('[name="price"]').setAttribute('data-api-name', 'price_cents');
  const saved = h('p', { class: 'notice', role: 'status', hidden: true });
  form.append(saved);
  onSubmit(form, async (data) => {
    saved.hidden = true;
    const wanted = offerFields(data);
    if (data.has('provider_member')) {
      const shares = data.getAll('provider_share');
      wanted.providers = data.getAll('provider_member').map((member, index) => ({
        member_id: String(member).trim(), share_percent: Number(shares[index] || 0) }));
    }
    const current = { ...offer, providers: (offer.providers || []).map((provider) => ({
      member_id: provider.member_id, share_percent: provider.share_percent })) };
    const changes = Object.fromEntries(Object.entries(wanted).filter(([name, value]) => {
      if (!Array.isArray(value)) return value !== current[name];
      const ordered = (list) => (UNORDERED.includes(name) ? [...list].sort() : list);
      return !sameList(ordered(value), ordered(current[name] || []));
    }));
    if (!Object.keys(changes).length) {
      saved.textContent = t('provide.edit.unchanged');
      saved.hidden = false;
      return;
    }
    await api(`/offers/${encodeURIComponent(offer.id)}`, { method: 'PATCH', auth: true, body: changes });
    window.dispatchEvent(new HashChangeEvent('hashchange'));
  });
  return form;
}

/** What a provider or a reviewer sees below an offer; nothing for anyone else. */
export async function offerManagement(offer) {
  if (!signedIn()) return null;
  if (isProvider(offer)) {
    const actions = h('div', { class: 'actions' });
    if (['draft', 'changes_requested'].includes(offer.status)) {
      actions.append(...actionButton(t('provide.submit'), `/offers/${encodeURIComponent(offer.id)}/submit`));
    }
    if (offer.status === 'published') {
      actions.append(...actionButton(t('provide.withdraw'), `/offers/${encodeURIComponent(offer.id)}/withdraw`,
        'danger'));
    }
    return h('section', { class: 'manage', 'aria-labelledby': 'manage-heading' },
      h('h2', { id: 'manage-heading' }, t('provide.manage')),
      h('p', { class: 'status' }, `${t('offer.status')}: ${label('status', offer.status)}`),
      providersList(offer),
      offer.price_cents !== undefined && offer.vat_rate !== undefined
        ? h('p', {}, t('provide.vat', { price: money(offer.price_cents, offer.currency), rate: offer.vat_rate })) : null,
      actions,
      offer.provider_id === currentMember()?.id && EDITABLE.includes(offer.status)
        ? h('details', { class: 'edit-offer' }, h('summary', {}, t('provide.edit')),
          editForm(offer, await api(`/competence-framework?lang=${currentLanguage()}`))) : null,
      offer.status !== 'withdrawn' ? sessionForm(offer) : null,
      await historyList(offer));
  }
  if (isReviewer() && offer.status === 'in_review') {
    return h('section', { class: 'manage' }, reviewForm(offer), await historyList(offer));
  }
  return null;
}

export async function reviewQueuePage() {
  if (!signedIn()) throw new SignInNeeded(false);
  const queue = await api('/reviews?per_page=50', { auth: true });
  return h('section', {}, h('h1', {}, t('review.queue')),
    queue.items.length
      ? h('ul', { class: 'cards' }, queue.items.map((offer) => h('li', { class: 'card' },
        h('h2', {}, h('a', { href: `#/offers/${encodeURIComponent(offer.id)}` }, offer.title)),
        h('p', { class: 'meta' }, t('review.since', { date: dateTime(offer.submitted_at) })))))
      : h('p', {}, t('review.empty')));
}

function participantsTable(session, participants) {
  const started = new Date(session.starts_at) <= new Date();
  const open = started && new Date() - new Date(session.ends_at) < ATTENDANCE_DAYS * 24 * 60 * 60 * 1000;
  const holders = participants.filter((person) => person.status === 'confirmed');
  const rows = participants.map((person) => h('tr', {},
    h('th', { scope: 'row' }, person.name, person.organisation ? h('span', { class: 'meta' }, `, ${person.organisation}`)
      : null),
    h('td', {}, label('format', person.format)),
    h('td', {}, person.status === 'waitlisted'
      ? t('booking.status.waitlisted', { position: person.waiting_position }) : t(`booking.status.${person.status}`)),
    open && person.status === 'confirmed'
      ? h('td', {}, h('input', { type: 'checkbox', name: 'attended', value: person.booking_id,
        id: `attended-${person.booking_id}`, checked: Boolean(person.attended),
        'aria-label': t('participants.attended.of', { name: person.name }) }))
      : h('td', {}, person.attended ? t('participants.yes') : '')));
  const table = h('div', { class: 'table-wrap' }, h('table', {},
    h('caption', {}, t('participants.caption', { count: holders.length })),
    h('thead', {}, h('tr', {}, ['participants.name', 'booking.format', 'offer.status', 'participants.attended']
      .map((key) => h('th', { scope: 'col' }, t(key))))),
    h('tbody', {}, rows)));
  if (!open || !holders.length) return table;
  const saved = h('p', { class: 'notice', role: 'status', hidden: true });
  const form = h('form', { novalidate: true }, table,
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, t('participants.save'))), saved);
  onSubmit(form, async (data) => {
    await api(`/sessions/${encodeURIComponent(session.id)}/attendance`, { method: 'POST', auth: true,
      body: { booking_ids: data.getAll('attended') } });
    saved.textContent = t('participants.saved');
    saved.hidden = false;
  });
  return form;
}

function cancelSessionForm(session) {
  const form = h('form', { class: 'confirm', novalidate: true },
    field(t('session.cancel.reason'), h('textarea', { name: 'reason', rows: '2', maxlength: 500, required: true }),
      t('session.cancel.hint')),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'danger' }, t('session.cancel.confirm'))));
  onSubmit(form, async (data) => {
    await api(`/sessions/${encodeURIComponent(session.id)}/cancel`, { method: 'POST', auth: true,
      body: { reason: String(data.get('reason') || '') } });
    window.dispatchEvent(new HashChangeEvent('hashchange'));
  });
  return form;
}

/** A moment as a datetime-local input's value, in the browser's time zone. */
function localInput(value) {
  const moment = new Date(value);
  const pad = (number) => String(number).padStart(2, '0');
  return `${moment.getFullYear()}-${pad(moment.getMonth() + 1)}-${pad(moment.getDate())}`
    + `T${pad(moment.getHours())}:${pad(moment.getMinutes())}`;
}

/** Moving a date, or changing its place or link: only what changed goes (booking keeps the seats it sold). */
function rescheduleForm(offer, session) {
  const form = h('form', { class: 'narrow', novalidate: true },
    field(t('provide.starts'), input('starts_at', { type: 'datetime-local', required: true,
      value: localInput(session.starts_at) })),
    field(t('provide.ends'), input('ends_at', { type: 'datetime-local', required: true,
      value: localInput(session.ends_at) })),
    offer.format !== 'online'
      ? field(t('session.location'), input('location', { type: 'text', maxlength: 200, value: session.location || '' }))
      : null,
    offer.format !== 'in_person'
      ? field(t('provide.link'), input('link', { type: 'url', maxlength: 500 }), t('provide.reschedule.link')) : null,
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, t('provide.reschedule.submit'))));
  onSubmit(form, async (data) => {
    const body = {};
    for (const name of ['starts_at', 'ends_at']) {
      const value = String(data.get(name) || '');
      const moment = new Date(value);
      // A time the browser cannot read goes as it is, so that the API names the field.
      if (Number.isNaN(moment.getTime())) body[name] = value;
      else if (moment.getTime() !== new Date(session[name]).getTime()) body[name] = moment.toISOString();
    }
    const location = String(data.get('location') || '').trim();
    if (data.has('location') && location && location !== (session.location || '')) body.location = location;
    const link = String(data.get('link') || '').trim();
    if (link) body.link = link;
    if (Object.keys(body).length) {
      await api(`/sessions/${encodeURIComponent(session.id)}`, { method: 'PATCH', auth: true, body });
    }
    window.dispatchEvent(new HashChangeEvent('hashchange'));
  });
  return form;
}

/** A provider's tools for one date: who booked it (and who attended), and calling it off. */
export function sessionTools(offer, session) {
  if (!isProvider(offer) || session.cancelled_at) return null;
  const panel = h('div', { class: 'session-tools' });
  const show = h('button', { type: 'button', class: 'secondary', 'aria-expanded': 'false', onclick: async () => {
    if (show.getAttribute('aria-expanded') === 'true') {
      panel.replaceChildren();
      show.setAttribute('aria-expanded', 'false');
      return;
    }
    show.disabled = true;
    try {
      const participants = await api(`/sessions/${encodeURIComponent(session.id)}/participants`, { auth: true });
      panel.replaceChildren(participantsTable(session, participants.items));
    } catch (error) {
      if (error.name !== 'ApiError' || error.handled) throw error;
      panel.replaceChildren(h('p', { class: 'form-alert', role: 'alert' }, describeError(error)));
    } finally {
      show.disabled = false;
    }
    show.setAttribute('aria-expanded', 'true');
  } }, t('participants.show'));
  const upcoming = new Date(session.starts_at) > new Date();
  const cancel = upcoming && offer.status === 'published'
    ? h('details', { class: 'cancel-session' }, h('summary', {}, t('session.cancel')), cancelSessionForm(session))
    : null;
  const move = upcoming && offer.provider_id === currentMember()?.id
    ? h('details', { class: 'move-session' }, h('summary', {}, t('provide.reschedule')), rescheduleForm(offer, session))
    : null;
  return h('div', { class: 'provider-tools' }, h('div', { class: 'actions' }, show), panel, move, cancel);
}
