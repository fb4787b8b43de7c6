// A member's profile: name, organisation, invoice address, region, languages, language of messages, career stage,
// formats, zone.
import { api, forgetSession, rememberMember, replaceTokens, SignInNeeded, signedIn } from '../api.js';
import { field, h, input, select } from '../dom.js';
import { onSubmit } from '../forms.js';
import { currentLanguage, label, t } from '../i18n.js';

const FORMATS = ['online', 'in_person', 'hybrid'];

function timeZones() {
  try {
    return Intl.supportedValuesOf('timeZone');
  } catch {
    return [];
  }
}

function orNull(value) {
  const text = String(value ?? '').trim();
  return text === '' ? null : text;
}

/** The address as the API takes it: its non-empty lines, or null for none. */
function addressLines(value) {
  const lines = String(value ?? '').split('\n').map((line) => line.trim()).filter(Boolean);
  return lines.length ? lines : null;
}

export async function profilePage() {
  if (!signedIn()) throw new SignInNeeded(false);
  const [me, paths] = await Promise.all([
    api('/members/me', { auth: true }), api(`/career-paths?lang=${currentLanguage()}`).catch(() => ({ items: [] })),
  ]);
  const zones = h('datalist', { id: 'time-zones' }, timeZones().map((zone) => h('option', { value: zone })));
  const formats = h('fieldset', { class: 'choices' }, h('legend', {}, t('profile.formats')),
    FORMATS.map((format) => {
      const id = `format-${format}`;
      return h('div', { class: 'choice' },
        h('input', { type: 'checkbox', name: 'preferred_formats', value: format, id,
          checked: (me.preferred_formats || []).includes(format) }),
        h('label', { for: id }, label('format', format)));
    }));
  const formatsError = h('p', { class: 'field-error', id: 'preferred-formats-error', hidden: true });
  for (const box of formats.querySelectorAll('input')) box.dataset.errorId = formatsError.id;
  const saved = h('p', { class: 'notice', role: 'status', hidden: true, tabindex: '-1' });
  const form = h('form', { class: 'narrow', novalidate: true },
    field(t('register.name'), input('display_name', { type: 'text', value: me.display_name, autocomplete: 'name',
      maxlength: 100 })),
    field(t('profile.email'), input('email', { type: 'email', value: me.email, readonly: true })),
    field(t('profile.organisation'), input('organisation', { type: 'text', value: me.organisation || '',
      autocomplete: 'organization', maxlength: 200 }), t('profile.organisation.hint')),
    field(t('profile.address'), h('textarea', { name: 'postal_address', rows: 4, autocomplete: 'street-address' },
      (me.postal_address || []).join('\n')), t('profile.address.hint')),
    field(t('profile.region'), input('region', { type: 'text', value: me.region || '', maxlength: 10 }),
      t('profile.region.hint')),
    field(t('profile.languages'), input('languages', { type: 'text', value: (me.languages || []).join(', ') }),
      t('profile.languages.hint')),
    field(t('profile.messages'), select('preferred_language', [['de', label('language', 'de')],
      ['en', label('language', 'en')]], me.preferred_language)),
    field(t('profile.career'), select('career_stage',
      [['', t('profile.career.none')], ...paths.items.map((path) => [path.code, path.name])], me.career_stage || '')),
    formats, formatsError,
    field(t('profile.zone'), input('time_zone', { type: 'text', value: me.time_zone, list: 'time-zones' }),
      t('profile.zone.hint')),
    zones,
    saved,
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, t('profile.save'))));
  onSubmit(form, async (data) => {
    saved.hidden = true;
    const body = {
      display_name: String(data.get('display_name') || '').trim(),
      organisation: orNull(data.get('organisation')),
      postal_address: addressLines(data.get('postal_address')),
      region: orNull(data.get('region')),
      languages: String(data.get('languages') || '').split(',').map((code) => code.trim()).filter(Boolean),
      preferred_language: data.get('preferred_language'),
      career_stage: orNull(data.get('career_stage')),
      preferred_formats: data.getAll('preferred_formats'),
      time_zone: String(data.get('time_zone') || '').trim(),
    };
    const member = await api('/members/me', { method: 'PATCH', auth: true, body });
    rememberMember(member);
    saved.textContent = t('profile.saved');
    saved.hidden = false;
    saved.focus();
  });
  return h('section', {}, h('h1', {}, t('profile.title')), form, await preferencesForm(), passwordForm(),
    deletionForm());
}

/** E-mail on or off per kind of message; the inbox gets everything, and money and lost seats are always mailed. */
async function preferencesForm() {
  const preferences = await api('/notification-preferences', { auth: true }).catch(() => null);
  if (!preferences) return null;
  const categories = Object.keys(preferences);
  const saved = h('p', { class: 'notice', role: 'status', hidden: true, tabindex: '-1' });
  const form = h('form', { class: 'narrow', novalidate: true, 'aria-labelledby': 'mail-heading' },
    h('h2', { id: 'mail-heading' }, t('mail.title')),
    h('fieldset', { class: 'choices stacked' }, h('legend', {}, t('mail.legend')),
      categories.map((category) => {
        const id = `mail-${category}`;
        const choice = preferences[category];
        return h('div', { class: 'choice' },
          h('input', { type: 'checkbox', name: category, id, checked: choice.email, disabled: choice.locked,
            'aria-describedby': choice.locked ? `${id}-locked` : null }),
          h('label', { for: id }, label('category', category)),
          choice.locked ? h('span', { class: 'hint', id: `${id}-locked` }, t('mail.locked')) : null);
      })),
    saved,
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, t('mail.save'))));
  onSubmit(form, async (data) => {
    const body = Object.fromEntries(categories.filter((category) => !preferences[category].locked)
      .map((category) => [category, { email: data.has(category) }]));
    await api('/notification-preferences', { method: 'PUT', auth: true, body });
    saved.textContent = t('mail.saved');
    saved.hidden = false;
    saved.focus();
  });
  return form;
}

function passwordForm() {
  const done = h('p', { class: 'notice', role: 'status', hidden: true, tabindex: '-1' });
  const form = h('form', { class: 'narrow', novalidate: true, 'aria-labelledby': 'password-heading' },
    h('h2', { id: 'password-heading' }, t('password.title')),
    field(t('password.old'), input('old_password', { type: 'password', autocomplete: 'current-password' })),
    field(t('password.new'), input('new_password', { type: 'password', autocomplete: 'new-password' }),
      t('register.password.hint')),
    done,
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, t('password.submit'))));
  onSubmit(form, async (data) => {
    done.hidden = true;
    const pair = await api('/members/me/password', { method: 'POST', auth: true, body: {
      old_password: String(data.get('old_password') || ''), new_password: String(data.get('new_password') || '') } });
    replaceTokens(pair);
    form.reset();
    done.textContent = t('password.done');
    done.hidden = false;
    done.focus();
  });
  return form;
}

function deletionForm() {
  const form = h('form', { class: 'narrow confirm', novalidate: true, 'aria-labelledby': 'delete-heading' },
    h('h2', { id: 'delete-heading' }, t('delete.title')),
    h('p', {}, t('delete.text')),
    field(t('delete.password'), input('password', { type: 'password', autocomplete: 'current-password' })),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'danger' }, t('delete.submit'))));
  onSubmit(form, async (data) => {
    await api('/members/me', { method: 'DELETE', auth: true, body: { password: String(data.get('password') || '') } });
    forgetSession();
    location.hash = '#/?deleted=1';
  });
  return form;
}
