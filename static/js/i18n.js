// Every string the scripts show, in English and Russian (the original UI was Russian).
// The language is the first of navigator.languages we speak, as the server picks it from
// Accept-Language for the page around us; English otherwise.

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
    unread: '{n} unread',
    loadingOlder: 'Loading earlier messages…',
    startOfChat: 'This is the beginning of the conversation.',
    emptyChat: 'No messages yet. Say hello!',
    noUsers: 'No other users yet.',
    noRooms: 'No rooms yet. Create one with +.',
    noMatches: 'Nothing matches.',
    notifyEnable: 'Enable notifications',
    notifyBlocked: 'Notifications are blocked in the browser settings',
    newMessageFrom: 'New message from {name}',
    newMessageIn: '{name} in {room}',
    members: '{n} members',
    member: '1 member',
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
    notConnected: 'Not connected. Your message is kept; it can be sent once the connection is back.',
    sendFailed: 'Not sent: {error}',
    requestFailed: 'Something went wrong: {error}',
    network: 'the server cannot be reached',
    jumpFailed: 'The original message is no longer available.',
    dismiss: 'Dismiss',
    roomNameRequired: 'Give the room a name (up to 64 characters).',
    quoteOf: 'Quote of {name}: jump to the original message',
    messageFrom: 'Message from {name}',
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
    unread: 'непрочитанных: {n}',
    loadingOlder: 'Загрузка ранних сообщений…',
    startOfChat: 'Это начало переписки.',
    emptyChat: 'Сообщений пока нет. Напишите первым!',
    noUsers: 'Других пользователей пока нет.',
    noRooms: 'Комнат пока нет. Создайте комнату кнопкой +.',
    noMatches: 'Ничего не найдено.',
    notifyEnable: 'Включить уведомления',
    notifyBlocked: 'Уведомления запрещены в настройках браузера',
    newMessageFrom: 'Новое сообщение от {name}',
    newMessageIn: '{name} в комнате {room}',
    members: 'Участников: {n}',
    member: 'Участников: 1',
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
    notConnected: 'Нет соединения. Сообщение сохранено в поле ввода; его можно отправить, когда связь вернётся.',
    sendFailed: 'Не отправлено: {error}',
    requestFailed: 'Что-то пошло не так: {error}',
    network: 'сервер недоступен',
    jumpFailed: 'Исходное сообщение больше недоступно.',
    dismiss: 'Закрыть',
    roomNameRequired: 'Введите название комнаты (до 64 символов).',
    quoteOf: 'Цитата {name}: перейти к исходному сообщению',
    messageFrom: 'Сообщение от {name}',
  },
};

function pickLanguage() {
  const wanted = (navigator.languages && navigator.languages.length) ? navigator.languages : [navigator.language || 'en'];
  for (const tag of wanted) {
    const lower = String(tag).toLowerCase();
    if (lower.startsWith('ru')) return 'ru';
    if (lower.startsWith('en')) return 'en';
  }
  return 'en';
}

/** The interface language: "en" or "ru". */
export const lang = pickLanguage();

/** The string `key`, with `{name}` placeholders filled from `vars`. */
export function t(key, vars = {}) {
  const text = STRINGS[lang][key] ?? STRINGS.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in vars ? String(vars[name]) : whole));
}

/** "N members" in the interface language. */
export function membersLabel(n) {
  return n === 1 ? t('member') : t('members', { n });
}
