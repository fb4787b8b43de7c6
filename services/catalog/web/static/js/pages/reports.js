// Partners and operators: the revenue report (table, chart, CSV), the what-if under other shares, and the
// versions of the revenue-share policy.
import { api, currentMember, parameterValues, SignInNeeded, signedIn } from '../api.js';
import { field, h, input, select } from '../dom.js';
import { onSubmit, showProblem } from '../forms.js';
import { date, label, money, t } from '../i18n.js';

const PARTIES = ['provider', 'academy', 'community_fund'];
const FIGURES = ['gross_cents', 'refunds_cents', 'vat_cents', 'net_revenue_cents', 'provider_cents', 'academy_cents',
  'community_fund_cents'];
const GROUPINGS = ['day', 'week', 'month', 'format', 'area', 'provider', 'region'];
const DAY_MS = 24 * 60 * 60 * 1000;

/** The API lets partners and operators read reports (services/billing/reports_api.py READERS). */
export function readsReports(member = currentMember()) {
  return (member?.roles || []).some((role) => role === 'partner' || role === 'operator');
}

function isoDay(moment) {
  return moment.toISOString().slice(0, 10);
}

/** The period as the API takes it: from the first day's start (UTC) to the end of the last day, both included.
 * A day the page cannot read goes as it is, so that the API names the field. */
function period(from, to) {
  const end = /^\d{4}-\d{2}-\d{2}$/.test(to) ? isoDay(new Date(Date.parse(`${to}T00:00:00Z`) + DAY_MS)) : null;
  return { from: from ? `${from}T00:00:00Z` : '', to: end ? `${end}T00:00:00Z` : to };
}

function defaults(query) {
  const today = new Date();
  return {
    from: query.get('from') || `${today.getUTCFullYear()}-01-01`,
    to: query.get('to') || isoDay(today),
    group_by: GROUPINGS.includes(query.get('group_by')) ? query.get('group_by') : 'month',
  };
}

async function periodFields(values) {
  const groupings = (await parameterValues('/api/v1/reports/revenue', 'group_by')) || GROUPINGS;
  return [
    field(t('report.from'), input('from', { type: 'date', value: values.from, required: true })),
    field(t('report.to'), input('to', { type: 'date', value: values.to, required: true }), t('report.to.hint')),
    field(t('report.group_by'), select('group_by', groupings.map((value) => [value, label('report.group', value)]),
      values.group_by)),
  ];
}

function subNav(current) {
  const links = [['#/reports/revenue', t('report.title')], ['#/reports/simulate', t('whatif.title')],
    ['#/revenue-policies', t('policies.title')]];
  return h('nav', { class: 'subnav', 'aria-label': t('report.nav') }, h('ul', {}, links.map(([hash, text]) =>
    h('li', {}, h('a', { href: hash, 'aria-current': hash === current ? 'page' : null }, text)))));
}

/** A busy region with words for the wait: the report may take seconds over years of postings. */
function progress(text) {
  return h('p', { class: 'loading', role: 'status' }, h('progress', { 'aria-label': text }), ' ', text);
}

function groupName(report, group) {
  if (group === '') return t('report.group.none');
  return report.group_by === 'format' ? label('format', group) : group;
}

function reportTable(report) {
  const currency = 'EUR';
  const cells = (figures) => FIGURES.map((name) => h('td', { class: 'number' }, money(figures[name], currency)));
  return h('div', { class: 'table-wrap' }, h('table', { class: 'report' },
    h('caption', {}, t('report.caption', { from: date(report.from), to: date(new Date(Date.parse(report.to) - 1)) })),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, label('report.group', report.group_by)),
      FIGURES.map((name) => h('th', { scope: 'col', class: 'number' }, t(`report.${name}`))))),
    h('tbody', {}, report.groups.map((group) => h('tr', {}, h('th', { scope: 'row' }, groupName(report, group.group)),
      cells(group)))),
    h('tfoot', {}, h('tr', {}, h('th', { scope: 'row' }, t('report.total')), cells(report.total)))));
}

function queryOf(values, extra = {}) {
  return new URLSearchParams({ ...period(values.from, values.to), group_by: values.group_by, ...extra });
}

async function chart(values) {
  const png = await api(`/reports/revenue?${queryOf(values, { format: 'png' })}`, { auth: true, as: 'blob',
    accept: 'image/png' });
  // Once drawn, the picture no longer needs its blob's address.
  return h('img', { class: 'chart', src: URL.createObjectURL(png),
    onload: (event) => URL.revokeObjectURL(event.target.src), alt: t('report.chart.alt', {
    grouping: label('report.group', values.group_by), from: values.from, to: values.to }) });
}

async function downloadCsv(values, button) {
  const file = await api(`/reports/revenue?${queryOf(values, { format: 'csv' })}`, { auth: true, as: 'blob',
    accept: 'text/csv' });
  const url = URL.createObjectURL(file);
  const link = h('a', { href: url, download: `revenue-${values.from}-${values.to}.csv`, hidden: true });
  button.after(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function formValues(form) {
  const data = new FormData(form);
  return { from: String(data.get('from') || ''), to: String(data.get('to') || ''),
    group_by: String(data.get('group_by') || 'month') };
}

export async function revenueReportPage({ query }) {
  if (!signedIn()) throw new SignInNeeded(false);
  const values = defaults(query);
  const results = h('div', { class: 'results', 'aria-live': 'polite' });
  const form = h('form', { class: 'search-form', novalidate: true },
    h('div', { class: 'filter-grid' }, await periodFields(values)),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, t('report.show'))));

  async function load(chosen) {
    results.setAttribute('aria-busy', 'true');
    results.replaceChildren(progress(t('report.loading')));
    let report;
    try {
      report = await api(`/reports/revenue?${queryOf(chosen)}`, { auth: true });
    } catch (error) {
      results.replaceChildren();
      throw error;
    } finally {
      results.removeAttribute('aria-busy');
    }
    const figure = h('figure', {}, progress(t('report.chart.loading')),
      h('figcaption', {}, t('report.chart.caption')));
    const csv = h('button', { type: 'button', class: 'secondary', onclick: () => downloadCsv(chosen, csv)
      .catch((error) => {
        if (error.name !== 'ApiError') throw error;
        // A session that ended has taken the member to the log-in already.
        if (!error.handled) showProblem(form, error);
      }) }, t('report.csv'));
    results.replaceChildren(
      report.groups.length ? reportTable(report) : h('p', {}, t('report.empty')),
      h('div', { class: 'actions' }, csv),
      report.groups.length ? figure : null);
    if (report.groups.length) {
      chart(chosen).then((image) => figure.firstChild.replaceWith(image)).catch((error) => {
        if (error.name !== 'ApiError') throw error;
        if (!error.handled) figure.firstChild.replaceWith(h('p', {}, t('report.chart.failed')));
      });
    }
  }

  onSubmit(form, async () => {
    const chosen = formValues(form);
    // The period stays in the address, so the report can be bookmarked and reloaded; no new page is drawn.
    history.replaceState(null, '', `#/reports/revenue?${new URLSearchParams(chosen)}`);
    await load(chosen);
  });
  load(values).catch((error) => {
    if (error.name !== 'ApiError') throw error;
    if (!error.handled) showProblem(form, error);
  });
  return h('section', {}, h('h1', {}, t('report.title')), subNav('#/reports/revenue'), form, results);
}

/** Shares travel as policy.<party>_percent; their messages belong next to the page's share fields. */
function flatErrors(problem) {
  const errors = { ...(problem?.errors || {}) };
  const policy = errors.policy;
  if (policy && typeof policy === 'object' && !Array.isArray(policy)) {
    delete errors.policy;
    for (const [name, messages] of Object.entries(policy)) errors[name === '_schema' ? 'shares' : name] = messages;
  }
  return errors;
}

function comparison(result) {
  const rows = PARTIES.map((party) => {
    const actual = result.actual.total[`${party}_cents`];
    const simulated = result.simulated.total[`${party}_cents`];
    const difference = result.difference[party];
    return h('tr', {}, h('th', { scope: 'row' }, label('party', party)),
      h('td', { class: 'number' }, money(actual, 'EUR')),
      h('td', { class: 'number' }, money(simulated, 'EUR')),
      h('td', { class: `number ${difference > 0 ? 'gain' : difference < 0 ? 'loss' : ''}` },
        `${difference > 0 ? '+' : ''}${money(difference, 'EUR')}`));
  });
  const shares = result.simulated.shares_bp;
  return h('div', { class: 'table-wrap' }, h('table', { class: 'comparison' },
    h('caption', {}, t('whatif.caption', { provider: shares.provider / 100, academy: shares.academy / 100,
      community_fund: shares.community_fund / 100 })),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('whatif.party')),
      ['whatif.actual', 'whatif.simulated', 'whatif.difference'].map((key) => h('th', { scope: 'col', class: 'number' },
        t(key))))),
    h('tbody', {}, rows),
    h('tfoot', {}, h('tr', {}, h('th', { scope: 'row' }, t('report.net_revenue_cents')),
      h('td', { class: 'number' }, money(result.actual.total.net_revenue_cents, 'EUR')),
      h('td', { class: 'number' }, money(result.simulated.total.net_revenue_cents, 'EUR')),
      h('td', { class: 'number' }, money(result.simulated.total.net_revenue_cents
        - result.actual.total.net_revenue_cents, 'EUR'))))));
}

export async function simulatePage({ query }) {
  if (!signedIn()) throw new SignInNeeded(false);
  const values = defaults(query);
  const policies = await api('/revenue-policies', { auth: true });
  const inForce = policies.items.find((item) => item.version === policies.in_force) || {};
  const sharesError = h('p', { class: 'field-error', id: 'shares-error', hidden: true });
  const shares = h('fieldset', { class: 'shares', 'data-api-name': 'shares', 'data-error-id': sharesError.id },
    h('legend', {}, t('whatif.shares')),
    h('p', { class: 'hint' }, t('whatif.shares.hint', { version: policies.in_force })),
    h('div', { class: 'filter-grid' }, PARTIES.map((party) => field(t(`whatif.share.${party}`),
      input(`${party}_percent`, { type: 'number', min: 0, max: 100, step: 1, required: true, inputmode: 'numeric',
        value: query.get(party) ?? Math.round(inForce[`${party}_percent`] ?? 0) })))),
    sharesError);
  const results = h('div', { class: 'results', 'aria-live': 'polite' });
  const form = h('form', { class: 'search-form', novalidate: true }, shares,
    h('div', { class: 'filter-grid' }, await periodFields(values)),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, t('whatif.run'))));
  onSubmit(form, async (data) => {
    const chosen = formValues(form);
    const percent = (party) => {
      const text = String(data.get(`${party}_percent`) || '').trim();
      return /^\d+$/.test(text) ? Number(text) : text;
    };
    const body = { policy: Object.fromEntries(PARTIES.map((party) => [`${party}_percent`, percent(party)])),
      ...period(chosen.from, chosen.to), group_by: chosen.group_by };
    results.setAttribute('aria-busy', 'true');
    results.replaceChildren(progress(t('whatif.loading')));
    let result;
    try {
      result = await api('/reports/simulate', { method: 'POST', auth: true, body });
    } catch (error) {
      results.replaceChildren();
      if (error.name === 'ApiError' && error.problem?.errors) error.problem.errors = flatErrors(error.problem);
      throw error;
    } finally {
      results.removeAttribute('aria-busy');
    }
    const heading = h('h2', { tabindex: '-1' }, t('whatif.result'));
    results.replaceChildren(heading, comparison(result),
      h('p', { class: 'hint' }, t('whatif.note')));
    heading.focus();
  });
  return h('section', {}, h('h1', {}, t('whatif.title')), subNav('#/reports/simulate'),
    h('p', {}, t('whatif.text')), form, results);
}

export async function revenuePoliciesPage() {
  if (!signedIn()) throw new SignInNeeded(false);
  const policies = await api('/revenue-policies', { auth: true });
  const rows = [...policies.items].sort((a, b) => b.version - a.version).map((policy) => h('tr', {
    class: policy.version === policies.in_force ? 'in-force' : null },
  h('th', { scope: 'row' }, String(policy.version),
    policy.version === policies.in_force ? h('span', { class: 'meta' }, ` (${t('policies.in_force')})`) : null),
  PARTIES.map((party) => h('td', { class: 'number' }, `${policy[`${party}_percent`]} %`)),
  h('td', {}, date(policy.effective_from))));
  return h('section', {}, h('h1', {}, t('policies.title')), readsReports() ? subNav('#/revenue-policies') : null,
    h('p', {}, t('policies.text')),
    h('div', { class: 'table-wrap' }, h('table', {},
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('policies.version')),
        PARTIES.map((party) => h('th', { scope: 'col', class: 'number' }, label('party', party))),
        h('th', { scope: 'col' }, t('policies.effective')))),
      h('tbody', {}, rows))));
}
