// The self-assessment: pick a career path, rate each competence area by area (saved as you go, resumable),
// then the result: ranked gaps, the radar chart, and recommended offers with their reasons.
import { api, signedIn, SignInNeeded } from '../api.js';
import { h } from '../dom.js';
import { onSubmit } from '../forms.js';
import { currentLanguage, date, dateTime, label, t } from '../i18n.js';

const CURRENT_LEVELS = [0, 1, 2, 3, 4, 5];
const IMPORTANCE = [1, 2, 3, 4, 5];

function lang() {
  return `lang=${currentLanguage()}`;
}

function areasOf(assessment) {
  const areas = [];
  for (const competence of assessment.competences) {
    let area = areas.find((item) => item.code === competence.area);
    if (!area) {
      area = { code: competence.area, competences: [] };
      areas.push(area);
    }
    area.competences.push(competence);
  }
  return areas;
}

function rated(competence) {
  return competence.current_level !== null && competence.future_importance !== null;
}

export async function assessmentsPage() {
  if (!signedIn()) throw new SignInNeeded(false);
  const [mine, paths] = await Promise.all([
    api('/assessments', { auth: true }), api(`/career-paths?${lang()}`),
  ]);
  const pathNames = Object.fromEntries(paths.items.map((path) => [path.code, path.name]));
  const choices = h('fieldset', { class: 'choices stacked' }, h('legend', {}, t('assessment.path')),
    paths.items.map((path, index) => {
      const id = `path-${path.code}`;
      return h('div', { class: 'choice' },
        h('input', { type: 'radio', name: 'career_path', value: path.code, id, checked: index === 0,
          'aria-describedby': `${id}-description` }),
        h('label', { for: id }, path.name),
        h('p', { class: 'hint', id: `${id}-description` }, path.description));
    }));
  const error = h('p', { class: 'field-error', id: 'career-path-error', hidden: true });
  for (const radio of choices.querySelectorAll('input')) radio.dataset.errorId = error.id;
  const form = h('form', { novalidate: true }, choices, error,
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, t('assessment.start'))));
  onSubmit(form, async (data) => {
    const started = await api('/assessments', { method: 'POST', auth: true,
      body: { career_path: data.get('career_path') } });
    location.hash = `#/assessments/${encodeURIComponent(started.id)}`;
  });
  const history = mine.items.length
    ? h('ul', { class: 'cards' }, mine.items.map((item) => h('li', { class: 'card' },
      h('h3', {}, h('a', { href: item.status === 'completed'
        ? `#/assessments/${encodeURIComponent(item.id)}/result` : `#/assessments/${encodeURIComponent(item.id)}` },
      pathNames[item.career_path] || item.career_path)),
      h('p', {}, item.status === 'completed'
        ? t('assessment.completed', { date: date(item.completed_at) })
        : t('assessment.draft', { date: date(item.updated_at) })))))
    : h('p', {}, t('assessment.none'));
  return h('section', {}, h('h1', {}, t('assessment.title')), h('p', {}, t('assessment.intro')), form,
    h('h2', {}, t('assessment.mine')), history);
}

function levelChoices(competence, kind, values, describe) {
  const name = `${kind}-${competence.code}`;
  const chosen = kind === 'current' ? competence.current_level : competence.future_importance;
  return h('fieldset', { class: 'choices stacked scale' },
    h('legend', {}, t(`assessment.${kind}`)),
    values.map((value) => {
      const id = `${name}-${value}`;
      return h('div', { class: 'choice' },
        h('input', { type: 'radio', name, value: String(value), id, checked: chosen === value, required: true }),
        h('label', { for: id }, describe(value)));
    }));
}

function competenceFieldset(competence) {
  const descriptions = Object.fromEntries((competence.levels || []).map((level) => [level.level, level.description]));
  return h('fieldset', { class: 'competence card' },
    h('legend', {}, competence.name),
    h('p', { class: 'hint' }, t('assessment.target', { level: competence.target_level })),
    levelChoices(competence, 'current', CURRENT_LEVELS,
      (level) => `${level} – ${level === 0 ? t('assessment.level0') : descriptions[level] || ''}`),
    levelChoices(competence, 'importance', IMPORTANCE, (value) => `${value} – ${t(`assessment.importance${value}`)}`));
}

export async function assessmentPage({ params, query }) {
  const id = params[0];
  const assessment = await api(`/assessments/${encodeURIComponent(id)}?${lang()}`, { auth: true });
  if (assessment.status === 'completed') {
    location.replace(`#/assessments/${encodeURIComponent(id)}/result`);
    return h('p', {}, t('loading'));
  }
  const areas = areasOf(assessment);
  const firstOpen = areas.findIndex((area) => !area.competences.every(rated));
  const asked = Number.parseInt(query.get('step') || '', 10);
  const step = Number.isInteger(asked) && asked >= 1 && asked <= areas.length ? asked - 1 : Math.max(firstOpen, 0);
  const area = areas[step];
  const last = step === areas.length - 1;
  const done = areas.reduce((sum, item) => sum + item.competences.filter(rated).length, 0);
  const total = assessment.competences.length;
  const form = h('form', { class: 'assessment-form', novalidate: true },
    area.competences.map(competenceFieldset),
    h('div', { class: 'actions' },
      step > 0 ? h('a', { class: 'button secondary', href: `#/assessments/${encodeURIComponent(id)}?step=${step}` },
        t('assessment.back')) : null,
      h('button', { type: 'submit' }, last ? t('assessment.complete') : t('assessment.next'))));
  onSubmit(form, async (data) => {
    const ratings = area.competences
      .map((competence) => ({
        competence: competence.code,
        current_level: data.has(`current-${competence.code}`) ? Number(data.get(`current-${competence.code}`)) : null,
        future_importance: data.has(`importance-${competence.code}`)
          ? Number(data.get(`importance-${competence.code}`)) : null,
      }))
      .filter((rating) => rating.current_level !== null || rating.future_importance !== null)
      .map((rating) => Object.fromEntries(Object.entries(rating).filter(([, value]) => value !== null)));
    if (ratings.length) await api(`/assessments/${encodeURIComponent(id)}`, { method: 'PATCH', auth: true,
      body: { ratings } });
    if (last) {
      await api(`/assessments/${encodeURIComponent(id)}/complete`, { method: 'POST', auth: true });
      location.hash = `#/assessments/${encodeURIComponent(id)}/result`;
    } else {
      location.hash = `#/assessments/${encodeURIComponent(id)}?step=${step + 2}`;
    }
  });
  return h('section', {}, h('h1', {}, t('assessment.step', { step: step + 1, steps: areas.length })),
    h('p', {}, h('progress', { max: String(total), value: String(done), 'aria-label': t('assessment.progress') }),
      ' ', t('assessment.rated', { done, total })),
    h('p', { class: 'hint' }, t('assessment.saved')),
    form);
}

async function radarChart(id) {
  try {
    const chart = await api(`/assessments/${encodeURIComponent(id)}/profile.svg?${lang()}`, { auth: true, as: 'blob',
      accept: 'image/svg+xml' });
    return h('img', { class: 'radar', src: URL.createObjectURL(chart), alt: t('assessment.radar.alt') });
  } catch (error) {
    if (error.name !== 'ApiError' || error.handled) throw error;
    return null;
  }
}

function recommendationItem(item) {
  return h('li', { class: 'card recommendation' },
    h('h3', {}, h('a', { href: `#/offers/${encodeURIComponent(item.offer_id)}` }, item.title)),
    h('ul', { class: 'facts' }, h('li', {}, label('format', item.format)),
      h('li', {}, `${t('offer.level')}: ${item.level}`)),
    h('ul', { class: 'reasons' }, (item.reasons || []).map((reason) => h('li', {}, reason))),
    (item.sessions || []).length
      ? h('p', {}, t('assessment.nextdate', { date: dateTime(item.sessions[0].starts_at) }))
      : null);
}

export async function assessmentResultPage({ params }) {
  const id = params[0];
  const [result, recommended, chart] = await Promise.all([
    api(`/assessments/${encodeURIComponent(id)}/result?${lang()}`, { auth: true }),
    api(`/assessments/${encodeURIComponent(id)}/recommendations?${lang()}`, { auth: true }),
    radarChart(id),
  ]);
  const needs = result.needs.filter((need) => need.gap > 0);
  const header = ['assessment.rank', 'assessment.competence', 'assessment.now', 'assessment.goal',
    'assessment.importance', 'assessment.priority'].map((key) => h('th', { scope: 'col' }, t(key)));
  const table = needs.length
    ? h('div', { class: 'table-wrap' }, h('table', { class: 'needs' },
      h('caption', {}, t('assessment.needs.caption')),
      h('thead', {}, h('tr', {}, header)),
      h('tbody', {}, needs.map((need) => h('tr', {},
        h('td', { class: 'number' }, String(need.rank)),
        h('th', { scope: 'row' }, need.name),
        h('td', { class: 'number' }, String(need.current)),
        h('td', { class: 'number' }, String(need.target)),
        h('td', { class: 'number' }, String(need.importance)),
        h('td', { class: 'number' }, need.priority.toFixed(1)))))))
    : h('p', {}, t('assessment.nogaps'));
  return h('section', {}, h('h1', {}, t('assessment.result')),
    chart ? h('figure', {}, chart, h('figcaption', {}, t('assessment.radar.caption'))) : null,
    h('h2', {}, t('assessment.needs')), table,
    h('h2', {}, t('assessment.recommended')),
    recommended.items.length
      ? h('ul', { class: 'cards' }, recommended.items.map(recommendationItem))
      : h('p', {}, t('assessment.norecommendations')),
    h('p', {}, h('a', { href: '#/assessments' }, t('assessment.all'))));
}
