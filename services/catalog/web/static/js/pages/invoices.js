// A member's invoices, and one invoice with its lines, VAT and any credit note.
import { api, SignInNeeded, signedIn } from '../api.js';
import { h } from '../dom.js';
import { date, money, t } from '../i18n.js';

export async function invoicesPage() {
  const result = await api('/invoices?per_page=100', { auth: true });
  if (!result.items.length) return h('section', {}, h('h1', {}, t('invoices.title')), h('p', {}, t('invoices.none')));
  const header = ['invoices.number', 'invoices.date', 'invoices.description', 'invoices.total']
    .map((key) => h('th', { scope: 'col' }, t(key)));
  const rows = result.items.map((invoice) => h('tr', {},
    h('th', { scope: 'row' }, h('a', { href: `#/invoices/${encodeURIComponent(invoice.id)}` }, invoice.number),
      invoice.credit_note ? h('span', { class: 'meta' }, ` (${t('invoice.credited')})`) : null),
    h('td', {}, date(invoice.issued_at)),
    h('td', {}, invoice.description),
    h('td', { class: 'number' }, money(invoice.total_cents, invoice.currency))));
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

export async function invoicePage({ params }) {
  if (!signedIn()) throw new SignInNeeded(false);
  const invoice = await api(`/invoices/${encodeURIComponent(params[0])}`, { auth: true });
  const note = invoice.credit_note;
  return h('article', {}, h('h1', {}, t('invoice.title', { number: invoice.number })),
    pairList([
      [t('invoices.date'), date(invoice.issued_at)],
      invoice.seller ? [t('invoice.seller'), invoice.seller] : null,
      invoice.buyer_name ? [t('invoice.buyer'), invoice.buyer_name] : null,
      [t('invoices.description'), invoice.description],
    ].filter(Boolean)),
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
          [t('invoice.reason'), note.reason],
          [t('invoice.credited.amount'), money(note.total_cents, note.currency)],
          [t('invoice.remaining'), money(note.fee_cents, note.currency)],
        ]))
      : null,
    h('p', {}, h('a', { href: '#/invoices' }, t('invoice.all'))));
}
