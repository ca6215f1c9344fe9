//! The command line: its commands, and running the one given.

use crate::config::Settings;
use crate::startup::Application;
use crate::{auth, db, seed};
use anyhow::Context;
use clap::{Parser, Subcommand};
use secrecy::SecretString;
use std::io::{BufRead, IsTerminal};

#[derive(Debug, Parser)]
#[command(
    name = "folio",
    version,
    about = "A server-rendered blog whose pages are cached in Redis and never served stale"
)]
pub struct Cli {
    #[command(flatten)]
    pub settings: Settings,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web server (the default).
    Serve,
    /// Insert N deterministic sample posts, for demos and benchmarks.
    Seed {
        /// How many posts to insert.
        #[arg(long, default_value_t = 20)]
        posts: u32,
    },
    /// Manage admin accounts.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create an admin or reset its password; the password is read from a
    /// prompt, or from stdin when it is not a terminal.
    Create {
        #[arg(long)]
        username: String,
    },
}

impl Cli {
    /// Runs the command given (`serve` when none is).
    pub async fn run(self) -> anyhow::Result<()> {
        let settings = self.settings;
        match self.command.unwrap_or(Command::Serve) {
            Command::Serve => serve(settings).await,
            Command::Seed { posts } => seed::run(&settings, posts).await,
            Command::Admin {
                command: AdminCommand::Create { username },
            } => admin_create(&settings, &username).await,
        }
    }
}

/// `folio serve`: the web server, until it is stopped.
async fn serve(settings: Settings) -> anyhow::Result<()> {
    let app = Application::build(settings.clone()).await?;
    tracing::info!(
        "folio listening on http://{}:{} (public URL {})",
        settings
            .bind
            .rsplit_once(':')
            .map_or("127.0.0.1", |(host, _)| host),
        app.port(),
        settings.base_url()
    );
    app.run_until_stopped().await?;
    Ok(())
}

/// `folio admin create --username U`: the password from a prompt, or from the
/// first line of stdin when it is not a terminal; never from argv.
pub async fn admin_create(settings: &Settings, username: &str) -> anyhow::Result<()> {
    let password = if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password(format!("Password for {username}: "))?;
        let again = rpassword::prompt_password("Again: ")?;
        anyhow::ensure!(first == again, "the passwords differ");
        first
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("cannot read the password from stdin")?;
        line.trim_end_matches(['\r', '\n']).to_string()
    };
    let db = db::connect(&settings.database_url).await?;
    auth::create_or_reset(&db, username, SecretString::from(password)).await?;
    eprintln!("admin \u{201c}{username}\u{201d} saved");
    Ok(())
}
