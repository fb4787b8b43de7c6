// Anyone may check a certificate by its number: holder, seminar, date and whether it is valid.
import { api } from '../api.js';
import { field, h, input } from '../dom.js';
import { describeError, onSubmit } from '../forms.js';
import { date, t } from '../i18n.js';

function verdict(certificate) {
  return h('div', { class: `notice ${certificate.valid ? 'valid' : 'invalid'}`, role: 'status' },
    h('p', { class: 'verdict' }, certificate.valid ? t('certificate.valid') : t('certificate.invalid')),
    h('dl', { class: 'pairs' },
      h('dt', {}, t('certificate.holder')), h('dd', {}, certificate.holder),
      h('dt', {}, t('certificate.offer')), h('dd', {}, certificate.offer_title),
      h('dt', {}, t('certificate.date')), h('dd', {}, date(certificate.date))));
}

async function check(id) {
  try {
    return verdict(await api(`/certificates/${encodeURIComponent(id)}`));
  } catch (error) {
    if (error.name !== 'ApiError' || error.handled) throw error;
    const text = error.status === 404 ? t('certificate.notfound') : describeError(error);
    return h('p', { class: 'notice invalid', role: 'alert' }, text);
  }
}

export async function certificatePage({ params }) {
  let id = params[0] || '';
  try {
    id = decodeURIComponent(id);
  } catch {
    // a malformed escape is checked as typed; the API refuses what it cannot be
  }
  const form = h('form', { class: 'narrow', novalidate: true },
    field(t('certificate.id'), input('id', { type: 'text', value: id, required: true, autocomplete: 'off',
      spellcheck: 'false' }), t('certificate.id.hint')),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, t('certificate.submit'))));
  onSubmit(form, async (data) => {
    const value = String(data.get('id') || '').trim();
    if (value) location.hash = `#/certificates/${encodeURIComponent(value)}`;
  });
  return h('section', {}, h('h1', {}, t('certificate.title')), form, id ? await check(id) : null);
}
