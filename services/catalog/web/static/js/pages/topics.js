// Topic requests: what members ask to learn, most voted first, with the anonymised demand beside each; members
// ask for a topic and vote (or take a vote back).
import { api, signedIn } from '../api.js';
import { field, h, input } from '../dom.js';
import { describeError, onSubmit } from '../forms.js';
import { currentLanguage, date, label, t } from '../i18n.js';
import { checkboxGroup, competencePicker } from './provide.js';

const FORMATS = ['online', 'in_person', 'hybrid'];

function reload() {
  window.dispatchEvent(new HashChangeEvent('hashchange'));
}

function voteButton(request) {
  const alert = h('p', { class: 'form-alert', role: 'alert', hidden: true });
  const button = h('button', { type: 'button', class: request.voted ? 'secondary' : '',
    'aria-pressed': request.voted ? 'true' : 'false', onclick: async () => {
      button.disabled = true;
      try {
        await api(`/topic-requests/${encodeURIComponent(request.id)}/votes`,
          { method: request.voted ? 'DELETE' : 'POST', auth: true });
        reload();
      } catch (error) {
        if (error.name !== 'ApiError' || error.handled) throw error;
        alert.textContent = describeError(error);
        alert.hidden = false;
        button.disabled = false;
      }
    } }, request.voted ? t('topics.unvote') : t('topics.vote'));
  return [button, alert];
}

function demandList(request, names) {
  if (!(request.demand || []).length) return h('p', { class: 'hint' }, t('topics.nodemand'));
  return h('ul', { class: 'demand' }, request.demand.map((row) => h('li', {},
    t('topics.demand', { competence: names[row.competence] || row.competence, gap: row.members_with_gap,
      members: row.members }))));
}

function requestItem(request, names) {
  return h('li', { class: 'card topic-request' },
    h('h2', {}, request.title),
    h('p', { class: 'votes' }, t('topics.votes', { count: request.votes })),
    h('p', {}, request.description),
    h('ul', { class: 'tags' }, request.competences.map((code) => h('li', {}, names[code] || code))),
    (request.preferred_formats || []).length
      ? h('p', { class: 'meta' }, request.preferred_formats.map((format) => label('format', format)).join(', ')) : null,
    h('h3', {}, t('topics.demand.heading')), demandList(request, names),
    (request.answers || []).length
      ? [h('h3', {}, t('topics.answers')), h('ul', {}, request.answers.map((answer) => h('li', {},
        h('a', { href: `#/offers/${encodeURIComponent(answer.offer_id)}` }, answer.offer_title))))]
      : null,
    h('p', { class: 'meta' }, t('topics.asked', { date: date(request.created_at) })),
    signedIn() ? h('div', { class: 'actions' }, voteButton(request)) : null);
}

function askForm(framework) {
  const form = h('form', { class: 'narrow wide', novalidate: true },
    field(t('provide.title'), input('title', { type: 'text', required: true, maxlength: 200 })),
    field(t('provide.description'), h('textarea', { name: 'description', rows: '4', maxlength: 5000, required: true })),
    competencePicker(framework),
    checkboxGroup('preferred_formats', t('profile.formats'), FORMATS.map((format) => [format, label('format', format)])),
    field(t('profile.region'), input('region', { type: 'text', maxlength: 10 }), t('profile.region.hint')),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, t('topics.ask.submit'))));
  onSubmit(form, async (data) => {
    const region = String(data.get('region') || '').trim();
    await api('/topic-requests', { method: 'POST', auth: true, body: {
      title: String(data.get('title') || ''), description: String(data.get('description') || ''),
      competences: data.getAll('competences'), preferred_formats: data.getAll('preferred_formats'),
      region: region || null,
    } });
    reload();
  });
  return form;
}

export async function topicsPage() {
  const [requests, framework] = await Promise.all([
    api('/topic-requests?per_page=50'),
    api(`/competence-framework?lang=${currentLanguage()}`).catch(() => ({ areas: [] })),
  ]);
  const names = Object.fromEntries((framework.areas || []).flatMap((area) => area.competences || [])
    .map((competence) => [competence.code, competence.name]));
  return h('section', {}, h('h1', {}, t('topics.title')), h('p', {}, t('topics.intro')),
    requests.items.length ? h('ul', { class: 'cards' }, requests.items.map((request) => requestItem(request, names)))
      : h('p', {}, t('topics.none')),
    signedIn() ? [h('h2', {}, t('topics.ask')), askForm(framework)] : null);
}
