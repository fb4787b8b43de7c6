// Members' self-governance: proposals on the revenue policy, on reviewers and free motions; comments until the vote
// closes, a vote while it is open, the counts once closed, and for a policy what it would have meant last year.
import { api, currentMember, idempotencyKey, SignInNeeded, signedIn } from '../api.js';
import { field, h, input, select } from '../dom.js';
import { onSubmit } from '../forms.js';
import { currentLanguage, date, dateTime, label, money, t } from '../i18n.js';

const KINDS = ['policy', 'reviewer', 'motion'];
const PARTIES = ['provider', 'academy', 'community_fund'];
const CHOICES = ['yes', 'no', 'abstain'];
const PER_PAGE = 20;

function reload() {
  window.dispatchEvent(new HashChangeEvent('hashchange'));
}

function percent(basisPoints) {
  return `${new Intl.NumberFormat(currentLanguage(), { maximumFractionDigits: 2 })
    .format(basisPoints / 100)} %`;
}

/** When the proposal's window opens or closes, or how it ended. */
function timing(proposal) {
  if (proposal.phase === 'discussion') return t('proposal.opens', { when: dateTime(proposal.voting_opens_at) });
  if (proposal.phase === 'voting') return t('proposal.closes', { when: dateTime(proposal.voting_closes_at) });
  return t('proposal.closed', { when: dateTime(proposal.voting_closes_at) });
}

function counts(result) {
  return t('proposal.counts', { yes: result.yes, no: result.no, abstain: result.abstain, eligible: result.eligible });
}

function proposalCard(proposal) {
  return h('li', { class: 'card proposal' },
    h('h2', {}, h('a', { href: `#/proposals/${encodeURIComponent(proposal.id)}` }, proposal.title)),
    h('ul', { class: 'facts' },
      h('li', {}, label('proposal.kind', proposal.kind)),
      h('li', {}, label('proposal.phase', proposal.phase)),
      proposal.outcome ? h('li', {}, label('proposal.outcome', proposal.outcome)) : null),
    h('p', { class: 'meta' }, timing(proposal)),
    proposal.result ? h('p', { class: 'votes' }, counts(proposal.result)) : null);
}

function pager(page, total) {
  const pages = Math.max(1, Math.ceil(total / PER_PAGE));
  if (pages === 1) return null;
  return h('nav', { class: 'pager', 'aria-label': t('search.page', { page, pages }) },
    page > 1 ? h('a', { href: `#/proposals?page=${page - 1}`, rel: 'prev' }, t('search.previous')) : null,
    h('span', {}, t('search.page', { page, pages })),
    page < pages ? h('a', { href: `#/proposals?page=${page + 1}`, rel: 'next' }, t('search.next')) : null);
}

export async function proposalsPage({ query }) {
  const page = Math.max(1, Number.parseInt(query.get('page') || '1', 10) || 1);
  const proposals = await api(`/proposals?page=${page}&per_page=${PER_PAGE}`);
  return h('section', {}, h('h1', {}, t('proposals.title')), h('p', {}, t('proposals.intro')),
    signedIn() ? [h('p', {}, h('a', { class: 'button', href: '#/proposals/new' }, t('proposals.new'))),
      currentMember() ? h('p', { class: 'meta' }, t('proposals.mynumber', { id: currentMember().id })) : null] : null,
    proposals.items.length ? h('ul', { class: 'cards' }, proposals.items.map(proposalCard))
      : h('p', {}, t('proposals.none')),
    pager(page, proposals.total));
}

function terms(proposal) {
  const given = proposal.terms || {};
  if (proposal.kind === 'policy') {
    return h('dl', { class: 'pairs' },
      PARTIES.map((party) => [h('dt', {}, label('party', party)), h('dd', {}, percent(given.shares_bp?.[party] ?? 0))]),
      h('dt', {}, t('proposal.effective')), h('dd', {}, date(given.effective_from)));
  }
  if (proposal.kind === 'reviewer') {
    return h('dl', { class: 'pairs' },
      h('dt', {}, t('proposal.member')), h('dd', {}, given.member_id),
      h('dt', {}, t('proposal.action')), h('dd', {}, label('proposal.action', given.action)));
  }
  return null;
}

/** Billing's what-if over the year before the proposal: actual beside simulated per party; it comes a moment after. */
function whatIf(proposal) {
  const result = proposal.what_if;
  const heading = h('h2', { id: 'what-if-heading' }, t('proposal.whatif'));
  if (!result) {
    return h('section', { 'aria-labelledby': heading.id }, heading,
      h('p', { class: 'loading', role: 'status' }, t('proposal.whatif.pending')));
  }
  const rows = PARTIES.map((party) => {
    const difference = result.difference?.[party] ?? 0;
    return h('tr', {}, h('th', { scope: 'row' }, label('party', party)),
      h('td', { class: 'number' }, money(result.actual?.[party] ?? 0, 'EUR')),
      h('td', { class: 'number' }, money(result.simulated?.[party] ?? 0, 'EUR')),
      h('td', { class: `number ${difference > 0 ? 'gain' : difference < 0 ? 'loss' : ''}` },
        `${difference > 0 ? '+' : ''}${money(difference, 'EUR')}`));
  });
  return h('section', { 'aria-labelledby': heading.id }, heading,
    h('div', { class: 'table-wrap' }, h('table', { class: 'comparison' },
      // `to` is the end of the period, not part of it.
      h('caption', {}, t('proposal.whatif.caption', { from: date(result.from),
        to: date(new Date(Date.parse(result.to) - 1)) })),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('whatif.party')),
        ['whatif.actual', 'whatif.simulated', 'whatif.difference'].map((key) => h('th', { scope: 'col',
          class: 'number' }, t(key))))),
      h('tbody', {}, rows))));
}

function voteForm(proposal) {
  const choices = h('fieldset', { class: 'choices' }, h('legend', {}, t('proposal.vote.legend')),
    CHOICES.map((choice, index) => {
      const id = `vote-${choice}`;
      return h('div', { class: 'choice' },
        h('input', { type: 'radio', name: 'choice', value: choice, id,
          checked: proposal.my_vote ? proposal.my_vote === choice : index === 0 }),
        h('label', { for: id }, label('proposal.choice', choice)));
    }));
  const error = h('p', { class: 'field-error', id: 'vote-choice-error', hidden: true });
  for (const radio of choices.querySelectorAll('input')) radio.dataset.errorId = error.id;
  const form = h('form', { 'aria-labelledby': 'vote-heading' }, choices, error,
    h('button', { type: 'submit' }, proposal.my_vote ? t('proposal.vote.change') : t('proposal.vote.submit')));
  onSubmit(form, async (data) => {
    await api(`/proposals/${encodeURIComponent(proposal.id)}/vote`, { method: 'PUT', auth: true,
      body: { choice: data.get('choice') } });
    reload();
  });
  return form;
}

function voteSection(proposal) {
  const heading = h('h2', { id: 'vote-heading' }, t('proposal.vote'));
  const mine = proposal.my_vote
    ? h('p', { class: 'votes', id: 'my-vote' }, t('proposal.vote.mine', { choice: label('proposal.choice', proposal.my_vote) }))
    : null;
  if (proposal.phase === 'closed') {
    const result = proposal.result;
    heading.textContent = t('proposal.result');
    return h('section', { 'aria-labelledby': heading.id }, heading,
      proposal.outcome ? h('p', { class: 'votes' }, label('proposal.outcome', proposal.outcome)) : null,
      result ? [h('p', {}, counts(result)),
        h('p', {}, result.quorum_reached ? t('proposal.quorum.reached') : t('proposal.quorum.missed'))]
        : h('p', {}, t('proposal.result.pending')),
      // A motion is a decision only: nothing is carried out for it.
      proposal.outcome === 'accepted' && proposal.kind !== 'motion'
        ? h('p', {}, proposal.carried_out_at ? t('proposal.carried', { when: dateTime(proposal.carried_out_at) })
          : t('proposal.carried.pending'))
        : null,
      mine);
  }
  if (!signedIn()) {
    const next = encodeURIComponent(location.hash.replace(/^#/, ''));
    return h('section', { 'aria-labelledby': heading.id }, heading, h('p', {}, timing(proposal)),
      h('p', {}, h('a', { href: `#/login?next=${next}` }, t('proposal.vote.signin'))));
  }
  return h('section', { 'aria-labelledby': heading.id }, heading, h('p', {}, timing(proposal)), mine,
    proposal.phase === 'voting' ? voteForm(proposal) : null,
    h('p', { class: 'hint' }, t('proposal.vote.secret')));
}

function commentForm(proposal) {
  const form = h('form', { class: 'narrow wide', 'aria-labelledby': 'comment-form-heading', novalidate: true },
    h('h3', { id: 'comment-form-heading' }, t('proposal.comment.heading')),
    field(t('proposal.comment.text'), h('textarea', { name: 'text', rows: '3', maxlength: 5000, required: true })),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, t('proposal.comment.submit'))));
  onSubmit(form, async (data) => {
    await api(`/proposals/${encodeURIComponent(proposal.id)}/comments`, { method: 'POST', auth: true,
      body: { text: String(data.get('text') || '') } });
    reload();
  });
  return form;
}

function commentsSection(proposal) {
  const me = currentMember()?.id;
  const comments = proposal.comments || [];
  return h('section', { 'aria-labelledby': 'comments-heading' },
    h('h2', { id: 'comments-heading' }, t('proposal.comments', { count: comments.length })),
    comments.length ? h('ul', { class: 'ratings comments' }, comments.map((comment) => h('li', {},
      h('p', {}, comment.text),
      h('p', { class: 'meta' }, t(me && comment.member_id === me ? 'proposal.comment.mine' : 'proposal.comment.by',
        { when: dateTime(comment.created_at) })))))
      : h('p', {}, t('proposal.comments.none')),
    signedIn() && proposal.phase !== 'closed' ? commentForm(proposal) : null);
}

export async function proposalPage({ params }) {
  const proposal = await api(`/proposals/${encodeURIComponent(params[0])}`);
  return h('article', { class: 'proposal' },
    h('h1', {}, proposal.title),
    h('ul', { class: 'facts' },
      h('li', {}, label('proposal.kind', proposal.kind)),
      h('li', {}, label('proposal.phase', proposal.phase))),
    h('dl', { class: 'pairs' },
      h('dt', {}, t('proposal.proposed')), h('dd', {}, dateTime(proposal.created_at)),
      h('dt', {}, t('proposal.window')), h('dd', {}, t('proposal.window.span', {
        from: dateTime(proposal.voting_opens_at), to: dateTime(proposal.voting_closes_at) }))),
    h('section', { 'aria-labelledby': 'reasons-heading' }, h('h2', { id: 'reasons-heading' }, t('proposal.reasons')),
      h('p', { class: 'description' }, proposal.reasons)),
    proposal.kind !== 'motion'
      ? h('section', { 'aria-labelledby': 'terms-heading' }, h('h2', { id: 'terms-heading' }, t('proposal.terms')),
        terms(proposal))
      : null,
    proposal.kind === 'policy' ? whatIf(proposal) : null,
    voteSection(proposal),
    commentsSection(proposal),
    h('p', {}, h('a', { href: '#/proposals' }, t('proposal.back'))));
}

/** Percent as written ("12.5" or "12,5") in basis points; what is not a percent goes as written, for the API to name. */
export function basisPoints(text) {
  const written = String(text || '').trim().replace(',', '.');
  return /^\d{1,3}(\.\d{1,2})?$/.test(written) ? Math.round(Number(written) * 100) : written;
}

/** The API nests a refused body's messages ({policy: {shares_bp: …}}); they go to the field the page shows for them. */
function placeable(form, errors, prefix = '') {
  const placed = {};
  for (const [name, messages] of Object.entries(errors || {})) {
    const key = prefix ? `${prefix}.${name}` : name;
    const shown = form.querySelector(`[data-api-name="${CSS.escape(key)}"], [name="${CSS.escape(key)}"]`);
    if (!shown && messages && typeof messages === 'object' && !Array.isArray(messages)) {
      Object.assign(placed, placeable(form, messages, key));
    } else {
      placed[key] = messages;
    }
  }
  return placed;
}

function termsGroup(kind, legend, children) {
  return h('fieldset', { class: 'shares', 'data-kind': kind }, h('legend', {}, legend), children);
}

export async function newProposalPage() {
  if (!signedIn()) throw new SignInNeeded(false);
  // The shares in force, as a start for a policy proposal; without them the fields start empty.
  const policies = await api('/revenue-policies', { auth: true }).catch(() => null);
  const inForce = policies?.items?.find((item) => item.version === policies.in_force) || {};
  const sharesError = h('p', { class: 'field-error', id: 'shares-error', hidden: true });
  const shares = h('fieldset', { class: 'shares', 'data-api-name': 'policy.shares_bp',
    'data-error-id': sharesError.id },
  h('legend', {}, t('proposal.shares')),
  h('p', { class: 'hint' }, t('proposal.shares.hint')),
  h('div', { class: 'filter-grid' }, PARTIES.map((party) => field(t(`whatif.share.${party}`),
    input(`${party}_percent`, { type: 'text', inputmode: 'decimal', required: true,
      value: inForce[`${party}_percent`] ?? '' })))),
  sharesError);
  const groups = [
    termsGroup('policy', t('proposal.terms.policy'), [shares,
      field(t('proposal.effective'), input('effective_from', { type: 'date', required: true,
        'data-api-name': 'policy.effective_from' }), t('proposal.effective.hint'))]),
    termsGroup('reviewer', t('proposal.terms.reviewer'), [
      field(t('proposal.member'), input('member_id', { type: 'text', maxlength: 36, required: true,
        'data-api-name': 'reviewer.member_id', autocomplete: 'off' }), t('proposal.member.hint')),
      field(t('proposal.action'), select('action', ['grant', 'remove'].map((action) =>
        [action, label('proposal.action', action)]), 'grant', { 'data-api-name': 'reviewer.action' }))]),
  ];
  const kind = select('kind', KINDS.map((value) => [value, label('proposal.kind', value)]), 'motion');
  // Only the chosen kind's terms are shown and sent.
  const showTerms = () => {
    for (const group of groups) group.hidden = group.dataset.kind !== kind.value;
  };
  kind.addEventListener('change', showTerms);
  showTerms();
  const form = h('form', { class: 'narrow wide', novalidate: true },
    field(t('proposal.kind'), kind),
    field(t('provide.title'), input('title', { type: 'text', required: true, maxlength: 200 })),
    field(t('proposal.reasons'), h('textarea', { name: 'reasons', rows: '6', maxlength: 10000, required: true })),
    groups,
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, t('proposals.submit'))));
  // One key per intent: a retry after a lost answer proposes once.
  let key = idempotencyKey();
  onSubmit(form, async (data) => {
    const body = { kind: kind.value, title: String(data.get('title') || ''),
      reasons: String(data.get('reasons') || '') };
    if (kind.value === 'policy') {
      const day = String(data.get('effective_from') || '');
      const moment = new Date(`${day}T00:00`);
      body.policy = {
        shares_bp: Object.fromEntries(PARTIES.map((party) => [party, basisPoints(data.get(`${party}_percent`))])),
      };
      // The start of that day here; a day the page cannot read goes as written, none not at all (the API names both).
      if (day) body.policy.effective_from = Number.isNaN(moment.getTime()) ? day : moment.toISOString();
    }
    if (kind.value === 'reviewer') {
      body.reviewer = { member_id: String(data.get('member_id') || '').trim(), action: String(data.get('action')) };
    }
    let proposal;
    try {
      proposal = await api('/proposals', { method: 'POST', auth: true, headers: { 'Idempotency-Key': key }, body });
    } catch (error) {
      if (error.name === 'ApiError' && error.problem?.errors) {
        error.problem.errors = placeable(form, error.problem.errors);
      }
      throw error;
    }
    key = idempotencyKey();
    location.hash = `#/proposals/${encodeURIComponent(proposal.id)}`;
  });
  return h('section', {}, h('h1', {}, t('proposals.new')), h('p', {}, t('proposals.new.intro')), form);
}
