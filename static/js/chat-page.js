// The single-conversation page (/chat/{target_id}): one private chat, full screen, with the
// same message list, composer, receipts, actions and reconnecting as the app, and a way back
// to it.

import { ChatHeader } from './chat-header.js';
import { ChatMenu } from './chat-menu.js';
import { initConnectionBanner } from './connection.js';
import { Conversation } from './conversation.js';
import { conversationParts } from './conversation-parts.js';
import { byId } from './dom.js';
import { startGlobal } from './global.js';
import { on, setActive, setMe } from './state.js';

const body = document.body;
setMe(body.dataset.userId, body.dataset.userName);
const target = { kind: 'user', id: body.dataset.targetId };
const targetName = body.dataset.targetName;

const header = new ChatHeader();
const { view, composer } = conversationParts((text, replyTo, attachments) => conversation.send(text, replyTo, attachments));

const back = byId('back-button');
back.addEventListener('click', () => window.location.assign('/index'));
new ChatMenu(byId('chat-menu-button'), { leave: () => {}, remove: () => {} });

setActive(target);
header.render(target, targetName);
byId('conversation').hidden = false;
byId('app').classList.add('chat-open');

const global = startGlobal({
  openChat: (kind, id) => window.location.assign(`/index#${kind}/${encodeURIComponent(id)}`),
  roomGone: () => {},
});
const conversation = new Conversation({
  kind: 'user',
  id: target.id,
  view,
  composer,
  header,
});
initConnectionBanner(byId('connection-banner'), () => [global.socket, conversation.socket]);
for (const event of ['users', 'chats', 'connection']) on(event, () => header.render(target, targetName));
on('read', (data) => conversation.received(data));
composer.focus();
