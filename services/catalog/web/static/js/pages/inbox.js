// A member's in-app messages, newest first, with the unread ones marked and markable as read.
import { api } from '../api.js';
import { h } from '../dom.js';
import { dateTime, t } from '../i18n.js';

function refreshNav() {
  window.dispatchEvent(new CustomEvent('academy:refresh-nav'));
}

function messageItem(message) {
  const unread = !message.read_at;
  const item = h('li', { class: `card message${unread ? ' unread' : ''}` },
    h('h2', {}, unread ? h('span', { class: 'badge' }, t('inbox.new')) : null, ' ', message.subject),
    h('p', { class: 'meta' }, h('time', { datetime: message.created_at }, dateTime(message.created_at))),
    h('p', { class: 'body' }, message.body));
  if (unread) {
    const button = h('button', { type: 'button', class: 'secondary', onclick: async () => {
      button.disabled = true;
      const read = await api(`/notifications/${encodeURIComponent(message.id)}/read`, { method: 'POST', auth: true,
        body: {} });
      const replacement = messageItem(read);
      item.replaceWith(replacement);
      replacement.setAttribute('tabindex', '-1');
      replacement.focus();
      refreshNav();
    } }, t('inbox.markread'));
    item.append(h('div', { class: 'actions' }, button));
  }
  return item;
}

export async function inboxPage() {
  const messages = await api('/notifications?per_page=50', { auth: true });
  const markAll = messages.unread
    ? h('button', { type: 'button', class: 'secondary', onclick: async () => {
      markAll.disabled = true;
      await api('/notifications/read', { method: 'POST', auth: true, body: {} });
      window.dispatchEvent(new HashChangeEvent('hashchange'));
    } }, t('inbox.markall'))
    : null;
  return h('section', {}, h('h1', {}, t('inbox.title')),
    h('div', { class: 'actions' }, h('p', { class: 'result-count' }, t('inbox.unread', { count: messages.unread ?? 0 })),
      markAll),
    messages.items.length ? h('ul', { class: 'cards' }, messages.items.map(messageItem)) : h('p', {}, t('inbox.none')));
}
