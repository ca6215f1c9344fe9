use clap::Parser;
use folio::config::{AdminCommand, Cli, Command};
use folio::startup::Application;
use folio::{cli, seed, telemetry};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // `.env` is optional; real environment variables win over it.
    let _ = dotenvy::dotenv();
    let args = Cli::parse();
    let _log = telemetry::init_tracing();
    match args.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let app = Application::build(args.settings.clone()).await?;
            tracing::info!(
                "folio listening on http://{}:{} (public URL {})",
                args.settings
                    .bind
                    .rsplit_once(':')
                    .map_or("127.0.0.1", |(host, _)| host),
                app.port(),
                args.settings.base_url()
            );
            app.run_until_stopped().await?;
        }
        Command::Seed { posts } => seed::run(&args.settings, posts).await?,
        Command::Admin {
            command: AdminCommand::Create { username },
        } => cli::admin_create(&args.settings, &username).await?,
    }
    Ok(())
}
