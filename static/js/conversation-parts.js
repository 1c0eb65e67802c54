// The widgets of the conversation section (templates/conversation.html), shared by the app
// (main.js) and the single-chat page (chat-page.js).

import { ChatView } from './chat-view.js';
import { Composer } from './composer.js';
import { byId } from './dom.js';

/** The message list and the composer; `send(text, replyTo)` is called on submit. */
export function conversationParts(send) {
  const view = new ChatView({
    scroller: byId('messages'),
    list: byId('message-list'),
    bottomButton: byId('scroll-bottom'),
    bottomCount: byId('scroll-bottom-count'),
  });
  const composer = new Composer(
    {
      form: byId('composer'),
      input: byId('composer-input'),
      replyBar: byId('reply-bar'),
      counter: byId('composer-count'),
      limitNote: byId('composer-limit'),
    },
    send,
  );
  return { view, composer };
}
