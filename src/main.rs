use clap::Parser;
use folio::cli::Cli;
use folio::telemetry;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // `.env` is optional; real environment variables win over it.
    let _ = dotenvy::dotenv();
    let cli = Cli::parse();
    let _log = telemetry::init_tracing();
    cli.run().await
}
