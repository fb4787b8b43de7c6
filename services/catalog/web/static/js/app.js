// The shell: header, language, hash routes, loading and errors; each page is a function that builds its view.
import { api, currentMember, signOut, signedIn, SignInNeeded } from './api.js';
import { clear, h } from './dom.js';
import { describeError } from './forms.js';
import { currentLanguage, setLanguage, t } from './i18n.js';
import { confirmEmailPage, loginPage, registerPage, resetPasswordPage } from './pages/account.js';
import { assessmentPage, assessmentResultPage, assessmentsPage } from './pages/assessment.js';
import { bookingsPage } from './pages/bookings.js';
import { certificatePage } from './pages/certificates.js';
import { inboxPage } from './pages/inbox.js';
import { invoicePage, invoicesPage } from './pages/invoices.js';
import { creditsPage, payoutsPage } from './pages/credits.js';
import { offerPage, searchPage } from './pages/offers.js';
import { profilePage } from './pages/profile.js';
import { newProposalPage, proposalPage, proposalsPage } from './pages/proposals.js';
import { proposePage, reviewQueuePage } from './pages/provide.js';
import { readsReports, revenuePoliciesPage, revenueReportPage, simulatePage } from './pages/reports.js';
import { deadLettersPage, seesDeadLetters } from './pages/deadletters.js';
import { topicsPage } from './pages/topics.js';

const ROUTES = [
  [/^\/$/, searchPage],
  [/^\/offers\/([^/]+)$/, offerPage],
  [/^\/login$/, loginPage],
  [/^\/register$/, registerPage],
  [/^\/reset-password$/, resetPasswordPage],
  [/^\/confirm-email$/, confirmEmailPage],
  [/^\/bookings$/, bookingsPage],
  [/^\/inbox$/, inboxPage],
  [/^\/invoices$/, invoicesPage],
  [/^\/invoices\/([^/]+)$/, invoicePage],
  [/^\/credits$/, creditsPage],
  [/^\/payouts$/, payoutsPage],
  [/^\/reports\/revenue$/, revenueReportPage],
  [/^\/dead-letters$/, deadLettersPage],
  [/^\/reports\/simulate$/, simulatePage],
  [/^\/revenue-policies$/, revenuePoliciesPage],
  [/^\/certificates(?:\/([^/]+))?$/, certificatePage],
  [/^\/assessments$/, assessmentsPage],
  [/^\/profile$/, profilePage],
  [/^\/provide$/, proposePage],
  [/^\/reviews$/, reviewQueuePage],
  [/^\/topics$/, topicsPage],
  [/^\/proposals$/, proposalsPage],
  [/^\/proposals\/new$/, newProposalPage],
  [/^\/proposals\/([^/]+)$/, proposalPage],
  [/^\/assessments\/([^/]+)$/, assessmentPage],
  [/^\/assessments\/([^/]+)\/result$/, assessmentResultPage],
];

const main = document.getElementById('main');
let renderCount = 0;

export function currentRoute() {
  const [path, query = ''] = (location.hash.replace(/^#/, '') || '/').split('?');
  return { path: path || '/', query: new URLSearchParams(query), hash: location.hash || '#/' };
}

export function navigate(hash) {
  if (location.hash === hash) render();
  else location.hash = hash;
}

/** To the log-in, keeping the page the member was on, so signing in brings them back to it. */
function signInAgain(expired) {
  const { path, hash } = currentRoute();
  if (path === '/login' || path === '/register') return;
  const next = encodeURIComponent(hash.replace(/^#/, ''));
  navigate(`#/login?next=${next}${expired ? '&expired=1' : ''}`);
}

window.addEventListener('academy:signin-needed', (event) => signInAgain(event.detail.expired));

function navLink(hash, text, attrs = {}) {
  const current = currentRoute().path === hash.slice(1).split('?')[0];
  return h('li', {}, h('a', { href: hash, 'aria-current': current ? 'page' : null, ...attrs }, text));
}

async function unreadCount() {
  try {
    return (await api('/notifications?unread=true&per_page=1', { auth: true })).unread;
  } catch {
    return null;
  }
}

async function renderNav() {
  const nav = document.getElementById('nav');
  nav.setAttribute('aria-label', t('nav.label'));
  const links = [navLink('#/', t('nav.offers')), navLink('#/topics', t('nav.topics')),
    navLink('#/certificates', t('nav.certificates'))];
  if (signedIn()) {
    const inbox = navLink('#/inbox', t('nav.inbox'));
    links.push(navLink('#/bookings', t('nav.bookings')), navLink('#/assessments', t('nav.assessment')), inbox,
      navLink('#/invoices', t('nav.invoices')), navLink('#/provide', t('nav.provide')));
    const member = currentMember();
    if ((member?.roles || []).some((role) => role === 'reviewer' || role === 'operator')) {
      links.push(navLink('#/reviews', t('nav.reviews')));
    }
    links.push(navLink('#/credits', t('nav.credits')), navLink('#/proposals', t('nav.proposals')));
    // Reports are for partners and operators, as the API allows them.
    if (readsReports(member)) links.push(navLink('#/reports/revenue', t('nav.reports')));
    if (seesDeadLetters(member)) links.push(navLink('#/dead-letters', t('nav.deadletters')));
    // The tokens are forgotten at once; ending the session at the academy need not hold the member up.
    const signOutButton = h('button', { type: 'button', class: 'link-button', onclick: () => {
      signOut();
      navigate('#/');
    } }, t('nav.signout'));
    links.push(h('li', { class: 'who' }, member ? h('span', {}, t('nav.signedin', { name: member.display_name })) : null,
      h('a', { href: '#/profile', 'aria-current': currentRoute().path === '/profile' ? 'page' : null }, t('nav.profile')),
      signOutButton));
    nav.replaceChildren(h('ul', {}, links));
    const count = await unreadCount();
    if (count) {
      const link = inbox.querySelector('a');
      link.setAttribute('aria-label', t('nav.inbox.unread', { count }));
      link.append(' ', h('span', { class: 'badge', 'aria-hidden': 'true', id: 'unread-count' }, String(count)));
    }
  } else {
    links.push(navLink('#/login', t('nav.signin')), navLink('#/register', t('nav.register')));
    nav.replaceChildren(h('ul', {}, links));
  }
}

function renderChrome() {
  document.documentElement.lang = currentLanguage();
  document.getElementById('skip-link').textContent = t('skip');
  document.getElementById('brand').textContent = t('app.name');
  document.getElementById('api-docs').textContent = t('footer.api');
  const switcher = document.getElementById('language-switch');
  switcher.textContent = t('language.switch');
  switcher.setAttribute('lang', currentLanguage() === 'de' ? 'en' : 'de');
  switcher.setAttribute('aria-label', t('language.switch.label'));
}

function notFound() {
  return h('section', {}, h('h1', {}, t('notfound.title')), h('p', {}, t('notfound.text')),
    h('p', {}, h('a', { href: '#/' }, t('notfound.back'))));
}

export async function render() {
  const mine = ++renderCount;
  const route = currentRoute();
  renderChrome();
  renderNav();
  main.setAttribute('aria-busy', 'true');
  clear(main).append(h('p', { class: 'loading', role: 'status' }, t('loading')));
  let view;
  try {
    const match = ROUTES.map(([pattern, page]) => [route.path.match(pattern), page]).find(([found]) => found);
    view = match ? await match[1]({ params: match[0].slice(1), query: route.query }) : notFound();
  } catch (error) {
    if (error instanceof SignInNeeded) return;
    if (error.name !== 'ApiError') throw error;
    view = h('section', {}, h('h1', {}, t('error.title')), h('p', { role: 'alert' }, describeError(error)));
  } finally {
    if (mine === renderCount) main.removeAttribute('aria-busy');
  }
  if (mine !== renderCount) return;
  clear(main).append(view);
  const heading = main.querySelector('h1');
  if (heading) {
    document.title = `${heading.textContent} – ${t('app.name')}`;
    heading.setAttribute('tabindex', '-1');
    // A new page is announced by moving focus to its heading; the first load leaves focus where it is.
    if (mine > 1) heading.focus();
  }
}

document.getElementById('language-switch').addEventListener('click', () => {
  setLanguage(currentLanguage() === 'de' ? 'en' : 'de');
  render();
});
document.getElementById('skip-link').addEventListener('click', (event) => {
  // The routes live in the hash, so the skip link moves focus itself instead of changing it.
  event.preventDefault();
  main.focus();
});
window.addEventListener('hashchange', render);
window.addEventListener('academy:refresh-nav', renderNav);
render();
