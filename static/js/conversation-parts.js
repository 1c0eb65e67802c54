// The widgets of the conversation section (templates/conversation.html), shared by the app
// (main.js) and the single-chat page (chat-page.js).

import { ChatView } from './chat-view.js';
import { Composer } from './composer.js';
import { byId } from './dom.js';
import { state } from './state.js';
import { Viewer } from './viewer.js';

/** Where files for the open conversation go. */
function uploadTarget() {
  const active = state.active;
  if (!active) return null;
  return `${active.kind === 'room' ? 'room' : 'user'}:${active.id}`;
}

/**
 * The message list, the composer (with its files) and the photo viewer;
 * `send(text, replyTo, attachments)` is called on submit.
 */
export function conversationParts(send) {
  const view = new ChatView({
    scroller: byId('messages'),
    list: byId('message-list'),
    bottomButton: byId('scroll-bottom'),
    bottomCount: byId('scroll-bottom-count'),
    viewer: new Viewer(),
  });
  const composer = new Composer(
    {
      form: byId('composer'),
      input: byId('composer-input'),
      replyBar: byId('reply-bar'),
      counter: byId('composer-count'),
      limitNote: byId('composer-limit'),
      tray: byId('upload-tray'),
      dropZone: byId('drop-zone'),
      section: byId('conversation'),
      pickers: [
        [byId('attach-button'), byId('attach-input')],
        [byId('photo-button'), byId('photo-input')],
        [byId('camera-button'), byId('camera-input')],
      ],
    },
    send,
    uploadTarget,
  );
  return { view, composer };
}
