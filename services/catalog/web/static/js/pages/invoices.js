// A member's invoices.
import { api } from '../api.js';
import { h } from '../dom.js';
import { date, money, t } from '../i18n.js';

export async function invoicesPage() {
  const result = await api('/invoices?per_page=100', { auth: true });
  if (!result.items.length) return h('section', {}, h('h1', {}, t('invoices.title')), h('p', {}, t('invoices.none')));
  const header = ['invoices.number', 'invoices.date', 'invoices.description', 'invoices.total']
    .map((key) => h('th', { scope: 'col' }, t(key)));
  const rows = result.items.map((invoice) => h('tr', {},
    h('th', { scope: 'row' }, invoice.number),
    h('td', {}, date(invoice.issued_at)),
    h('td', {}, invoice.description),
    h('td', { class: 'number' }, money(invoice.total_cents, invoice.currency))));
  return h('section', {}, h('h1', {}, t('invoices.title')),
    h('div', { class: 'table-wrap' }, h('table', {}, h('thead', {}, h('tr', {}, header)), h('tbody', {}, rows))));
}
