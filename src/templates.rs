//! Server-rendered pages: `{{name}}` inserts a value HTML-escaped, `{{t.key}}` a string of the
//! page's language (escaped too), `{{asset:path}}` the URL of a static file (content-hashed
//! when compiled in, see [`Assets::url`]), `{{> file}}` another template. There is no way to
//! insert unescaped text: lists are built by [`Html`], which escapes as it goes.
//!
//! The page's language is the `lang` cookie's (the language switch sets it), else the first
//! of `Accept-Language` we speak, else English.

use crate::assets::Assets;
use crate::http::request::Request;

/// The cookie that holds the reader's choice of language.
pub const LANG_COOKIE: &str = "lang";

/// The interface languages: the original UI was Russian.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Ru,
}

impl Lang {
    /// The `lang` cookie's language; else the first of `Accept-Language` we speak; else English.
    pub fn of(request: &Request) -> Lang {
        let chosen = request.header("cookie").and_then(|c| crate::http::form::cookie(c, LANG_COOKIE));
        if let Some(lang) = chosen.and_then(Lang::from_code) {
            return lang;
        }
        let header = request.header("accept-language").unwrap_or("");
        for tag in header.split(',') {
            let tag = tag.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
            if tag.starts_with("ru") {
                return Lang::Ru;
            }
            if tag.starts_with("en") {
                return Lang::En;
            }
        }
        Lang::En
    }

    /// `en` or `ru`.
    pub fn from_code(code: &str) -> Option<Lang> {
        match code {
            "en" => Some(Lang::En),
            "ru" => Some(Lang::Ru),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ru => "ru",
        }
    }
}

/// `(key, English, Russian)`.
const STRINGS: &[(&str, &str, &str)] = &[
    ("app", "MyChat", "MyChat"),
    ("app_heading", "MyChat: chats and rooms", "MyChat: чаты и комнаты"),
    ("login_title", "Sign in", "Вход"),
    ("register_title", "Create an account", "Регистрация"),
    ("username", "User name", "Имя пользователя"),
    ("password", "Password", "Пароль"),
    ("login", "Sign in", "Войти"),
    ("register", "Register", "Зарегистрироваться"),
    ("no_account", "No account yet?", "Нет аккаунта?"),
    ("have_account", "Already registered?", "Уже есть аккаунт?"),
    ("have_login_link", "Got a login link?", "Есть ссылка для входа?"),
    ("login_link_paste", "Paste the link an administrator gave you", "Вставьте ссылку, которую дал администратор"),
    ("open_login_link", "Open the link", "Открыть ссылку"),
    ("password_hint", "8 to 1024 characters", "от 8 до 1024 символов"),
    ("logout", "Sign out", "Выйти"),
    ("logout_question", "Sign out of MyChat on this device?", "Выйти из MyChat на этом устройстве?"),
    ("cancel", "Cancel", "Отмена"),
    ("search", "Search users", "Поиск пользователей"),
    ("search_placeholder", "Name contains…", "Имя содержит…"),
    ("no_results", "Nobody found.", "Никого не найдено."),
    ("back", "Back", "Назад"),
    ("online", "online", "в сети"),
    ("offline", "offline", "не в сети"),
    ("open_chat", "Open chat", "Открыть чат"),
    ("err_credentials", "Wrong user name or password.", "Неверное имя пользователя или пароль."),
    ("err_taken", "That user name is taken.", "Это имя уже занято."),
    ("err_too_many", "Too many attempts. Try again in a minute.", "Слишком много попыток. Попробуйте через минуту."),
    ("err_busy", "The server is busy. Try again.", "Сервер занят. Попробуйте ещё раз."),
    ("err_name_rule", "User name must be 1 to 32 characters.", "Имя должно быть от 1 до 32 символов."),
    ("err_password_rule", "Password must be 8 to 1024 characters.", "Пароль должен быть от 8 до 1024 символов."),
    ("not_found", "Not found", "Не найдено"),
    ("tagline", "Private chats and rooms on your own server.", "Личные чаты и комнаты на вашем сервере."),
    ("chats", "Chats", "Чаты"),
    ("create_room", "Create a room", "Создать комнату"),
    ("app_search_label", "Search chats, people and messages", "Поиск чатов, людей и сообщений"),
    ("app_search_placeholder", "Search…", "Поиск…"),
    ("search_results", "Search results", "Результаты поиска"),
    ("chat_menu", "Conversation menu", "Меню чата"),
    (
        "room_created_intro",
        "The room is ready. Add people now, or later from the members button.",
        "Комната готова. Добавьте участников сейчас или позже кнопкой участников.",
    ),
    ("find_people", "Find people…", "Найти людей…"),
    ("done", "Done", "Готово"),
    (
        "pick_chat",
        "Choose a person or a room to start chatting.",
        "Выберите пользователя или комнату, чтобы начать общение.",
    ),
    ("back_to_list", "Back to chats", "Назад к чатам"),
    ("messages", "Messages", "Сообщения"),
    ("message", "Message", "Сообщение"),
    ("message_placeholder", "Write a message…", "Напишите сообщение…"),
    ("composer_hint", "Enter sends, Shift+Enter starts a new line", "Enter — отправить, Shift+Enter — новая строка"),
    ("send", "Send", "Отправить"),
    ("attach_file", "Attach files", "Прикрепить файлы"),
    ("attach_photo", "Attach photos", "Прикрепить фото"),
    ("take_photo", "Take a photo", "Сделать снимок"),
    ("uploads", "Files to send", "Файлы к отправке"),
    ("drop_here", "Drop files to send them here", "Перетащите файлы сюда, чтобы отправить"),
    ("viewer", "Photo viewer", "Просмотр фото"),
    ("previous_image", "Previous photo", "Предыдущее фото"),
    ("next_image", "Next photo", "Следующее фото"),
    ("download", "Download", "Скачать"),
    ("scroll_bottom", "Scroll to the newest messages", "К новым сообщениям"),
    ("members", "Members", "Участники"),
    ("add_members", "Add people", "Добавить участников"),
    ("bots", "Bots", "Боты"),
    (
        "bots_about",
        "A bot posts what a tool sends (Uptime Kuma, Home Assistant, Healthchecks, Grafana…) into this room.",
        "Бот пишет в эту комнату то, что присылает программа (Uptime Kuma, Home Assistant, Healthchecks, Grafana…).",
    ),
    ("bot_name", "New bot's name", "Имя нового бота"),
    ("bot_create", "Create bot", "Создать бота"),
    ("delete_room", "Delete room", "Удалить комнату"),
    (
        "delete_room_question",
        "Delete this room for everyone? All its messages will be lost.",
        "Удалить комнату для всех? Все её сообщения будут потеряны.",
    ),
    ("delete", "Delete", "Удалить"),
    ("room_name", "Room name", "Название комнаты"),
    ("room_description", "Description (optional)", "Описание (необязательно)"),
    ("create", "Create", "Создать"),
    ("close", "Close", "Закрыть"),
    ("enable_notifications", "Enable notifications", "Включить уведомления"),
    ("push_settings", "Notifications and app", "Уведомления и приложение"),
    ("signed_in_as", "Signed in as", "Вы вошли как"),
    (
        "needs_js",
        "The chat needs JavaScript. Without it you can still find people:",
        "Для чата нужен JavaScript. Без него можно найти пользователей:",
    ),
    ("search_hint", "Type part of a name and press Enter.", "Введите часть имени и нажмите Enter."),
    ("find", "Search", "Найти"),
    ("show_password", "Show password", "Показать пароль"),
    ("language_current", "Language: English. Switch to:", "Язык: русский. Переключить на:"),
    // Household administration, one's own account, login links (src/http/admin.rs, account.rs).
    (
        "err_disabled",
        "This account is disabled. Ask an administrator.",
        "Эта учётная запись отключена. Обратитесь к администратору.",
    ),
    ("err_registration_closed", "Registration is closed on this server.", "Регистрация на этом сервере закрыта."),
    (
        "err_invite_needed",
        "New accounts need an invitation. Ask an administrator for a link.",
        "Для регистрации нужно приглашение. Попросите ссылку у администратора.",
    ),
    (
        "err_invite_invalid",
        "This invitation is not valid: it may be mistyped or revoked.",
        "Это приглашение недействительно: возможно, в ссылке ошибка или его отозвали.",
    ),
    (
        "err_invite_expired",
        "This invitation has expired. Ask for a new one.",
        "Срок действия приглашения истёк. Попросите новое.",
    ),
    (
        "err_invite_used_up",
        "This invitation has been used up. Ask for a new one.",
        "Это приглашение уже использовано. Попросите новое.",
    ),
    ("link_title", "One-time sign-in", "Одноразовый вход"),
    ("link_question", "Sign in on this device as", "Войти на этом устройстве как"),
    (
        "link_note",
        "The link works once. You can set a new password right after.",
        "Ссылка действует один раз. Сразу после входа можно задать новый пароль.",
    ),
    ("link_button", "Sign in", "Войти"),
    (
        "link_invalid",
        "This sign-in link is not valid: it was mistyped, replaced by a newer one, or already used.",
        "Эта ссылка для входа недействительна: в ней ошибка, её заменили новой или уже использовали.",
    ),
    (
        "link_expired",
        "This sign-in link has expired. Ask an administrator for a new one.",
        "Срок действия ссылки для входа истёк. Попросите новую у администратора.",
    ),
    ("settings", "Settings", "Настройки"),
    ("administration", "Administration", "Администрирование"),
    ("back_to_chat", "Back to the chat", "Назад в чат"),
    ("show_more", "Show more", "Показать ещё"),
    ("show_older", "Show older entries", "Показать более ранние"),
    ("accounts", "Accounts", "Учётные записи"),
    ("invites", "Invitations", "Приглашения"),
    (
        "invites_note",
        "An invitation is a link that lets people register while registration is by invitation.",
        "Приглашение — это ссылка, по которой можно зарегистрироваться, пока регистрация только по приглашениям.",
    ),
    ("invite_uses", "How many people", "Сколько человек"),
    ("invite_expiry", "Valid for", "Действует"),
    ("expiry_day", "a day", "сутки"),
    ("expiry_week", "a week", "неделю"),
    ("expiry_month", "30 days", "30 дней"),
    ("invite_create", "Create invitation", "Создать приглашение"),
    ("invite_link", "Invitation link (shown once)", "Ссылка-приглашение (показывается один раз)"),
    ("copy", "Copy", "Копировать"),
    ("registration", "Registration", "Регистрация"),
    ("mode_open", "Open", "Открыта"),
    (
        "mode_open_note",
        "Anyone who can reach the server may register.",
        "Зарегистрироваться может любой, кто видит сервер.",
    ),
    ("mode_invite", "By invitation", "По приглашениям"),
    ("mode_invite_note", "Only with an invitation link.", "Только по ссылке-приглашению."),
    ("mode_closed", "Closed", "Закрыта"),
    ("mode_closed_note", "Nobody may register.", "Регистрация невозможна."),
    ("audit_log", "Audit log", "Журнал действий"),
    ("stored_files", "Files", "Файлы"),
    ("login_link", "One-time sign-in link", "Одноразовая ссылка для входа"),
    ("login_link_url", "Link (works once)", "Ссылка (действует один раз)"),
    ("delete_account", "Delete account", "Удалить учётную запись"),
    (
        "delete_account_effects",
        "The account, its sessions, its invitations, its settings and the files it uploaded are deleted, and it leaves every room. Its messages stay, shown as from “deleted account”. Rooms it created pass to their longest-standing member; a room with no other member is deleted. This can't be undone.",
        "Удаляются учётная запись, её сеансы, приглашения, настройки и загруженные ею файлы; она покидает все комнаты. Её сообщения остаются и показываются как от «удалённой учётной записи». Созданные ею комнаты переходят к участнику, который состоит в них дольше всех; комната без других участников удаляется. Отменить это нельзя.",
    ),
    ("delete_account_confirm", "Delete for good", "Удалить навсегда"),
    (
        "welcome_link",
        "You are signed in. Set a new password now, so you can sign in again later.",
        "Вы вошли. Задайте новый пароль, чтобы входить и в дальнейшем.",
    ),
    ("change_password", "Change password", "Сменить пароль"),
    (
        "password_sso",
        "You sign in through your organisation's single sign-on; there is no password here.",
        "Вы входите через единый вход вашей организации; пароля здесь нет.",
    ),
    ("current_password", "Current password", "Текущий пароль"),
    ("new_password", "New password", "Новый пароль"),
    ("repeat_password", "New password again", "Новый пароль ещё раз"),
    (
        "password_ends_others",
        "Changing the password signs out your other devices.",
        "После смены пароля остальные устройства выйдут из учётной записи.",
    ),
    ("sessions_title", "Your devices", "Ваши устройства"),
    (
        "sessions_note",
        "Each browser or app you signed in with. Sign out one you don't recognise, then change your password.",
        "Браузеры и приложения, в которых вы вошли. Выйдите на незнакомом устройстве и смените пароль.",
    ),
    ("end_others", "Sign out everywhere else", "Выйти на всех других устройствах"),
];

pub fn text(lang: Lang, key: &str) -> &'static str {
    STRINGS.iter().find(|(k, _, _)| *k == key).map_or("", |(_, en, ru)| if lang == Lang::Ru { ru } else { en })
}

/// HTML-escapes text for element content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Markup built from trusted tags and escaped text; the only way raw HTML enters a page.
#[derive(Default)]
pub struct Html(String);

impl Html {
    /// Appends markup written in our source code.
    pub fn tag(&mut self, markup: &'static str) -> &mut Html {
        self.0.push_str(markup);
        self
    }

    /// Appends text, escaped.
    pub fn text(&mut self, text: &str) -> &mut Html {
        self.0.push_str(&escape(text));
        self
    }
}

/// A value for a placeholder.
#[derive(Clone, Copy)]
pub enum Value<'a> {
    Text(&'a str),
    Markup(&'a Html),
}

/// Renders template `name`. Unknown placeholders render empty; a missing template is a
/// deployment error, rendered as a one-line notice.
pub fn render(assets: &Assets, name: &str, lang: Lang, vars: &[(&str, Value)]) -> String {
    match assets.template(name) {
        Some(source) => expand(assets, &source, lang, vars, true),
        None => {
            log::error!("template {name} is missing");
            format!("template {} is missing", escape(name))
        }
    }
}

/// Fills in the placeholders of `source`. Includes are expanded one level deep: an included
/// template's own includes are left out.
fn expand(assets: &Assets, source: &str, lang: Lang, vars: &[(&str, Value)], includes: bool) -> String {
    let mut out = String::with_capacity(source.len() + 256);
    let mut rest = source;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            rest = &rest[start..];
            break;
        };
        let key = after[..end].trim();
        match key.strip_prefix('>') {
            Some(include) if includes => {
                if let Some(part) = assets.template(include.trim()) {
                    out.push_str(&expand(assets, &part, lang, vars, false));
                }
            }
            Some(_) => {}
            None => push_value(&mut out, assets, key, lang, vars),
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

/// Values every page may use.
fn global(key: &str) -> Option<String> {
    match key {
        "max_message_chars" => Some(crate::protocol::MAX_TEXT_CHARS.to_string()),
        _ => None,
    }
}

fn push_value(out: &mut String, assets: &Assets, key: &str, lang: Lang, vars: &[(&str, Value)]) {
    if key == "lang" {
        out.push_str(lang.code());
    } else if let Some(path) = key.strip_prefix("asset:") {
        out.push_str(&escape(&assets.url(path.trim())));
    } else if let Some(value) = global(key) {
        out.push_str(&escape(&value));
    } else if let Some(k) = key.strip_prefix("t.") {
        out.push_str(&escape(text(lang, k)));
    } else if let Some((_, value)) = vars.iter().find(|(k, _)| *k == key) {
        match value {
            Value::Text(t) => out.push_str(&escape(t)),
            Value::Markup(html) => out.push_str(&html.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_everything_it_inserts() {
        assert_eq!(
            escape(r#"<script>alert("x")</script> & 'y'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
        let mut html = Html::default();
        html.tag("<li>").text("<b>").tag("</li>");
        assert_eq!(html.0, "<li>&lt;b&gt;</li>");
    }

    #[test]
    fn renders_values_strings_and_one_level_of_includes() {
        let dir = std::env::temp_dir().join(format!("mychat-templates-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("templates")).unwrap();
        std::fs::write(
            dir.join("templates/page.html"),
            "<p>{{name}}|{{t.login}}|{{missing}}|{{> part.html}}|{{unclosed",
        )
        .unwrap();
        std::fs::write(dir.join("templates/part.html"), "[{{name}}{{> page.html}}]").unwrap();
        let assets = Assets::new(Some(dir.clone()));
        let page = render(&assets, "page.html", Lang::Ru, &[("name", Value::Text("<i>"))]);
        assert_eq!(page, "<p>&lt;i&gt;|Войти||[&lt;i&gt;]|{{unclosed");
        assert_eq!(render(&assets, "nope.html", Lang::En, &[]), "template nope.html is missing");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn every_string_a_template_names_exists() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let source = std::fs::read_to_string(&path).unwrap();
            for part in source.split("{{t.").skip(1) {
                let key = part.split("}}").next().unwrap_or("").trim();
                assert!(
                    STRINGS.iter().any(|(k, _, _)| *k == key),
                    "{} names {{{{t.{key}}}}}, which is not in STRINGS",
                    path.display()
                );
            }
        }
    }

    #[test]
    fn every_string_has_both_languages() {
        for (key, en, ru) in STRINGS {
            assert!(!en.is_empty() && !ru.is_empty(), "{key}");
        }
    }
}
