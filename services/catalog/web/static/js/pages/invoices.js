// A member's invoices, and one invoice with its lines, VAT, payments, any credit note, its PDFs, and paying it
// from the member's credits.
import { api, idempotencyKey, SignInNeeded, signedIn } from '../api.js';
import { field, h, input } from '../dom.js';
import { describeError, onSubmit } from '../forms.js';
import { date, label, money, t } from '../i18n.js';
import { euros } from './credits.js';
import { parseCents } from './provide.js';

export async function invoicesPage() {
  const result = await api('/invoices?per_page=100', { auth: true });
  if (!result.items.length) return h('section', {}, h('h1', {}, t('invoices.title')), h('p', {}, t('invoices.none')));
  const header = ['invoices.number', 'invoices.date', 'invoices.description', 'invoices.total', 'invoice.status',
    'invoice.open']
    .map((key) => h('th', { scope: 'col' }, t(key)));
  const rows = result.items.map((invoice) => h('tr', {},
    h('th', { scope: 'row' }, h('a', { href: `#/invoices/${encodeURIComponent(invoice.id)}` }, invoice.number),
      invoice.credit_note ? h('span', { class: 'meta' }, ` (${t('invoice.credited')})`) : null),
    h('td', {}, date(invoice.issued_at)),
    h('td', {}, invoice.description),
    h('td', { class: 'number' }, money(invoice.total_cents, invoice.currency)),
    h('td', {}, label('invoice.status', invoice.status)),
    h('td', { class: 'number' }, money(invoice.open_cents, invoice.currency))));
  return h('section', {}, h('h1', {}, t('invoices.title')),
    h('div', { class: 'table-wrap' }, h('table', {}, h('thead', {}, h('tr', {}, header)), h('tbody', {}, rows))));
}

function amounts(document) {
  const pairs = [];
  if (document.net_cents !== null && document.net_cents !== undefined) {
    pairs.push([t('invoice.net'), money(document.net_cents, document.currency)]);
  }
  if (document.vat_cents !== null && document.vat_cents !== undefined) {
    const rate = document.vat_rate ?? null;
    pairs.push([rate === null ? t('invoice.vat') : t('invoice.vat.rate', { rate }), money(document.vat_cents,
      document.currency)]);
  }
  pairs.push([t('invoice.gross'), money(document.total_cents, document.currency)]);
  return pairs;
}

function pairList(pairs) {
  return h('dl', { class: 'pairs' }, pairs.map(([term, value]) => [h('dt', {}, term), h('dd', {}, value)]));
}

/** A PDF of the invoice or its credit note: the API wants the member's token, so it is fetched, then saved. */
function pdfButton(path, filename, text) {
  const alert = h('span', { class: 'field-error', role: 'alert', hidden: true });
  const button = h('button', { type: 'button', class: 'secondary', onclick: async () => {
    alert.hidden = true;
    try {
      const file = await api(path, { auth: true, as: 'blob', accept: 'application/pdf' });
      const url = URL.createObjectURL(file);
      const link = h('a', { href: url, download: filename, hidden: true });
      button.after(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (error) {
      if (error.name !== 'ApiError' || error.handled) throw error;
      alert.textContent = describeError(error);
      alert.hidden = false;
    }
  } }, text);
  return [button, alert];
}

function paymentsTable(invoice) {
  if (!(invoice.payments || []).length) return h('p', {}, t('invoice.payments.none'));
  return h('div', { class: 'table-wrap' }, h('table', {},
    h('thead', {}, h('tr', {}, ['invoices.date', 'invoice.payment.method', 'invoice.payment.reference',
      'invoice.payment.amount'].map((key) => h('th', { scope: 'col' }, t(key))))),
    h('tbody', {}, invoice.payments.map((payment) => h('tr', {},
      h('td', {}, date(payment.received_at)),
      h('th', { scope: 'row' }, label('invoice.method', payment.method)),
      h('td', {}, payment.reference || ''),
      // A refund is money going back: shown with its sign, so the column adds up to what was paid.
      h('td', { class: 'number' }, money(payment.method.endsWith('_refund') ? -payment.amount_cents
        : payment.amount_cents, invoice.currency)))))));
}

/** Paying what is open from credits, offered when the member holds credits; the API refuses more than either. */
function payWithCreditsForm(invoice, credits) {
  const amount = Math.min(invoice.open_cents, credits.balance_cents);
  const form = h('form', { class: 'narrow', novalidate: true },
    h('h2', {}, t('invoice.paycredits.title')),
    h('p', {}, t('invoice.paycredits.text', { balance: money(credits.balance_cents, 'EUR') })),
    field(t('invoice.paycredits.amount'), input('amount', { type: 'text', inputmode: 'decimal', required: true,
      value: euros(amount), 'data-api-name': 'amount_cents' }),
    t('invoice.paycredits.hint', { open: money(invoice.open_cents, invoice.currency) })),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, t('invoice.paycredits.submit'))));
  // One key per intent: a retry after a lost answer pays once.
  let key = idempotencyKey();
  onSubmit(form, async (data) => {
    const cents = parseCents(data.get('amount'));
    const body = { amount_cents: cents === null ? String(data.get('amount')) : cents };
    const payment = await api(`/invoices/${encodeURIComponent(invoice.id)}/pay-with-credits`, { method: 'POST',
      auth: true, body, headers: { 'Idempotency-Key': key } });
    key = idempotencyKey();
    const page = await invoicePage({ params: [invoice.id] });
    const notice = h('p', { class: 'notice', role: 'status', tabindex: '-1' }, t('invoice.paycredits.done', {
      amount: money(payment.amount_cents, invoice.currency) }));
    page.querySelector('h1').after(notice);
    form.closest('article').replaceWith(page);
    notice.focus();
  });
  return form;
}

export async function invoicePage({ params }) {
  if (!signedIn()) throw new SignInNeeded(false);
  const [invoice, credits] = await Promise.all([api(`/invoices/${encodeURIComponent(params[0])}`, { auth: true }),
    api('/credits?per_page=1', { auth: true }).catch(() => null)]);
  const note = invoice.credit_note;
  const payable = invoice.status === 'open' && invoice.open_cents > 0;
  return h('article', {}, h('h1', {}, t('invoice.title', { number: invoice.number })),
    pairList([
      [t('invoices.date'), date(invoice.issued_at)],
      invoice.seller ? [t('invoice.seller'), invoice.seller] : null,
      invoice.buyer_name ? [t('invoice.buyer'), invoice.buyer_name] : null,
      [t('invoices.description'), invoice.description],
      [t('invoice.status'), h('span', { id: 'invoice-status' }, label('invoice.status', invoice.status))],
      [t('invoice.paid'), money(invoice.paid_cents, invoice.currency)],
      [t('invoice.open'), money(invoice.open_cents, invoice.currency)],
    ].filter(Boolean)),
    h('div', { class: 'actions' }, pdfButton(`/invoices/${encodeURIComponent(invoice.id)}.pdf`,
      `${invoice.number}.pdf`, t('invoice.pdf'))),
    (invoice.lines || []).length
      ? h('div', { class: 'table-wrap' }, h('table', {},
        h('caption', {}, t('invoice.lines')),
        h('thead', {}, h('tr', {}, ['invoices.description', 'invoice.quantity', 'invoice.net', 'invoice.vat',
          'invoice.gross'].map((key) => h('th', { scope: 'col' }, t(key))))),
        h('tbody', {}, invoice.lines.map((line) => h('tr', {},
          h('th', { scope: 'row' }, line.description),
          h('td', { class: 'number' }, String(line.quantity)),
          h('td', { class: 'number' }, money(line.net_cents, invoice.currency)),
          h('td', { class: 'number' }, `${money(line.vat_cents, invoice.currency)} (${line.vat_rate} %)`),
          h('td', { class: 'number' }, money(line.gross_cents, invoice.currency)))))))
      : null,
    h('h2', {}, t('invoice.totals')), pairList(amounts(invoice)),
    note
      ? h('section', { class: 'notice' }, h('h2', {}, t('invoice.creditnote', { number: note.number })),
        pairList([
          [t('invoices.date'), date(note.issued_at)],
          [t('invoice.reason'), label('invoice.reason', note.reason)],
          [t('invoice.credited.amount'), money(note.total_cents, note.currency)],
          [t('invoice.remaining'), money(note.fee_cents, note.currency)],
        ]),
        h('div', { class: 'actions' }, pdfButton(`/invoices/${encodeURIComponent(invoice.id)}/credit-note.pdf`,
          `${note.number}.pdf`, t('invoice.creditnote.pdf'))))
      : null,
    h('h2', {}, t('invoice.payments')), paymentsTable(invoice),
    payable && credits?.balance_cents > 0 ? payWithCreditsForm(invoice, credits) : null,
    h('p', {}, h('a', { href: '#/invoices' }, t('invoice.all'))));
}
