//! `mychat admin ...`: account administration from the server's console, on the data
//! directory's files directly. It works whether or not a server runs there (it takes no lock;
//! SQLite's own locking and a busy timeout order its writes with the server's batches), and a
//! running server sees a change at once: it reads roles from `users.db` where it checks them,
//! and looks login links up there when one is opened. Each change is written to the audit
//! log, by "console".

use crate::auth;
use crate::config::{AdminCommand, Config};
use crate::db::{AccountRow, Db};
use crate::hub::{Actor, LOGIN_LINK_HOURS};

pub fn run(config: &Config, command: &AdminCommand) -> Result<(), String> {
    let mut db = Db::open_console(&config.data_dir)?;
    match command {
        AdminCommand::List => list(&db),
        AdminCommand::Promote(name) => set_role(&mut db, name, true),
        AdminCommand::Demote(name) => set_role(&mut db, name, false),
        AdminCommand::LoginLink(name) => login_link(&mut db, config, name),
    }
}

fn find(db: &Db, name: &str) -> Result<AccountRow, String> {
    db.find_account(name).map_err(|e| e.to_string())?.ok_or_else(|| format!("no account named {name:?}"))
}

fn list(db: &Db) -> Result<(), String> {
    let mut after = 0;
    println!("{:<32}  {:<6}  {:<9}  {:<24}  last seen", "name", "role", "state", "created");
    loop {
        let page = db.accounts_page(after, 500).map_err(|e| e.to_string())?;
        for a in &page {
            println!(
                "{:<32}  {:<6}  {:<9}  {:<24}  {}",
                a.name,
                if a.is_admin { "admin" } else { "member" },
                if a.disabled_at.is_some() { "disabled" } else { "active" },
                a.created_at.as_deref().unwrap_or("-"),
                a.last_seen.as_deref().unwrap_or("-"),
            );
        }
        match page.last() {
            Some(last) if page.len() == 500 => after = last.seq,
            _ => break,
        }
    }
    Ok(())
}

/// Writes one change in its own transaction (taken before the checks, so the server can't
/// change the same rows in between).
fn change<T>(db: &mut Db, f: impl FnOnce(&mut Db) -> Result<T, String>) -> Result<T, String> {
    db.lock_for_write().map_err(|e| format!("the database is busy: {e}"))?;
    let result = f(db);
    match result {
        Ok(value) => db.commit().map(|()| value).map_err(|e| format!("saving the change: {e}")),
        Err(e) => {
            db.rollback();
            Err(e)
        }
    }
}

fn set_role(db: &mut Db, name: &str, make_admin: bool) -> Result<(), String> {
    change(db, |db| {
        let account = find(db, name)?;
        if account.is_admin == make_admin {
            println!("{} is already {}", account.name, if make_admin { "an administrator" } else { "a member" });
            return Ok(());
        }
        let flags = crate::db::AccountFlags { is_admin: account.is_admin, disabled: account.disabled_at.is_some() };
        if !make_admin && crate::hub::last_admin(db, flags).map_err(|e| e.to_string())? {
            return Err(format!("{} is the last administrator; promote someone else first", account.name));
        }
        db.set_admin(&account.id, make_admin).map_err(|e| e.to_string())?;
        let action = if make_admin { "promote" } else { "demote" };
        crate::hub::audit_entry(db, &Actor::Console, action, Some((&account.id, &account.name)), None)
            .map_err(|e| e.to_string())?;
        println!(
            "{} is {} now (a running server applies it at once)",
            account.name,
            if make_admin { "an administrator" } else { "a member" }
        );
        Ok(())
    })
}

fn login_link(db: &mut Db, config: &Config, name: &str) -> Result<(), String> {
    let (raw, hash) = auth::new_token().map_err(|e| e.to_string())?;
    let account = change(db, |db| {
        let account = find(db, name)?;
        if account.disabled_at.is_some() {
            return Err(format!("{} is disabled; enable it on the admin page first", account.name));
        }
        let now = crate::clock::unix_now();
        db.insert_login_link(&account.id, &hash, None, now, now + LOGIN_LINK_HOURS * 3600)
            .map_err(|e| e.to_string())?;
        crate::hub::audit_entry(db, &Actor::Console, "login_link", Some((&account.id, &account.name)), None)
            .map_err(|e| e.to_string())?;
        Ok(account)
    })?;
    let path = format!("/login-link?token={raw}");
    println!(
        "A one-time login link for {}, valid for {LOGIN_LINK_HOURS} h (it replaces any earlier one):",
        account.name
    );
    match &config.public_url {
        Some(url) => {
            let link = format!("{url}{path}");
            println!("\n  {link}\n");
            if let Some(code) = crate::qr::terminal(&link) {
                println!("{code}");
            }
        }
        None => println!(
            "\n  https://YOUR-CHAT-ADDRESS{path}\n\n(set --public-url or MYCHAT_PUBLIC_URL to print the whole link and a QR code)"
        ),
    }
    Ok(())
}
