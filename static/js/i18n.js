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
    botMark: 'BOT',
    botTitle: 'Sent by a bot (an incoming webhook)',
    alertResolved: 'resolved',
    alertFiring: 'firing',
    alertOpen: 'Open link',
    priority: 'priority {n}',
    noBots: 'No bots yet.',
    botActive: 'active',
    botRevoked: 'revoked: rotate to give it a new token',
    botRotate: 'New token',
    botRevoke: 'Revoke',
    botNameRequired: 'Give the bot a name.',
    botTokenOnce: 'The token of “{name}”, shown only now: copy it or one of the URLs below.',
    botUrls: 'What to paste into each tool',
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
    uploadFailed: 'Not uploaded: {error}',
    uploadReady: 'ready to send',
    uploadingName: 'Uploading {name}',
    removeUpload: 'Remove {name}',
    fileTooLarge: 'the file is too large: {size}, at most {max} per file',
    fileEmpty: 'the file is empty',
    uploadsPending: 'Wait until the files have uploaded, then send.',
    fileExpired: '{name}: the file is no longer kept',
    openImage: 'Open photo {name}',
    downloadFile: 'Download {name}, {size}',
    viewerCount: '{i} of {n}',
    requestFailed: 'Something went wrong: {error}',
    network: 'the server cannot be reached',
    jumpFailed: 'The original message is no longer available.',
    dismiss: 'Dismiss',
    roomNameRequired: 'Give the room a name (up to 64 characters).',
    quoteJump: 'Quoted message, show the original:',
    messageFrom: 'Message from {name}',
    pushTitle: 'Push notifications',
    pushDevice: 'Notifications on this device',
    pushOn: 'On: messages that arrive while MyChat is closed show up on this device.',
    pushOff: 'Off: this device is told about new messages only while MyChat is open.',
    pushTest: 'Send a test notification',
    pushTestSent: 'Sent. It should appear in a moment.',
    pushFailed: 'That did not work: {error}',
    pushNoHttps: 'Notifications need a secure (https://) address, and this page was opened without one. Whoever runs this server can put it behind HTTPS; until then, the forwarding below works.',
    pushIosInstall: 'On iPhone and iPad, notifications work only in the installed app (iOS 16.4 or later): tap Share, then “Add to Home Screen”, open MyChat from there and turn them on.',
    pushUnsupported: 'This browser cannot receive push notifications. The forwarding below works instead.',
    pushBlocked: 'Notifications are blocked for this site. Allow them in the browser’s site settings, then open this again.',
    pushDenied: 'notifications were not allowed',
    installTitle: 'Install the app',
    installed: 'MyChat is installed on this device.',
    installIos: 'Tap Share, then “Add to Home Screen”. The installed app keeps its own login, so you sign in once more there: with your password, or with a login link from an administrator, pasted under “Got a login link?”.',
    installPrompt: 'Install MyChat as an app: it opens in its own window and can show notifications.',
    installButton: 'Install MyChat',
    installOther: 'Use your browser’s menu: “Install app” or “Add to Home screen”.',
    forwardTitle: 'Forward to ntfy or Gotify',
    forwardHelp: 'No push here (no HTTPS, a server without internet)? MyChat can send the same notifications to your own ntfy topic or Gotify server.',
    forwardKind: 'Service',
    forwardUrl: 'Address',
    forwardToken: 'Token (optional for ntfy)',
    forwardTokenKept: 'A token ending in {hint} is stored; leave the field empty to keep it.',
    forwardSave: 'Save',
    forwardRemove: 'Remove',
    forwardTest: 'Send a test',
    forwardSaved: 'Saved.',
    forwardRemoved: 'Forwarding is off.',
    forwardTestSent: 'Sent. Check your ntfy or Gotify app.',
    offlineTitle: 'You are offline',
    offlineText: 'MyChat cannot reach its server right now. Nothing you wrote is lost; try again in a moment.',
    offlineRetry: 'Try again',
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
    botMark: 'БОТ',
    botTitle: 'Отправлено ботом (входящий вебхук)',
    alertResolved: 'решено',
    alertFiring: 'тревога',
    alertOpen: 'Открыть ссылку',
    priority: 'приоритет {n}',
    noBots: 'Ботов пока нет.',
    botActive: 'активен',
    botRevoked: 'отозван: выдайте новый токен, чтобы включить',
    botRotate: 'Новый токен',
    botRevoke: 'Отозвать',
    botNameRequired: 'Дайте боту имя.',
    botTokenOnce: 'Токен бота «{name}» показан только сейчас: скопируйте его или один из адресов ниже.',
    botUrls: 'Что вставить в каждую программу',
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
    uploadFailed: 'Не загружено: {error}',
    uploadReady: 'готово к отправке',
    uploadingName: 'Загрузка {name}',
    removeUpload: 'Убрать {name}',
    fileTooLarge: 'файл слишком большой: {size}, можно не больше {max}',
    fileEmpty: 'файл пустой',
    uploadsPending: 'Дождитесь окончания загрузки файлов, затем отправьте.',
    fileExpired: '{name}: файл больше не хранится',
    openImage: 'Открыть фото {name}',
    downloadFile: 'Скачать {name}, {size}',
    viewerCount: '{i} из {n}',
    requestFailed: 'Что-то пошло не так: {error}',
    network: 'сервер недоступен',
    jumpFailed: 'Исходное сообщение больше недоступно.',
    dismiss: 'Закрыть',
    roomNameRequired: 'Введите название комнаты (до 64 символов).',
    quoteJump: 'Цитата, показать исходное сообщение:',
    messageFrom: 'Сообщение от {name}',
    pushTitle: 'Push-уведомления',
    pushDevice: 'Уведомления на этом устройстве',
    pushOn: 'Включены: сообщения, пришедшие при закрытом MyChat, появятся на этом устройстве.',
    pushOff: 'Выключены: о новых сообщениях это устройство узнаёт, только пока MyChat открыт.',
    pushTest: 'Отправить тестовое уведомление',
    pushTestSent: 'Отправлено. Уведомление сейчас появится.',
    pushFailed: 'Не получилось: {error}',
    pushNoHttps: 'Уведомлениям нужен защищённый адрес (https://), а эта страница открыта без него. Администратор сервера может включить HTTPS; а пока работает пересылка ниже.',
    pushIosInstall: 'На iPhone и iPad уведомления работают только в установленном приложении (iOS 16.4 и новее): нажмите «Поделиться», затем «На экран „Домой“», откройте MyChat оттуда и включите их.',
    pushUnsupported: 'Этот браузер не принимает push-уведомления. Вместо них работает пересылка ниже.',
    pushBlocked: 'Уведомления для этого сайта запрещены. Разрешите их в настройках сайта в браузере и откройте это окно снова.',
    pushDenied: 'уведомления не разрешены',
    installTitle: 'Установить приложение',
    installed: 'MyChat установлен на этом устройстве.',
    installIos: 'Нажмите «Поделиться», затем «На экран „Домой“». У установленного приложения свой вход, поэтому там нужно войти ещё раз: паролем или ссылкой для входа от администратора, вставив её в «Есть ссылка для входа?».',
    installPrompt: 'Установите MyChat как приложение: оно откроется в своём окне и сможет показывать уведомления.',
    installButton: 'Установить MyChat',
    installOther: 'Откройте меню браузера: «Установить приложение» или «Добавить на главный экран».',
    forwardTitle: 'Пересылка в ntfy или Gotify',
    forwardHelp: 'Push здесь не работает (нет HTTPS, сервер без интернета)? MyChat может отправлять те же уведомления в вашу тему ntfy или на ваш сервер Gotify.',
    forwardKind: 'Сервис',
    forwardUrl: 'Адрес',
    forwardToken: 'Токен (для ntfy необязателен)',
    forwardTokenKept: 'Сохранён токен, оканчивающийся на {hint}; оставьте поле пустым, чтобы его сохранить.',
    forwardSave: 'Сохранить',
    forwardRemove: 'Удалить',
    forwardTest: 'Проверить',
    forwardSaved: 'Сохранено.',
    forwardRemoved: 'Пересылка выключена.',
    forwardTestSent: 'Отправлено. Проверьте приложение ntfy или Gotify.',
    offlineTitle: 'Нет связи с сервером',
    offlineText: 'MyChat сейчас не может связаться с сервером. Ничего из написанного не потеряно; попробуйте ещё раз чуть позже.',
    offlineRetry: 'Попробовать снова',
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

/**
 * Adds a module's own strings ({en: {...}, ru: {...}}, the shape of the table above), so the
 * pages beside the app (settings, administration) keep theirs in their own modules.
 */
export function addStrings(table) {
  for (const code of LANGUAGES) Object.assign(STRINGS[code], table[code] || {});
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
