//! `gatehouse-server --config server.toml` serves; `migrate` only applies the migrations;
//! `token` makes an admin token and the config line that holds its hash.

use clap::{Parser, Subcommand};
use gatehouse_server::auth;
use gatehouse_server::config::Config;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "gatehouse-server",
    about = "The shared multi-lot Gatehouse server"
)]
struct Cli {
    /// The config file (TOML: listen, database, admin_token_sha256, [tls]).
    #[arg(long, global = true, env = "GATEHOUSE_SERVER_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve (the default).
    Serve,
    /// Apply the database migrations it lacks, then exit.
    Migrate,
    /// Make a new admin token; prints it and the admin_token_sha256 line for the config.
    Token,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let command = cli.command.unwrap_or(Command::Serve);
    if let Command::Token = command {
        return match auth::new_token() {
            Ok(token) => {
                println!("admin token (keep it secret; it is not stored): {token}");
                println!(
                    "admin_token_sha256 = \"{}\"",
                    hex::encode(auth::token_sha256(&token))
                );
                ExitCode::SUCCESS
            }
            Err(e) => fail(&format!("the system's random source failed: {e}")),
        };
    }
    let Some(path) = cli.config else {
        return fail("no config: pass --config server.toml (see server/README or openapi.yaml)");
    };
    let config = match Config::load(&path) {
        Ok(c) => c,
        Err(e) => return fail(&e.to_string()),
    };
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => return fail(&format!("cannot start the async runtime: {e}")),
    };
    let result = rt.block_on(async {
        match command {
            Command::Migrate => gatehouse_server::connect(&config).await.map(|_| ()),
            _ => gatehouse_server::run(&config, shutdown_signal()).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e.to_string()),
    }
}

fn fail(msg: &str) -> ExitCode {
    eprintln!("gatehouse-server: error: {msg}");
    ExitCode::FAILURE
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => {
            let _ = ctrl_c.await;
            return;
        }
    };
    tokio::select! {
        _ = ctrl_c => {}
        _ = term.recv() => {}
    }
    eprintln!("gatehouse-server: shutting down");
}
