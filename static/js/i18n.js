// Every string the scripts show, in English and Russian (the original UI was Russian), and
// the language switch. The language is the page's (`<html lang>`, which the server picks
// from the `lang` cookie, else Accept-Language), so the scripts speak as the page around them.
// A choice made with the switch is kept in the cookie and in localStorage; when the cookie is
// gone (cleared, another path) but localStorage remembers, the cookie is set again and the page
// reloads once in that language.
//
// Counted strings are objects of Intl.PluralRules categories ({one, few, many, other}),
// shown with plural(key, n): "1 участник", "2 участника", "5 участников", "21 участник".

const STRINGS = {
  en: {
    connecting: 'Connecting…',
    reconnecting: 'Connection lost. Reconnecting…',
    online: 'online',
    offline: 'offline',
    you: 'You',
    today: 'Today',
    yesterday: 'Yesterday',
    earlier: 'Earlier messages',
    sent: 'Sent',
    read: 'Read',
    reply: 'Reply',
    replyTo: 'Reply to {name}',
    replyingTo: 'Replying to {name}',
    cancelReply: 'Cancel reply',
    unread: { one: '{n} unread message', other: '{n} unread messages' },
    loadingOlder: 'Loading earlier messages…',
    startOfChat: 'This is the beginning of the conversation.',
    emptyChat: 'No messages yet. Say hello!',
    noMatches: 'Nothing matches.',
    notifyEnable: 'Enable notifications',
    notifyBlocked: 'Notifications are blocked in the browser settings',
    newMessageFrom: 'New message from {name}',
    newMessageIn: '{name} in {room}',
    members: { one: '{n} member', other: '{n} members' },
    tooLong: {
      one: 'Too long by {n} character: a message holds at most {max}. It was not sent.',
      other: 'Too long by {n} characters: a message holds at most {max}. It was not sent.',
    },
    pasteTooLong: {
      one: 'Not pasted: the message would be {n} character over the limit of {max}.',
      other: 'Not pasted: the message would be {n} characters over the limit of {max}.',
    },
    charsLeft: { one: '{n} character left', other: '{n} characters left' },
    charsOver: { one: '{n} character too many', other: '{n} characters too many' },
    creator: 'creator',
    youTag: 'you',
    add: 'Add',
    remove: 'Remove',
    removeMember: 'Remove {name} from the room',
    addMember: 'Add {name} to the room',
    nobodyToAdd: 'Everyone is already a member.',
    roomDeleted: 'The room “{name}” was deleted.',
    roomRemoved: 'You were removed from the room “{name}”.',
    roomGone: 'The room “{name}” is no longer available.',
    sendFailed: 'Not sent: {error}',
    requestFailed: 'Something went wrong: {error}',
    network: 'the server cannot be reached',
    jumpFailed: 'The original message is no longer available.',
    dismiss: 'Dismiss',
    roomNameRequired: 'Give the room a name (up to 64 characters).',
    quoteJump: 'Quoted message, show the original:',
    messageFrom: 'Message from {name}',
    appName: 'MyChat',
    cancel: 'Cancel',
    delete: 'Delete',
    retry: 'Retry',
    chats: 'Chats',
    people: 'People',
    noChats: 'No chats yet. Find people with the search box, or create a room with +.',
    noChatMatches: 'No chats match.',
    searching: 'Searching…',
    nothingFound: 'Nothing found.',
    messagesFound: 'Messages',
    startChat: 'start a chat',
    draft: 'Draft',
    muted: 'muted',
    mutedTitle: 'Notifications are off',
    mentionedYou: 'You were mentioned',
    mentionsCount: { one: '{n} mention of you', other: '{n} mentions of you' },
    unreadMessages: 'Unread messages',
    jumpToUnread: 'Jump to the unread messages: {count}',
    scrollBottom: 'Scroll to the newest messages',
    messageDeleted: 'Message deleted',
    edited: 'edited',
    editedAt: 'Edited {time}',
    react: 'React',
    reactions: 'Reactions',
    reactWith: 'React with {emoji}',
    reactionRemove: 'Take back {emoji}',
    otherEmoji: 'Another emoji…',
    typeEmoji: 'Type or paste an emoji',
    notAnEmoji: 'That is not one emoji.',
    whoReacted: 'Who reacted',
    messageActions: 'Actions for the message from {name}',
    messageMenu: 'Message actions',
    edit: 'Edit',
    editMessage: 'Edit the message',
    editHint: 'Enter saves · Esc cancels',
    editEmpty: 'A message cannot be empty. Delete it instead.',
    editFailed: 'Not saved: {error}',
    copyText: 'Copy text',
    deleteMessageTitle: 'Delete the message?',
    deleteMessageQuestion: 'It is deleted for everyone; “Message deleted” stays in its place.',
    deleteOthersQuestion: 'The message from {name} is deleted for everyone; “Message deleted” stays in its place.',
    actionFailed: 'Not done: {error}',
    notConnectedAction: 'Not connected. Try again once the connection is back.',
    notConnectedShort: 'not connected; try again once the connection is back',
    sending: 'sending…',
    sendingLabel: 'Your message, sending',
    notSent: 'not sent',
    notSentLabel: 'Your message, not sent',
    typingOne: '{name} is typing…',
    typingTwo: '{a} and {b} are typing…',
    typingMany: 'Several people are typing…',
    mentionSuggestions: 'People to mention',
    suggestions: { one: '{n} suggestion', other: '{n} suggestions' },
    mentionedIn: '{name} mentioned you in {room}',
    chatMenu: 'Conversation menu',
    notifyAll: 'Notify about every message',
    notifyMentions: 'Notify only when mentioned',
    notifyNone: 'Mute',
    leaveRoom: 'Leave room…',
    leaveRoomTitle: 'Leave the room?',
    leaveRoomQuestion: 'You will no longer see “{name}” or get its messages. Its creator can add you again.',
    leave: 'Leave',
    creatorCannotLeave: 'You created “{name}”, so you cannot leave it. You can delete it for everyone instead.',
    deleteRoom: 'Delete room…',
    deleteRoomEllipsis: 'Delete room…',
    roomLeft: 'You left the room “{name}”.',
  },
  ru: {
    connecting: 'Подключение…',
    reconnecting: 'Соединение потеряно. Переподключение…',
    online: 'в сети',
    offline: 'не в сети',
    you: 'Вы',
    today: 'Сегодня',
    yesterday: 'Вчера',
    earlier: 'Более ранние сообщения',
    sent: 'Отправлено',
    read: 'Прочитано',
    reply: 'Ответить',
    replyTo: 'Ответить {name}',
    replyingTo: 'Ответ для {name}',
    cancelReply: 'Отменить ответ',
    unread: {
      one: '{n} непрочитанное сообщение', few: '{n} непрочитанных сообщения', many: '{n} непрочитанных сообщений', other: '{n} непрочитанного сообщения',
    },
    loadingOlder: 'Загрузка ранних сообщений…',
    startOfChat: 'Это начало переписки.',
    emptyChat: 'Сообщений пока нет. Напишите первым!',
    noMatches: 'Ничего не найдено.',
    notifyEnable: 'Включить уведомления',
    notifyBlocked: 'Уведомления запрещены в настройках браузера',
    newMessageFrom: 'Новое сообщение от {name}',
    newMessageIn: '{name} в комнате {room}',
    members: { one: '{n} участник', few: '{n} участника', many: '{n} участников', other: '{n} участника' },
    tooLong: {
      one: 'Слишком длинно на {n} символ: в сообщении не больше {max}. Оно не отправлено.',
      few: 'Слишком длинно на {n} символа: в сообщении не больше {max}. Оно не отправлено.',
      many: 'Слишком длинно на {n} символов: в сообщении не больше {max}. Оно не отправлено.',
      other: 'Слишком длинно на {n} символа: в сообщении не больше {max}. Оно не отправлено.',
    },
    pasteTooLong: {
      one: 'Не вставлено: сообщение превысило бы предел в {max} на {n} символ.',
      few: 'Не вставлено: сообщение превысило бы предел в {max} на {n} символа.',
      many: 'Не вставлено: сообщение превысило бы предел в {max} на {n} символов.',
      other: 'Не вставлено: сообщение превысило бы предел в {max} на {n} символа.',
    },
    charsLeft: { one: 'Остался {n} символ', few: 'Осталось {n} символа', many: 'Осталось {n} символов', other: 'Осталось {n} символа' },
    charsOver: { one: 'На {n} символ больше', few: 'На {n} символа больше', many: 'На {n} символов больше', other: 'На {n} символа больше' },
    creator: 'создатель',
    youTag: 'вы',
    add: 'Добавить',
    remove: 'Удалить',
    removeMember: 'Удалить {name} из комнаты',
    addMember: 'Добавить {name} в комнату',
    nobodyToAdd: 'Все пользователи уже в комнате.',
    roomDeleted: 'Комната «{name}» удалена.',
    roomRemoved: 'Вас удалили из комнаты «{name}».',
    roomGone: 'Комната «{name}» больше недоступна.',
    sendFailed: 'Не отправлено: {error}',
    requestFailed: 'Что-то пошло не так: {error}',
    network: 'сервер недоступен',
    jumpFailed: 'Исходное сообщение больше недоступно.',
    dismiss: 'Закрыть',
    roomNameRequired: 'Введите название комнаты (до 64 символов).',
    quoteJump: 'Цитата, показать исходное сообщение:',
    messageFrom: 'Сообщение от {name}',
    appName: 'MyChat',
    cancel: 'Отмена',
    delete: 'Удалить',
    retry: 'Повторить',
    chats: 'Чаты',
    people: 'Люди',
    noChats: 'Чатов пока нет. Найдите людей через поиск или создайте комнату кнопкой +.',
    noChatMatches: 'Нет подходящих чатов.',
    searching: 'Поиск…',
    nothingFound: 'Ничего не найдено.',
    messagesFound: 'Сообщения',
    startChat: 'начать чат',
    draft: 'Черновик',
    muted: 'без звука',
    mutedTitle: 'Уведомления выключены',
    mentionedYou: 'Вас упомянули',
    mentionsCount: {
      one: '{n} упоминание вас', few: '{n} упоминания вас', many: '{n} упоминаний вас', other: '{n} упоминания вас',
    },
    unreadMessages: 'Непрочитанные сообщения',
    jumpToUnread: 'К непрочитанным: {count}',
    scrollBottom: 'К новым сообщениям',
    messageDeleted: 'Сообщение удалено',
    edited: 'изменено',
    editedAt: 'Изменено {time}',
    react: 'Реакция',
    reactions: 'Реакции',
    reactWith: 'Поставить {emoji}',
    reactionRemove: 'Убрать {emoji}',
    otherEmoji: 'Другой эмодзи…',
    typeEmoji: 'Введите или вставьте эмодзи',
    notAnEmoji: 'Это не один эмодзи.',
    whoReacted: 'Кто отреагировал',
    messageActions: 'Действия с сообщением от {name}',
    messageMenu: 'Действия с сообщением',
    edit: 'Изменить',
    editMessage: 'Изменить сообщение',
    editHint: 'Enter — сохранить · Esc — отменить',
    editEmpty: 'Сообщение не может быть пустым. Удалите его.',
    editFailed: 'Не сохранено: {error}',
    copyText: 'Копировать текст',
    deleteMessageTitle: 'Удалить сообщение?',
    deleteMessageQuestion: 'Оно удалится у всех; на его месте останется «Сообщение удалено».',
    deleteOthersQuestion: 'Сообщение от {name} удалится у всех; на его месте останется «Сообщение удалено».',
    actionFailed: 'Не выполнено: {error}',
    notConnectedAction: 'Нет соединения. Попробуйте ещё раз, когда связь вернётся.',
    notConnectedShort: 'нет соединения; попробуйте, когда связь вернётся',
    sending: 'отправка…',
    sendingLabel: 'Ваше сообщение, отправляется',
    notSent: 'не отправлено',
    notSentLabel: 'Ваше сообщение, не отправлено',
    typingOne: '{name} печатает…',
    typingTwo: '{a} и {b} печатают…',
    typingMany: 'Несколько человек печатают…',
    mentionSuggestions: 'Кого упомянуть',
    suggestions: { one: '{n} вариант', few: '{n} варианта', many: '{n} вариантов', other: '{n} варианта' },
    mentionedIn: '{name} упомянул(а) вас в комнате {room}',
    chatMenu: 'Меню чата',
    notifyAll: 'Уведомлять обо всех сообщениях',
    notifyMentions: 'Только когда упоминают',
    notifyNone: 'Без звука',
    leaveRoom: 'Покинуть комнату…',
    leaveRoomTitle: 'Покинуть комнату?',
    leaveRoomQuestion: 'Вы больше не увидите «{name}» и её сообщения. Создатель может добавить вас снова.',
    leave: 'Покинуть',
    creatorCannotLeave: 'Вы создали «{name}», поэтому не можете её покинуть. Вместо этого её можно удалить для всех.',
    deleteRoom: 'Удалить комнату…',
    deleteRoomEllipsis: 'Удалить комнату…',
    roomLeft: 'Вы покинули комнату «{name}».',
  },
};

const LANGUAGES = ['en', 'ru'];
const STORAGE_KEY = 'mychat.lang';
const COOKIE = 'lang';
/** A year, as the server's own cookie. */
const COOKIE_MAX_AGE = 365 * 24 * 3600;

function stored() {
  try {
    return localStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

function cookieValue() {
  const match = /(?:^|;\s*)lang=([^;]*)/.exec(document.cookie);
  return match ? match[1] : null;
}

function writeChoice(code) {
  const secure = window.location.protocol === 'https:' ? '; Secure' : '';
  document.cookie = `${COOKIE}=${code}; Path=/; SameSite=Lax; Max-Age=${COOKIE_MAX_AGE}${secure}`;
  try {
    localStorage.setItem(STORAGE_KEY, code);
  } catch {
    // Private mode: the cookie alone remembers.
  }
}

function pageLanguage() {
  const page = document.documentElement.lang;
  if (LANGUAGES.includes(page)) return page;
  const wanted = (navigator.languages && navigator.languages.length) ? navigator.languages : [navigator.language || 'en'];
  for (const tag of wanted) {
    const lower = String(tag).toLowerCase();
    if (lower.startsWith('ru')) return 'ru';
    if (lower.startsWith('en')) return 'en';
  }
  return 'en';
}

function pickLanguage() {
  const page = pageLanguage();
  const remembered = stored();
  const cookie = cookieValue();
  if (LANGUAGES.includes(cookie)) {
    if (remembered !== cookie) writeChoice(cookie);
  } else if (LANGUAGES.includes(remembered) && remembered !== page) {
    // The server did not see the choice: tell it, and show the page in that language
    // (unless cookies are refused, which would reload for ever).
    writeChoice(remembered);
    if (cookieValue() === remembered) window.location.reload();
  }
  return page;
}

/** The interface language: "en" or "ru". */
export const lang = pickLanguage();

const pluralRules = new Intl.PluralRules(lang);

function fill(text, vars) {
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in vars ? String(vars[name]) : whole));
}

/** The string `key`, with `{name}` placeholders filled from `vars`. */
export function t(key, vars = {}) {
  const text = STRINGS[lang][key] ?? STRINGS.en[key] ?? key;
  return fill(typeof text === 'string' ? text : text.other, vars);
}

/**
 * The counted string `key` for `n`, in the form the language's plural rules pick
 * (`{n}` and the other placeholders filled): plural('members', 2) is "2 участника" in Russian.
 */
export function plural(key, n, vars = {}) {
  const forms = STRINGS[lang][key] ?? STRINGS.en[key];
  if (!forms) return key;
  if (typeof forms === 'string') return fill(forms, { ...vars, n });
  const form = forms[pluralRules.select(n)] ?? forms.other;
  return fill(form, { ...vars, n });
}

/** Remembers `code` as the interface language and shows the page in it. */
export function switchLanguage(code) {
  if (!LANGUAGES.includes(code)) return;
  writeChoice(code);
  if (code !== lang) window.location.reload();
}

/**
 * The language switch (templates/lang-switch.html): without script it posts to /language;
 * here it sets the cookie itself and reloads, so the address (the open chat) is kept.
 */
export function initLanguageSwitch(form) {
  form.addEventListener('submit', (event) => {
    const code = event.submitter?.value;
    if (!LANGUAGES.includes(code)) return;
    event.preventDefault();
    switchLanguage(code);
  });
}
