// Register and sign in; after signing in the member returns to the page that asked for it.
import { api, signIn } from '../api.js';
import { field, h, input } from '../dom.js';
import { onSubmit } from '../forms.js';
import { currentLanguage, t } from '../i18n.js';

/** Where to go after signing in: the kept page if it is one of ours, else the member's bookings. */
function nextPage(query) {
  const next = query.get('next') || '';
  return next.startsWith('/') && !next.startsWith('//') ? `#${next}` : '#/bookings';
}

function withNext(hash, query) {
  return query.get('next') ? `${hash}?next=${encodeURIComponent(query.get('next'))}` : hash;
}

export async function loginPage({ query }) {
  const notice = query.get('expired') ? t('login.expired') : query.get('next') ? t('login.needed') : null;
  const form = h('form', { class: 'narrow', novalidate: true },
    field(t('login.email'), input('email', { type: 'email', autocomplete: 'username', required: true })),
    field(t('login.password'), input('password', { type: 'password', autocomplete: 'current-password',
      required: true })),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, t('login.submit'))));
  onSubmit(form, async (data) => {
    await signIn(String(data.get('email')), String(data.get('password')));
    location.hash = nextPage(query);
  });
  return h('section', {}, h('h1', {}, t('login.title')),
    notice ? h('p', { class: 'notice', role: 'status' }, notice) : null, form,
    h('p', {}, t('login.noaccount'), ' ', h('a', { href: withNext('#/register', query) }, t('nav.register'))),
    h('p', {}, h('a', { href: '#/reset-password' }, t('reset.forgot'))));
}

/** A forgotten password: without a token, ask for the mail; with the token from the mail, set the new one. */
export async function resetPasswordPage({ query }) {
  const token = query.get('token');
  const done = h('p', { class: 'notice', role: 'status', hidden: true });
  if (!token) {
    const form = h('form', { class: 'narrow', novalidate: true },
      field(t('login.email'), input('email', { type: 'email', autocomplete: 'username', required: true })),
      h('div', { class: 'actions' }, h('button', { type: 'submit' }, t('reset.send'))));
    onSubmit(form, async (data) => {
      await api('/auth/password-reset', { method: 'POST', body: { email: String(data.get('email')) } });
      done.textContent = t('reset.sent');
      done.hidden = false;
      form.hidden = true;
    });
    return h('section', {}, h('h1', {}, t('reset.title')), h('p', {}, t('reset.explain')), form, done);
  }
  const form = h('form', { class: 'narrow', novalidate: true },
    field(t('reset.new'), input('new_password', { type: 'password', autocomplete: 'new-password', required: true }),
      t('register.password.hint')),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, t('reset.save'))));
  onSubmit(form, async (data) => {
    await api('/auth/password-reset/confirm', { method: 'POST',
      body: { token, new_password: String(data.get('new_password')) } });
    form.hidden = true;
    done.replaceChildren(t('reset.saved'), ' ', h('a', { href: '#/login' }, t('nav.signin')));
    done.hidden = false;
  });
  return h('section', {}, h('h1', {}, t('reset.title')), form, done);
}

export async function registerPage({ query }) {
  const form = h('form', { class: 'narrow', novalidate: true },
    field(t('register.name'), input('display_name', { type: 'text', autocomplete: 'name', required: true,
      maxlength: 100 })),
    field(t('register.email'), input('email', { type: 'email', autocomplete: 'email', required: true })),
    field(t('register.password'), input('password', { type: 'password', autocomplete: 'new-password',
      required: true }), t('register.password.hint')),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, t('register.submit'))));
  onSubmit(form, async (data) => {
    const body = Object.fromEntries(['display_name', 'email', 'password'].map((name) => [name, String(data.get(name))]));
    // Messages come in the language the member is reading the academy in; the profile can change it.
    await api('/members', { method: 'POST', body: { ...body, preferred_language: currentLanguage() } });
    form.hidden = true;
    sent.hidden = false;
    sent.focus();
  });
  // The answer is the same for every address; the mail says whether to confirm it or to sign in.
  const sent = h('p', { class: 'notice', role: 'status', tabindex: '-1', hidden: true }, t('register.sent'));
  return h('section', {}, h('h1', {}, t('register.title')), form, sent,
    h('p', {}, t('register.haveaccount'), ' ', h('a', { href: withNext('#/login', query) }, t('nav.signin'))));
}

/** The link from the registration mail. It asks for a click rather than confirming on opening, so that a mail
 * scanner opening links does not use it up. */
export async function confirmEmailPage({ query }) {
  const token = query.get('token') || '';
  const done = h('p', { class: 'notice', role: 'status', tabindex: '-1', hidden: true });
  const form = h('form', { class: 'narrow', novalidate: true },
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, t('confirm.submit'))));
  onSubmit(form, async () => {
    await api('/members/confirmation', { method: 'POST', body: { token } });
    form.hidden = true;
    done.replaceChildren(t('confirm.done'), ' ', h('a', { href: '#/login' }, t('nav.signin')));
    done.hidden = false;
    done.focus();
  });
  return h('section', {}, h('h1', {}, t('confirm.title')), h('p', {}, t('confirm.explain')), form, done);
}
