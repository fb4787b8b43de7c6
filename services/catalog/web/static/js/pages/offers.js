// Everyone: search and browse offers; an offer with its dates; a member books a format of a date.
import { api, idempotencyKey, parameterValues, signedIn } from '../api.js';
import { field, h, input, select } from '../dom.js';
import { onSubmit, showProblem } from '../forms.js';
import { currentLanguage, dateTime, label, money, t } from '../i18n.js';
import { policyText } from './policy.js';
import { isProvider, offerManagement, parseCents, sessionTools } from './provide.js';

// What the search form keeps in the page's address; the API's names where they differ are mapped below.
const FILTERS = ['q', 'format', 'level', 'language', 'area', 'competence', 'max_price', 'from', 'to', 'free_seats',
  'sort'];
const PER_PAGE = 10;
const SEARCH_LANGUAGES = ['de', 'en'];
// '' lets the API choose: by relevance when there are words, else the newest first.
const SORTS = ['', 'newest', 'price', 'next_session', 'rating'];

function languageName(code) {
  try {
    return new Intl.DisplayNames([currentLanguage()], { type: 'language' }).of(code) || code;
  } catch {
    return code;
  }
}

/** Options of a filter with the number of offers each would find under the other filters (the API's facets). */
function facetChoices(values, counts, describe) {
  return [['', t('search.any')], ...values.map((value) => {
    const count = counts?.[String(value)];
    return [String(value), count === undefined ? describe(value) : `${describe(value)} (${count})`];
  })];
}

function searchForm(query, choices, facets = {}) {
  const languages = [...new Set([...SEARCH_LANGUAGES, ...Object.keys(facets.language || {}),
    ...(query.get('language') ? [query.get('language')] : [])])];
  // On a phone the filters fold away behind one line, unless one of them is in use.
  const filtering = FILTERS.some((name) => name !== 'q' && query.get(name));
  const wide = window.matchMedia('(min-width: 40rem)').matches;
  const form = h('form', { role: 'search', class: 'search-form', 'aria-label': t('search.label'), novalidate: true },
    field(t('search.q'), input('q', { type: 'search', value: query.get('q') || '', maxlength: 200 })),
    h('details', { class: 'filters', open: wide || filtering }, h('summary', {}, t('search.filters')),
      h('div', { class: 'filter-grid' },
    field(t('search.format'), select('format', facetChoices(choices.formats, facets.format,
      (value) => label('format', value)), query.get('format') || '')),
    field(t('search.level'), select('level', facetChoices(choices.levels, facets.level,
      (value) => label('level', value)), query.get('level') || '')),
    field(t('search.language'), select('language', facetChoices(languages, facets.language, languageName),
      query.get('language') || '')),
    choices.areas.length
      ? field(t('search.area'), select('area', [['', t('search.any')], ...choices.areas.map((area) =>
        [area.code, area.name])], query.get('area') || ''))
      : null,
    field(t('search.maxprice'), input('max_price', { type: 'text', inputmode: 'decimal',
      value: query.get('max_price') || '', 'data-api-name': 'max_price_cents' })),
    field(t('search.from'), input('from', { type: 'date', value: query.get('from') || '' })),
    field(t('search.to'), input('to', { type: 'date', value: query.get('to') || '' })),
    h('div', { class: 'field' }, h('label', {},
      h('input', { type: 'checkbox', name: 'free_seats', value: 'true', checked: query.get('free_seats') === 'true' }),
      ' ', t('search.freeseats'))),
    field(t('search.sort'), select('sort', SORTS.map((sort) => [sort, t(`search.sort.${sort || 'best'}`)]),
      query.get('sort') || '')))),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, t('search.submit'))));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const next = new URLSearchParams();
    for (const name of FILTERS) {
      const value = String(new FormData(form).get(name) || '').trim();
      if (value) next.set(name, value);
    }
    location.hash = `#/?${next}`;
  });
  return form;
}

/** The API's query for the page's: a price in euros as cents, days as the start of that day here. */
function searchParameters(query, page) {
  const params = new URLSearchParams({ page: String(page), per_page: String(PER_PAGE) });
  for (const name of ['q', 'format', 'level', 'language', 'area', 'competence', 'free_seats', 'sort']) {
    if (query.get(name)) params.set(name, query.get(name));
  }
  if (query.get('max_price')) {
    const cents = parseCents(query.get('max_price'));
    params.set('max_price_cents', cents === null ? query.get('max_price') : String(cents));
  }
  for (const name of ['from', 'to']) {
    const day = query.get(name);
    if (day) {
      const moment = new Date(`${day}T00:00`);
      params.set(name, Number.isNaN(moment.getTime()) ? day : moment.toISOString());
    }
  }
  return params;
}

// Offers carry `languages` (a list) and a one-line `summary` since the review life cycle; `language` and
// `topic` before it. Both shapes are shown alike.
function languagesOf(offer) {
  return offer.languages || (offer.language ? [offer.language] : []);
}

function offerFacts(offer) {
  return h('ul', { class: 'facts' },
    h('li', {}, label('format', offer.format)),
    h('li', {}, `${t('offer.level')}: ${label('level', offer.level)}`),
    languagesOf(offer).map((code) => h('li', {}, languageName(code))),
    h('li', { class: 'price' }, money(offer.price_cents, offer.currency)));
}

function offerCard(offer) {
  return h('li', { class: 'card' },
    h('h2', {}, h('a', { href: `#/offers/${encodeURIComponent(offer.id)}` }, offer.title)),
    h('p', { class: 'topic' }, offer.summary || offer.topic || ''),
    offerFacts(offer));
}

function pager(query, page, total) {
  const pages = Math.max(1, Math.ceil(total / PER_PAGE));
  if (pages === 1) return null;
  const at = (number) => {
    const next = new URLSearchParams(query);
    next.set('page', String(number));
    return `#/?${next}`;
  };
  return h('nav', { class: 'pager', 'aria-label': t('search.page', { page, pages }) },
    page > 1 ? h('a', { href: at(page - 1), rel: 'prev' }, t('search.previous')) : null,
    h('span', {}, t('search.page', { page, pages })),
    page < pages ? h('a', { href: at(page + 1), rel: 'next' }, t('search.next')) : null);
}

export async function searchPage({ query }) {
  const page = Math.max(1, Number.parseInt(query.get('page') || '1', 10) || 1);
  const [formats, levels, framework] = await Promise.all([
    parameterValues('/api/v1/offers', 'format'), parameterValues('/api/v1/offers', 'level'),
    api(`/competence-framework?lang=${currentLanguage()}`).catch(() => ({ areas: [] })),
  ]);
  const choices = { formats: formats || ['online', 'in_person', 'hybrid'], levels: levels || [],
    areas: framework.areas || [] };
  let result;
  try {
    result = await api(`/offers?${searchParameters(query, page)}`);
  } catch (error) {
    if (error.name !== 'ApiError' || error.status !== 422) throw error;
    // An impossible filter is shown at its field, as any refused form is.
    const form = searchForm(query, choices);
    const view = h('section', {}, h('h1', {}, t('search.title')), form);
    showProblem(form, error);
    return view;
  }
  return h('section', {}, h('h1', {}, t('search.title')),
    query.get('deleted') ? h('p', { class: 'notice', role: 'status' }, t('delete.done')) : null,
    searchForm(query, choices, result.facets),
    h('p', { class: 'result-count', role: 'status' }, t('search.count', { count: result.total })),
    result.items.length ? h('ul', { class: 'cards' }, result.items.map(offerCard)) : h('p', {}, t('search.none')),
    pager(query, page, result.total));
}

function bookingOutcome(booking) {
  const lines = [];
  if (booking.status === 'confirmed') lines.push(t('book.confirmed'));
  else lines.push(t('book.waitlisted', { position: booking.waiting_position }));
  if (booking.other_format_free_seats) lines.push(t('book.otherformat', { count: booking.other_format_free_seats }));
  return h('div', { class: 'notice', role: 'status', tabindex: '-1' },
    lines.map((line) => h('p', {}, line)), h('p', {}, h('a', { href: '#/bookings' }, t('book.see'))));
}

function bookingForm(session) {
  const formats = Object.entries(session.seats || {}).filter(([, count]) => count > 0).map(([format]) => format);
  if (!signedIn()) {
    const next = encodeURIComponent(location.hash.replace(/^#/, ''));
    return h('p', {}, h('a', { class: 'button', href: `#/login?next=${next}` }, t('book.signin')));
  }
  const formatChoices = h('fieldset', { class: 'choices' }, h('legend', {}, t('book.format')),
    formats.map((format, index) => {
      const id = `book-${session.id}-${format}`;
      return h('div', { class: 'choice' },
        h('input', { type: 'radio', name: 'format', value: format, id, checked: index === 0 }),
        h('label', { for: id }, label('format', format)));
    }));
  const formatError = h('p', { class: 'field-error', id: `book-${session.id}-format-error`, hidden: true });
  for (const radio of formatChoices.querySelectorAll('input')) radio.dataset.errorId = formatError.id;
  const form = h('form', { class: 'booking-form', 'aria-label': t('book.legend') },
    formatChoices, formatError, h('button', { type: 'submit' }, t('book.submit')));
  // One key per intent: a retry after a lost answer books once; a booking made gets a fresh key for the next.
  let key = idempotencyKey();
  onSubmit(form, async (data) => {
    const booking = await api('/bookings', {
      method: 'POST', auth: true, headers: { 'Idempotency-Key': key },
      body: { session_id: session.id, format: data.get('format') },
    });
    key = idempotencyKey();
    const outcome = bookingOutcome(booking);
    form.replaceWith(outcome);
    outcome.focus();
    window.dispatchEvent(new CustomEvent('academy:refresh-nav'));
  });
  return form;
}

function sessionItem(session, bookable, offer) {
  const started = new Date(session.starts_at) <= new Date();
  if (session.cancelled_at) {
    return h('li', { class: 'card session cancelled' },
      h('h3', {}, t('session.when', { start: dateTime(session.starts_at), end: dateTime(session.ends_at) })),
      h('p', { class: 'status' }, t('session.cancelled')),
      session.cancellation_reason ? h('p', {}, session.cancellation_reason) : null);
  }
  const seats = Object.entries(session.seats || {}).filter(([, count]) => count > 0)
    // Free seats where the API states them (a read model of booking's availability), else the capacity.
    .map(([format, count]) => (session.free_seats?.[format] !== undefined
      ? t('session.seats.free', { format: label('format', format), free: session.free_seats[format], count })
      : t('session.seats.format', { format: label('format', format), count })));
  return h('li', { class: 'card session' },
    h('h3', {}, t('session.when', { start: dateTime(session.starts_at), end: dateTime(session.ends_at) })),
    h('dl', { class: 'pairs' },
      session.location ? [h('dt', {}, t('session.location')), h('dd', {}, session.location)] : null,
      h('dt', {}, t('session.seats')), h('dd', {}, seats.join(', '))),
    started ? h('p', {}, t('session.started')) : bookable ? bookingForm(session) : null,
    sessionTools(offer, session));
}

/** Competence codes with their names from the framework, in the page's language (codes alone if it is away). */
async function competenceNames() {
  const framework = await api(`/competence-framework?lang=${currentLanguage()}`).catch(() => ({ areas: [] }));
  return Object.fromEntries((framework.areas || []).flatMap((area) => area.competences || [])
    .map((competence) => [competence.code, competence.name]));
}

function ratingAnswer(text) {
  return h('p', { class: 'meta' }, t('ratings.answer', { text }));
}

/** The provider's one public answer to a rating; the API's refusals are told in words at the field. */
function answerForm(rating) {
  const form = h('form', { class: 'answer-form', novalidate: true, 'aria-label': t('answer.heading') },
    field(t('answer.text'), h('textarea', { name: 'text', rows: '2', maxlength: 2000, required: true })),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'secondary' }, t('answer.submit'))));
  onSubmit(form, async (data) => {
    try {
      const answered = await api(`/ratings/${encodeURIComponent(rating.id)}/answer`, { method: 'POST', auth: true,
        body: { text: String(data.get('text') || '').trim() } });
      const shown = h('div', { role: 'status', tabindex: '-1' }, ratingAnswer(answered.answer),
        h('p', { class: 'notice' }, t('answer.done')));
      form.replaceWith(shown);
      shown.focus();
    } catch (error) {
      const words = { 403: t('answer.forbidden'), 409: t('answer.twice') }[error.status];
      if (error.name === 'ApiError' && words) error.problem = { ...(error.problem || {}), errors: { text: [words] } };
      throw error;
    }
  });
  return form;
}

function ratingsSection(ratings, currentLocale, offer) {
  if (!ratings) return null;
  const average = ratings.average === null || ratings.average === undefined ? null
    : new Intl.NumberFormat(currentLocale, { maximumFractionDigits: 1 }).format(ratings.average);
  // The offer's providers answer, each rating once; the API refuses anyone else (403).
  const answering = signedIn() && isProvider(offer);
  return h('section', { 'aria-labelledby': 'ratings-heading' }, h('h2', { id: 'ratings-heading' }, t('ratings.heading')),
    average === null ? h('p', {}, t('ratings.none'))
      : h('p', { class: 'rating-summary' }, t('ratings.summary', { average, count: ratings.count })),
    (ratings.items || []).length
      ? h('ul', { class: 'ratings' }, ratings.items.map((rating) => h('li', {},
        h('p', { class: 'stars' }, t('ratings.stars', { stars: rating.stars })),
        rating.comment ? h('p', {}, rating.comment) : null,
        rating.answer ? ratingAnswer(rating.answer) : answering ? answerForm(rating) : null)))
      : null);
}

function learningGainSection(gain, names, currentLocale) {
  if (!gain) return null;
  const level = new Intl.NumberFormat(currentLocale, { maximumFractionDigits: 1 });
  return h('section', { 'aria-labelledby': 'gain-heading' }, h('h2', { id: 'gain-heading' }, t('gain.heading')),
    h('p', {}, t('gain.summary', { count: gain.respondents })),
    h('ul', {}, gain.competences.map((competence) => h('li', {}, t('gain.competence', {
      name: names[competence.competence] || competence.competence,
      before: level.format(competence.mean_before), after: level.format(competence.mean_after) })))));
}

export async function offerPage({ params }) {
  const id = encodeURIComponent(params[0]);
  const [offer, names, ratings] = await Promise.all([api(`/offers/${id}`), competenceNames(),
    api(`/offers/${id}/ratings?per_page=20`).catch(() => null)]);
  const sessions = [...(offer.sessions || [])].sort((a, b) => a.starts_at.localeCompare(b.starts_at));
  return h('article', { class: 'offer' },
    h('h1', {}, offer.title),
    h('p', { class: 'topic' }, offer.summary || offer.topic || ''),
    offerFacts(offer),
    h('p', { class: 'description' }, offer.description),
    offer.fee_tiers ? h('p', { class: 'hint' }, policyText(offer.fee_tiers)) : null,
    offer.competences?.length
      ? h('section', {}, h('h2', {}, t('offer.competences')),
        h('ul', { class: 'tags' }, offer.competences.map((code) => h('li', {}, names[code] || code))))
      : null,
    h('section', { 'aria-labelledby': 'sessions-heading' }, h('h2', { id: 'sessions-heading' }, t('offer.sessions')),
      sessions.length ? h('ul', { class: 'sessions' }, sessions.map((session) => sessionItem(session, offer.status === 'published' && !isProvider(offer), offer))) : h('p', {}, t('offer.nosessions'))),
    offer.status === 'published' ? ratingsSection(ratings, currentLanguage(), offer) : null,
    learningGainSection(offer.learning_gain, names, currentLanguage()),
    await offerManagement(offer));
}
