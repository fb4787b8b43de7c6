// A member's bookings: where and when, the calendar file, cancelling with the expected fee shown first.
import { api } from '../api.js';
import { h, select } from '../dom.js';
import { describeError } from '../forms.js';
import { dateTime, label, money, t } from '../i18n.js';

const DAY_MS = 24 * 60 * 60 * 1000;
// The standard policy (README): free until 14 days before the start, 50 % until 3 days, then 100 %; free for
// 24 hours after a promotion. An offer may carry its own, which the API does not show per booking yet.
const STANDARD_TIERS = [[14, 0], [3, 50], [0, 100]];

export function expectedFee(booking, now = new Date()) {
  const paid = booking.price_cents || 0;
  if (booking.status !== 'confirmed') return 0;
  if (booking.promoted_at && now - new Date(booking.promoted_at) < DAY_MS) return 0;
  const ahead = new Date(booking.starts_at) - now;
  const [, percent] = STANDARD_TIERS.find(([days]) => ahead >= days * DAY_MS) || STANDARD_TIERS.at(-1);
  return Math.round((paid * percent) / 100);
}

const titles = new Map();

async function offerTitle(offerId) {
  if (!titles.has(offerId)) {
    titles.set(offerId, api(`/offers/${encodeURIComponent(offerId)}`).then((offer) => offer.title).catch(() => null));
  }
  return titles.get(offerId);
}

async function downloadCalendar(booking, button) {
  const file = await api(`/bookings/${encodeURIComponent(booking.id)}/calendar.ics`, { auth: true, as: 'blob',
    accept: 'text/calendar' });
  const url = URL.createObjectURL(file);
  const link = h('a', { href: url, download: `booking-${booking.id}.ics`, hidden: true });
  button.after(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function statusText(booking) {
  if (booking.status === 'waitlisted') return t('booking.status.waitlisted', { position: booking.waiting_position });
  return t(`booking.status.${booking.status}`);
}

function cancelPanel(booking, item, actions) {
  const fee = expectedFee(booking);
  const paid = booking.status === 'confirmed' ? booking.price_cents || 0 : 0;
  const question = h('div', { class: 'confirm', role: 'group', 'aria-labelledby': `cancel-${booking.id}-q` },
    h('p', { id: `cancel-${booking.id}-q`, class: 'question' }, t('booking.cancel.question')),
    booking.status === 'confirmed'
      ? [h('p', {}, t('booking.cancel.fee', { fee: money(fee, booking.currency),
        refund: money(paid - fee, booking.currency) })), h('p', { class: 'hint' }, t('booking.cancel.policy'))]
      : h('p', {}, t('booking.cancel.free')));
  const alert = h('p', { class: 'form-alert', role: 'alert', hidden: true });
  const keep = h('button', { type: 'button', class: 'secondary', onclick: () => {
    question.remove();
    actions.hidden = false;
    actions.querySelector('.cancel').focus();
  } }, t('booking.cancel.keep'));
  const confirm = h('button', { type: 'button', class: 'danger', onclick: async () => {
    confirm.disabled = true;
    try {
      const cancelled = await api(`/bookings/${encodeURIComponent(booking.id)}/cancel`, { method: 'POST', auth: true });
      const done = h('p', { class: 'notice', role: 'status', tabindex: '-1' }, t('booking.cancelled', {
        fee: money(cancelled.fee_cents || 0, cancelled.currency), refund: money(cancelled.refund_cents || 0,
          cancelled.currency) }));
      item.replaceWith(bookingItem(cancelled, await offerTitle(cancelled.offer_id), done));
      done.focus();
    } catch (error) {
      if (error.name !== 'ApiError' || error.handled) throw error;
      alert.textContent = describeError(error);
      alert.hidden = false;
      confirm.disabled = false;
    }
  } }, t('booking.cancel.confirm'));
  question.append(alert, h('div', { class: 'actions' }, confirm, keep));
  return { question, focus: () => confirm.focus() };
}

function bookingItem(booking, title, notice) {
  const actions = h('div', { class: 'actions' });
  const item = h('li', { class: `card booking status-${booking.status}` },
    h('h2', {}, h('a', { href: `#/offers/${encodeURIComponent(booking.offer_id)}` }, title || booking.offer_id)),
    h('p', { class: 'status' }, statusText(booking)),
    h('dl', { class: 'pairs' },
      h('dt', {}, t('booking.when')), h('dd', {}, dateTime(booking.starts_at)),
      h('dt', {}, t('booking.format')), h('dd', {}, label('format', booking.format)),
      booking.location ? [h('dt', {}, t('booking.place')), h('dd', {}, booking.location)] : null,
      booking.link ? [h('dt', {}, t('booking.link')), h('dd', {}, h('a', { href: booking.link, rel: 'noopener noreferrer',
        target: '_blank' }, booking.link))] : null,
      booking.price_cents !== null && booking.price_cents !== undefined
        ? [h('dt', {}, t('booking.price')), h('dd', {}, money(booking.price_cents, booking.currency))] : null),
    notice || null, actions);
  const upcoming = new Date(booking.starts_at) > new Date();
  if (booking.status === 'confirmed') {
    const calendar = h('button', { type: 'button', class: 'secondary', onclick: () => downloadCalendar(booking, calendar) },
      t('booking.calendar'));
    actions.append(calendar);
  }
  if (upcoming && booking.status !== 'cancelled') {
    const cancel = h('button', { type: 'button', class: 'secondary cancel', onclick: () => {
      const panel = cancelPanel(booking, item, actions);
      actions.hidden = true;
      actions.after(panel.question);
      panel.focus();
    } }, booking.status === 'confirmed' ? t('booking.cancel') : t('booking.leave'));
    actions.append(cancel);
  }
  return item;
}

export async function bookingsPage({ query }) {
  const when = ['upcoming', 'past', 'all'].includes(query.get('when')) ? query.get('when') : 'upcoming';
  const params = new URLSearchParams({ per_page: '50' });
  if (when !== 'all') params.set('when', when);
  const result = await api(`/bookings?${params}`, { auth: true });
  const names = await Promise.all(result.items.map((booking) => offerTitle(booking.offer_id)));
  const filter = select('when', ['upcoming', 'past', 'all'].map((value) => [value, t(`bookings.${value}`)]), when,
    { id: 'bookings-when' });
  filter.addEventListener('change', () => {
    location.hash = `#/bookings?when=${filter.value}`;
  });
  return h('section', {}, h('h1', {}, t('bookings.title')),
    h('div', { class: 'field inline' }, h('label', { for: 'bookings-when' }, t('bookings.when')), filter),
    result.items.length
      ? h('ul', { class: 'cards bookings' }, result.items.map((booking, index) => bookingItem(booking, names[index])))
      : h('p', {}, t('bookings.none'), ' ', h('a', { href: '#/' }, t('bookings.find'))));
}
