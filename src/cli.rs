//! The commands other than `serve`.

use crate::config::Settings;
use crate::{auth, db};
use anyhow::Context;
use secrecy::SecretString;
use std::io::{BufRead, IsTerminal};

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
