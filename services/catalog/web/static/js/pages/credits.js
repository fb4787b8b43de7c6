// Teach-to-learn credits: the balance and its movements; a provider's payout statements; released earnings
// turned into credits (with the academy's bonus) from either page.
import { api, currentMember, idempotencyKey, SignInNeeded, signedIn } from '../api.js';
import { field, h, input } from '../dom.js';
import { onSubmit } from '../forms.js';
import { date, label, money, t } from '../i18n.js';
import { parseCents } from './provide.js';

/** An amount in euros as the page shows it in a field ("146.20"), for cents from the API. */
export function euros(cents) {
  return (cents / 100).toFixed(2);
}

function pairList(pairs) {
  return h('dl', { class: 'pairs' }, pairs.map(([term, value]) => [h('dt', {}, term), h('dd', {}, value)]));
}

/** Converting released earnings; `done` gets the API's answer once the conversion is made. */
function conversionForm(credits, done) {
  const form = h('form', { class: 'narrow', novalidate: true },
    h('h2', {}, t('credits.convert.title')),
    h('p', {}, t('credits.convert.text', { bonus: credits.bonus_percent })),
    field(t('credits.convert.amount'), input('amount', { type: 'text', inputmode: 'decimal', required: true,
      value: euros(credits.available_earnings_cents), 'data-api-name': 'amount_cents' }),
    t('credits.convert.hint', { available: money(credits.available_earnings_cents, 'EUR') })),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, t('credits.convert.submit'))));
  // One key per intent: a retry after a lost answer converts once.
  let key = idempotencyKey();
  onSubmit(form, async (data) => {
    const cents = parseCents(data.get('amount'));
    // An amount the page cannot read goes as it is, so that the API names the field.
    const body = { amount_cents: cents === null ? String(data.get('amount')) : cents };
    const conversion = await api('/credits/conversions', { method: 'POST', auth: true, body,
      headers: { 'Idempotency-Key': key } });
    key = idempotencyKey();
    done(conversion);
  });
  return form;
}

function convertedNotice(conversion) {
  return h('p', { class: 'notice', role: 'status', tabindex: '-1' }, t('credits.converted', {
    amount: money(conversion.amount_cents, 'EUR'), bonus: money(conversion.bonus_cents, 'EUR'),
    balance: money(conversion.balance_cents, 'EUR') }));
}

/** After a conversion the page is drawn again from the API, with what was done said at its top. */
function conversionSection(credits, rerender) {
  if (credits.available_earnings_cents <= 0) return h('p', { class: 'hint' }, t('credits.convert.none'));
  return conversionForm(credits, rerender);
}

async function redraw(section, build, conversion) {
  const fresh = await build();
  const notice = convertedNotice(conversion);
  fresh.querySelector('h1').after(notice);
  section.replaceWith(fresh);
  notice.focus();
}

function movementRows(items) {
  return items.map((movement) => h('tr', {},
    h('td', {}, date(movement.occurred_at)),
    h('th', { scope: 'row' }, label('credits.kind', movement.kind),
      movement.invoice_id ? [' ', h('a', { href: `#/invoices/${encodeURIComponent(movement.invoice_id)}` },
        t('credits.invoice'))] : null),
    h('td', { class: 'number' }, money(movement.cents, 'EUR'))));
}

export async function creditsPage() {
  if (!signedIn()) throw new SignInNeeded(false);
  const build = async () => {
    const credits = await api('/credits?per_page=100', { auth: true });
    const section = h('section', {}, h('h1', {}, t('credits.title')),
      pairList([
        [t('credits.balance'), h('span', { id: 'credits-balance' }, money(credits.balance_cents, 'EUR'))],
        [t('credits.available'), money(credits.available_earnings_cents, 'EUR')],
        [t('credits.bonus'), `${credits.bonus_percent} %`],
      ]),
      h('p', {}, t('credits.use'), ' ', h('a', { href: '#/invoices' }, t('nav.invoices')), ' · ',
        h('a', { href: '#/payouts' }, t('payouts.title'))));
    section.append(conversionSection(credits, (conversion) => redraw(section, build, conversion)));
    section.append(h('h2', {}, t('credits.history')), credits.items.length
      ? h('div', { class: 'table-wrap' }, h('table', {},
        h('thead', {}, h('tr', {}, ['credits.date', 'credits.what', 'credits.amount']
          .map((key) => h('th', { scope: 'col' }, t(key))))),
        h('tbody', {}, movementRows(credits.items))))
      : h('p', {}, t('credits.none')));
    return section;
  };
  return build();
}

function payoutItem(payout) {
  return h('li', { class: 'card payout' },
    h('h2', {}, t('payouts.period', { period: payout.period })),
    pairList([
      [t('payouts.issued'), date(payout.issued_at)],
      [t('payouts.paid'), money(payout.amount_cents, payout.currency)],
      [t('payouts.credits'), money(payout.credits_cents, payout.currency)],
    ]),
    payout.lines.length
      ? h('div', { class: 'table-wrap' }, h('table', {},
        h('caption', {}, t('payouts.lines')),
        h('thead', {}, h('tr', {}, ['credits.date', 'credits.what', 'credits.amount']
          .map((key) => h('th', { scope: 'col' }, t(key))))),
        h('tbody', {}, payout.lines.map((line) => h('tr', {},
          h('td', {}, date(line.occurred_at)),
          h('th', { scope: 'row' }, label('payouts.kind', line.kind)),
          h('td', { class: 'number' }, money(line.cents, payout.currency)))))))
      : null);
}

export async function payoutsPage() {
  if (!signedIn()) throw new SignInNeeded(false);
  const build = async () => {
    // Operators would get everyone's statements without naming whose; this page is the member's own.
    const mine = new URLSearchParams({ per_page: '24' });
    if (currentMember()?.id) mine.set('provider_id', currentMember().id);
    const [payouts, credits] = await Promise.all([api(`/payouts?${mine}`, { auth: true }),
      api('/credits?per_page=1', { auth: true })]);
    const section = h('section', {}, h('h1', {}, t('payouts.title')),
      h('p', {}, t('payouts.text')),
      pairList([
        [t('credits.available'), h('span', { id: 'available-earnings' },
          money(credits.available_earnings_cents, 'EUR'))],
        [t('credits.balance'), h('a', { href: '#/credits' }, money(credits.balance_cents, 'EUR'))],
      ]));
    section.append(conversionSection(credits, (conversion) => redraw(section, build, conversion)));
    section.append(h('h2', {}, t('payouts.statements')), payouts.items.length
      ? h('ul', { class: 'cards payouts' }, payouts.items.map(payoutItem))
      : h('p', {}, t('payouts.none')));
    return section;
  };
  return build();
}
