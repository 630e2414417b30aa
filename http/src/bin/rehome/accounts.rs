//! `rehome createsuperuser` and `rehome users list|set-password|deactivate`.

use std::io::{BufRead, IsTerminal};

use anyhow::{Result, anyhow, bail};
use clap::{Args, Subcommand};
use rehome_core::services::{ListParams, Mode};
use rehome_core::{Caller, Rehome, User};
use serde_json::json;

use crate::StoreArg;
use crate::store::describe;

/// `createsuperuser`.
#[derive(Debug, Args)]
pub struct CreateSuperuserArgs {
    /// The new user's name.
    #[arg(long)]
    pub username: String,
    /// The new user's email.
    #[arg(long)]
    pub email: String,
    #[command(flatten)]
    pub store: StoreArg,
}

/// `users ...`.
#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Every user: id, name, email, role, superuser, active.
    List,
    /// Set a user's password (from REHOME_PASSWORD, a prompt, or one line of stdin); the user's
    /// sessions end.
    SetPassword {
        /// Whose.
        username: String,
    },
    /// Deactivate a user: it can no longer log in, and its sessions end at once.
    Deactivate {
        /// Whom.
        username: String,
    },
}

/// The password of a command: `REHOME_PASSWORD` when set, else a hidden prompt asked twice on
/// a terminal, else one line of standard input.
fn read_password() -> Result<String> {
    if let Ok(p) = std::env::var("REHOME_PASSWORD") {
        return Ok(p);
    }
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ")?;
        let second = rpassword::prompt_password("Password (again): ")?;
        if first != second {
            bail!("the passwords do not match");
        }
        return Ok(first);
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let password = line.trim_end_matches(['\n', '\r']).to_owned();
    if password.is_empty() {
        bail!("no password given (set REHOME_PASSWORD, or write it on standard input)");
    }
    Ok(password)
}

/// Creates a superuser.
pub async fn create_superuser(args: CreateSuperuserArgs) -> Result<()> {
    let core = crate::store::core(&args.store.url()).await?;
    let password = read_password()?;
    let body = json!({
        "username": args.username,
        "email": args.email,
        "password": password,
        "is_superuser": true,
    });
    let user = core
        .create_user(&Caller::system(), &body)
        .await
        .map_err(describe)?;
    core.store().close().await?;
    println!(
        "Superuser \"{}\" created (id {}).",
        user.username, user.id.0
    );
    Ok(())
}

async fn find(core: &Rehome, username: &str) -> Result<User> {
    core.find_user(username)
        .await
        .map_err(describe)?
        .ok_or_else(|| anyhow!("no user called {username:?}"))
}

/// Runs a `users` command.
pub async fn users(store: StoreArg, command: UsersCommand) -> Result<()> {
    let core = crate::store::core(&store.url()).await?;
    let operator = Caller::system();
    match command {
        UsersCommand::List => {
            println!(
                "{:>6}  {:<24} {:<32} {:<16} {:<9} active",
                "id", "username", "email", "role", "superuser"
            );
            let mut page = 1u64;
            loop {
                let params =
                    ListParams::new([("page", page.to_string()), ("page_size", "100".to_owned())]);
                let result = core
                    .list_users(&operator, &params)
                    .await
                    .map_err(describe)?;
                for u in &result.results {
                    println!(
                        "{:>6}  {:<24} {:<32} {:<16} {:<9} {}",
                        u.id.0,
                        u.username,
                        u.email,
                        u.role.as_deref().unwrap_or("-"),
                        if u.is_superuser { "yes" } else { "no" },
                        if u.is_active { "yes" } else { "no" },
                    );
                }
                if !result.has_next() {
                    break;
                }
                page += 1;
            }
        }
        UsersCommand::SetPassword { username } => {
            let user = find(&core, &username).await?;
            let password = read_password()?;
            core.set_password(&operator, user.id, &password)
                .await
                .map_err(describe)?;
            println!("Password of \"{}\" set; its sessions ended.", user.username);
        }
        UsersCommand::Deactivate { username } => {
            let user = find(&core, &username).await?;
            core.update_user(
                &operator,
                user.id,
                &json!({ "is_active": false }),
                Mode::Patch,
                None,
            )
            .await
            .map_err(describe)?;
            println!("\"{}\" deactivated; its sessions ended.", user.username);
        }
    }
    core.store().close().await?;
    Ok(())
}
