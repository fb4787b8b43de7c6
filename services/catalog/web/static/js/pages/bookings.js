// A member's bookings: where and when, the calendar file, cancelling with the expected fee shown first;
// an attended session rated, and the rating changed for 30 days.
import { api, ApiError } from '../api.js';
import { field, h, select } from '../dom.js';
import { describeError, onSubmit } from '../forms.js';
import { dateTime, label, money, t } from '../i18n.js';
import { expectedFee, policyText, STANDARD_TIERS } from './policy.js';

const offers = new Map();

/** The offer of a booking, read once per page: its title, and its cancellation tiers where it states them. */
async function offerOf(offerId) {
  if (!offers.has(offerId)) {
    offers.set(offerId, api(`/offers/${encodeURIComponent(offerId)}`).catch(() => null));
  }
  return offers.get(offerId);
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

/** What cancelling is expected to cost: by the offer's own tiers where it states them, else the standard ones.
 * The API does not say which policy a booking was made under; a changed policy applies to later bookings only. */
function feeLines(booking, offer) {
  const paid = booking.price_cents || 0;
  if (offer?.fee_tiers) {
    const fee = expectedFee(booking, offer.fee_tiers);
    return [h('p', {}, t('booking.cancel.expected', { fee: money(fee, booking.currency),
      refund: money(paid - fee, booking.currency) })), h('p', { class: 'hint' }, policyText(offer.fee_tiers))];
  }
  const fee = expectedFee(booking, STANDARD_TIERS);
  return [h('p', {}, t('booking.cancel.fee', { fee: money(fee, booking.currency),
    refund: money(paid - fee, booking.currency) })), h('p', { class: 'hint' }, t('booking.cancel.policy'))];
}

function cancelPanel(booking, offer, item, actions) {
  const question = h('div', { class: 'confirm', role: 'group', 'aria-labelledby': `cancel-${booking.id}-q` },
    h('p', { id: `cancel-${booking.id}-q`, class: 'question' }, t('booking.cancel.question')),
    booking.status === 'confirmed' ? feeLines(booking, offer) : h('p', {}, t('booking.cancel.free')));
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
      item.replaceWith(bookingItem(cancelled, offer, done));
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

/** The API's refusals that concern the stars as a whole, told in words at them (forms.js places `errors`). */
function atStars(error, words) {
  if (error.name === 'ApiError' && words[error.status]) {
    error.problem = { ...(error.problem || {}), errors: { stars: [words[error.status]] } };
  }
  return error;
}

function ratingForm(booking, rating, done) {
  const prefix = `rate-${booking.id}`;
  const starsError = h('p', { class: 'field-error', id: `${prefix}-stars-error`, hidden: true });
  const stars = h('fieldset', { class: 'choices' }, h('legend', {}, t('rate.stars')),
    [1, 2, 3, 4, 5].map((count) => h('div', { class: 'choice' },
      h('input', { type: 'radio', name: 'stars', value: String(count), id: `${prefix}-${count}`, required: true,
        checked: rating?.stars === count, 'data-error-id': starsError.id }),
      h('label', { for: `${prefix}-${count}` }, t('ratings.stars', { stars: count })))));
  const comment = h('textarea', { name: 'comment', rows: '3', maxlength: 2000 });
  comment.value = rating?.comment || '';
  const form = h('form', { class: 'rating-form', novalidate: true, 'aria-label': t('rate.heading') },
    stars, starsError, field(t('rate.comment'), comment),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, rating ? t('rate.save') : t('rate.submit'))));
  onSubmit(form, async (data) => {
    const body = { stars: Number(data.get('stars')) || null, comment: String(data.get('comment') || '') };
    // Without stars the API would answer "may not be null"; the page says what to do instead.
    if (!body.stars) throw atStars(new ApiError(422, null), { 422: t('rate.choose') });
    try {
      const saved = rating
        ? await api(`/ratings/${encodeURIComponent(rating.id)}`, { method: 'PATCH', auth: true, body })
        : await api(`/sessions/${encodeURIComponent(booking.session_id)}/ratings`, { method: 'POST', auth: true,
          body });
      done(saved, rating ? t('rate.saved') : t('rate.thanks'));
    } catch (error) {
      throw atStars(error, rating ? { 404: t('rate.gone'), 409: t('rate.late') }
        : { 403: t('rate.forbidden'), 409: t('rate.twice') });
    }
  });
  return form;
}

function ratingView(booking, rating, notice) {
  const editable = new Date(rating.editable_until) > new Date();
  const view = h('div', { class: 'my-rating' },
    h('p', { class: 'stars' }, t('ratings.stars', { stars: rating.stars })),
    rating.comment ? h('p', {}, rating.comment) : null,
    rating.answer ? h('p', { class: 'meta' }, t('ratings.answer', { text: rating.answer })) : null,
    h('p', { class: 'hint' }, editable ? t('rate.until', { date: dateTime(rating.editable_until) }) : t('rate.closed')),
    notice ? h('p', { class: 'notice', role: 'status', tabindex: '-1' }, notice) : null);
  if (editable) {
    const actions = h('div', { class: 'actions' });
    const change = h('button', { type: 'button', class: 'secondary', onclick: () => {
      const form = ratingForm(booking, rating, (saved, words) => {
        const next = ratingView(booking, saved, words);
        view.replaceWith(next);
        next.querySelector('.notice').focus();
      });
      actions.replaceWith(form);
      (form.querySelector('input:checked') || form.querySelector('input')).focus();
    } }, t('rate.change'));
    actions.append(change);
    view.append(actions);
  }
  return view;
}

/** For a session the member attended: their rating, or the form to give one. */
async function ratingPart(booking) {
  const headingId = `rate-${booking.id}-heading`;
  const part = h('section', { class: 'rating', 'aria-labelledby': headingId },
    h('h3', { id: headingId }, t('rate.heading')));
  const rating = await api(`/sessions/${encodeURIComponent(booking.session_id)}/ratings/mine`, { auth: true })
    .catch((error) => {
      if (error.name !== 'ApiError' || error.status !== 404) throw error;
      return null;  // not rated yet
    });
  if (rating) {
    part.append(ratingView(booking, rating));
    return part;
  }
  const form = ratingForm(booking, null, (saved, words) => {
    const view = ratingView(booking, saved, words);
    form.replaceWith(view);
    view.querySelector('.notice').focus();
  });
  part.append(h('p', {}, t('rate.intro')), form);
  return part;
}

function bookingItem(booking, offer, notice, rating) {
  const actions = h('div', { class: 'actions' });
  const item = h('li', { class: `card booking status-${booking.status}` },
    h('h2', {}, h('a', { href: `#/offers/${encodeURIComponent(booking.offer_id)}` }, offer?.title || booking.offer_id)),
    h('p', { class: 'status' }, statusText(booking)),
    h('dl', { class: 'pairs' },
      h('dt', {}, t('booking.when')), h('dd', {}, dateTime(booking.starts_at)),
      h('dt', {}, t('booking.format')), h('dd', {}, label('format', booking.format)),
      booking.location ? [h('dt', {}, t('booking.place')), h('dd', {}, booking.location)] : null,
      booking.link ? [h('dt', {}, t('booking.link')), h('dd', {}, h('a', { href: booking.link, rel: 'noopener noreferrer',
        target: '_blank' }, booking.link))] : null,
      booking.price_cents !== null && booking.price_cents !== undefined
        ? [h('dt', {}, t('booking.price')), h('dd', {}, money(booking.price_cents, booking.currency))] : null),
    notice || null, actions, rating || null);
  const upcoming = new Date(booking.starts_at) > new Date();
  if (booking.status === 'confirmed') {
    const calendar = h('button', { type: 'button', class: 'secondary', onclick: () => downloadCalendar(booking, calendar) },
      t('booking.calendar'));
    actions.append(calendar);
  }
  if (upcoming && booking.status !== 'cancelled') {
    const cancel = h('button', { type: 'button', class: 'secondary cancel', onclick: () => {
      const panel = cancelPanel(booking, offer, item, actions);
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
  const offerList = await Promise.all(result.items.map((booking) => offerOf(booking.offer_id)));
  // `attended` is what the provider recorded; only attendees may rate (anyone else would get a 403).
  const ratingParts = await Promise.all(result.items.map((booking) => (booking.attended ? ratingPart(booking) : null)));
  const filter = select('when', ['upcoming', 'past', 'all'].map((value) => [value, t(`bookings.${value}`)]), when,
    { id: 'bookings-when' });
  filter.addEventListener('change', () => {
    location.hash = `#/bookings?when=${filter.value}`;
  });
  return h('section', {}, h('h1', {}, t('bookings.title')),
    h('div', { class: 'field inline' }, h('label', { for: 'bookings-when' }, t('bookings.when')), filter),
    result.items.length
      ? h('ul', { class: 'cards bookings' }, result.items.map((booking, index) => bookingItem(booking, offerList[index], null,
        ratingParts[index])))
      : h('p', {}, t('bookings.none'), ' ', h('a', { href: '#/' }, t('bookings.find'))));
}
