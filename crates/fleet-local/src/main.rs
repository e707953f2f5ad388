//! `fleet-local`: the whole fleetlift system on loopback with one command.
//!
//! - `fleet-local` / `fleet-local up`: starts everything, prints the endpoints, then a line per request,
//!   placement step and delivery; Ctrl-C stops it all. JSON logs and EMF metrics go to a log file
//!   (`--log-format json` prints them instead).
//! - `fleet-local token --sub PLAYER [--access]`: prints a player token, alone on stdout (HS256 with
//!   the dev key, or with `--access` a Cognito-access-token-shaped RS256 token from the local JWKS).
//! - `fleet-local demo`: bots against a stack of its own (or a running one with `--http`/`--ws`): a
//!   progress bar on stderr, then a summary table on stdout; exit status 1 when a bot failed.
//!
//! The performance suites are their own binary, `fleet-bench`.
//!
//! Every failure is one line on stderr and exit code 1, never a backtrace.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use fleet_local::demo::{self, DemoOptions, Progress};
use fleet_local::dynamodb_local::{self, InstallerOutput};
use fleet_local::gateway::{mint_access_token, mint_token};
use fleet_local::local::{self, GatewayAuth};
use fleet_local::logs::{self, LogFile, LogFormat};
use fleet_local::signing::SigningKey;
use fleet_local::stack::{self, Stack, StackOptions};
use fleet_local::term::{self, Output};
use time::UtcOffset;

#[derive(Parser, Debug)]
#[command(
    name = "fleet-local",
    version,
    about = "The whole fleetlift system on loopback: DynamoDB Local, gamelift-sim, the API Gateway emulation, the queue, the stream and the sweeper"
)]
#[command(args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    up: UpArgs,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Start the stack (the default) and print its endpoints; Ctrl-C stops everything.
    Up(UpArgs),
    /// Print a player token (JWT) accepted by the gateways, alone on stdout.
    Token(TokenArgs),
    /// Run bots that create, subscribe, join, report and end sessions; then print a summary.
    Demo(DemoArgs),
}

#[derive(Args, Debug, Clone)]
struct UpArgs {
    /// HTTP API port (0 = a free one).
    #[arg(long, default_value_t = stack::DEFAULT_HTTP_PORT)]
    http_port: u16,
    /// WebSocket API port (0 = a free one).
    #[arg(long, default_value_t = stack::DEFAULT_WS_PORT)]
    ws_port: u16,
    /// gamelift-sim port (0 = a free one).
    #[arg(long, default_value_t = stack::DEFAULT_GAMELIFT_PORT)]
    gamelift_port: u16,
    /// DynamoDB Local port (0 = a free one).
    #[arg(long, default_value_t = stack::DEFAULT_DYNAMODB_PORT)]
    dynamodb_port: u16,
    /// Keep DynamoDB Local's data in DIR between runs (default: in memory).
    #[arg(long, value_name = "DIR")]
    persist: Option<PathBuf>,
    /// The simulator's model (JSON; `cargo run -p gamelift-sim -- --print-model` prints an example).
    #[arg(long, value_name = "FILE")]
    sim_config: Option<PathBuf>,
    /// Use an already running DynamoDB (Local) at URL instead of starting one.
    #[arg(long, value_name = "URL", env = "FLEETLIFT_DYNAMODB_ENDPOINT")]
    dynamodb_endpoint: Option<String>,
    /// Use a real GameLift at URL instead of the simulator (standard AWS credentials; its placement
    /// events do not reach the local queue, the sweeper resolves placements instead).
    #[arg(long, value_name = "URL", env = "AWS_ENDPOINT_URL_GAMELIFT")]
    gamelift_endpoint: Option<String>,
    /// The GameLift queue (default: the model's first queue).
    #[arg(long, env = "FLEETLIFT_QUEUE_NAME")]
    queue_name: Option<String>,
    /// The table.
    #[arg(long, default_value = "fleetlift")]
    table: String,
    /// Seconds between two sweeper runs.
    #[arg(long, default_value_t = 10.0)]
    sweep_interval: f64,
    /// The service SigV4 key, ACCESS_KEY:SECRET.
    #[arg(long, value_name = "KEY:SECRET", env = "FLEETLIFT_LOCAL_SERVICE_KEY")]
    service_key: Option<String>,
    /// The all-fleets game-server SigV4 key, ACCESS_KEY:SECRET.
    #[arg(
        long,
        value_name = "KEY:SECRET",
        env = "FLEETLIFT_LOCAL_GAME_SERVER_KEY"
    )]
    game_server_key: Option<String>,
    /// The HS256 key of player tokens.
    #[arg(long, env = "FLEETLIFT_LOCAL_JWT_SECRET", hide_env_values = true)]
    jwt_secret: Option<String>,
    /// `text`: a line per request and placement step on stdout, JSON logs and EMF metrics in the log
    /// file; `json`: the JSON logs and EMF metrics on stdout, as a Lambda writes them.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    /// The log file of the text format, emptied at start [default: ~/.cache/fleetlift/fleet-local.log,
    /// fleet-local-demo.log for the demo].
    #[arg(long, value_name = "FILE", env = "FLEETLIFT_LOG_FILE")]
    log_file: Option<PathBuf>,
}

#[derive(Args, Debug)]
struct TokenArgs {
    /// The player id (the token's `sub`).
    #[arg(long)]
    sub: String,
    /// Validity in seconds.
    #[arg(long, default_value_t = 86_400)]
    ttl: u64,
    /// The HS256 key (must match the stack's).
    #[arg(long, env = "FLEETLIFT_LOCAL_JWT_SECRET", hide_env_values = true)]
    jwt_secret: Option<String>,
    /// A token shaped like a Cognito access token instead: RS256 by the local issuer's JWKS key
    /// (`kid` in the header), `client_id` and `token_use: access`, no `aud`.
    #[arg(long)]
    access: bool,
}

#[derive(Args, Debug)]
struct DemoArgs {
    /// Concurrent bots.
    #[arg(long, default_value_t = 8)]
    bots: u32,
    /// Sessions per bot.
    #[arg(long, default_value_t = 5)]
    rounds: u32,
    /// A running stack's HTTP API (with --ws); without it the demo starts its own stack on free ports.
    #[arg(long, requires = "ws")]
    http: Option<String>,
    /// A running stack's WebSocket API (with --http).
    #[arg(long, requires = "http")]
    ws: Option<String>,
    /// Options of the demo's own stack.
    #[command(flatten)]
    stack: UpArgs,
}

/// A one-line failure.
struct Failure(String);

impl<E: std::fmt::Display> From<E> for Failure {
    fn from(e: E) -> Self {
        Self(e.to_string())
    }
}

fn key(value: Option<&str>, default: (&str, &str), flag: &str) -> Result<SigningKey, Failure> {
    match value {
        None => Ok(SigningKey {
            access_key: default.0.into(),
            secret: default.1.into(),
        }),
        Some(v) => match v.split_once(':') {
            Some((k, s)) if !k.is_empty() && !s.is_empty() => Ok(SigningKey {
                access_key: k.into(),
                secret: s.into(),
            }),
            _ => Err(Failure(format!("{flag} must be ACCESS_KEY:SECRET"))),
        },
    }
}

fn stack_options(a: &UpArgs) -> Result<StackOptions, Failure> {
    let sim_model = match &a.sim_config {
        Some(path) => Some(
            gamelift_sim::Model::from_file(path)
                .map_err(|e| Failure(format!("--sim-config {}: {e}", path.display())))?,
        ),
        None => None,
    };
    if !(a.sweep_interval.is_finite() && a.sweep_interval > 0.0 && a.sweep_interval <= 86_400.0) {
        return Err(Failure(
            "--sweep-interval must be a number of seconds between 0 and 86400".into(),
        ));
    }
    Ok(StackOptions {
        http_port: a.http_port,
        ws_port: a.ws_port,
        gamelift_port: a.gamelift_port,
        dynamodb_port: a.dynamodb_port,
        persist: a.persist.clone(),
        sim_model,
        dynamodb_endpoint: a.dynamodb_endpoint.clone().filter(|s| !s.is_empty()),
        gamelift_endpoint: a.gamelift_endpoint.clone().filter(|s| !s.is_empty()),
        queue_name: a.queue_name.clone().filter(|s| !s.is_empty()),
        table: a.table.clone(),
        sweep_interval: Duration::from_secs_f64(a.sweep_interval),
        service_key: key(
            a.service_key.as_deref(),
            (local::SERVICE_ACCESS_KEY, local::SERVICE_SECRET),
            "--service-key",
        )?,
        game_server_key: key(
            a.game_server_key.as_deref(),
            (local::GAME_SERVER_ACCESS_KEY, local::GAME_SERVER_SECRET),
            "--game-server-key",
        )?,
        jwt_secret: a.jwt_secret.clone().map_or_else(
            || local::DEV_JWT_SECRET.as_bytes().to_vec(),
            String::into_bytes,
        ),
        ..StackOptions::default()
    })
}

/// Who is watching the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Audience {
    /// `up`: a person reads stdout; warnings on stderr too.
    Up,
    /// `demo`: stderr is the progress bar's alone, stdout the summary's.
    Demo,
}

/// Opens the log file (text format) and points the logs, the EMF metrics and the terminal lines where
/// `audience` wants them; returns the log file, if any.
fn outputs(
    format: LogFormat,
    log_file: Option<&PathBuf>,
    audience: Audience,
    offset: UtcOffset,
) -> Result<Option<LogFile>, Failure> {
    let file = match format {
        LogFormat::Json => None,
        LogFormat::Text => {
            let path = log_file.cloned().unwrap_or_else(|| {
                fleet_local::cache::log_file(match audience {
                    Audience::Up => "fleet-local.log",
                    Audience::Demo => "fleet-local-demo.log",
                })
            });
            Some(LogFile::create(&path).map_err(|e| {
                Failure(format!(
                    "cannot write the log file {}: {e} (choose another with --log-file, or --log-format json)",
                    path.display()
                ))
            })?)
        }
    };
    logs::init(format, file.as_ref(), audience == Audience::Up);
    let term_output = match (format, audience) {
        (LogFormat::Text, Audience::Up) => Some(Output::Text {
            writer: Box::new(std::io::stdout()),
            color: term::stdout_wants_color(),
            offset,
        }),
        // The demo's lines are kept, among the logs (its terminal is the progress bar and the summary).
        (_, Audience::Demo) | (LogFormat::Json, Audience::Up) => Some(Output::Events),
    };
    if let Some(output) = term_output {
        term::install(output);
    }
    Ok(file)
}

fn print_endpoints(stack: &Stack, log: Option<&LogFile>) {
    let o = stack.options();
    println!("fleetlift is up (Ctrl-C stops everything)\n");
    println!("  HTTP API        {}   (GET /v1/health)", stack.http_url());
    println!("  WebSocket API   {}/?token=<jwt>", stack.ws_url());
    println!(
        "  Console         {}   (live, in a browser)",
        stack.console_url()
    );
    let sim = if stack.sim().is_some() {
        "gamelift-sim"
    } else {
        "GameLift (external)"
    };
    println!("  {sim:<15} {}", stack.gamelift_url());
    println!(
        "  DynamoDB        {}   (table {})",
        stack.dynamodb_url(),
        stack.table()
    );
    if let Some(log) = log {
        println!(
            "  Logs, metrics   {}   (JSON logs and EMF lines; --log-format json prints them here)",
            log.path().display()
        );
    }
    println!("\nFor a client:\n");
    for (k, v) in stack.client_env() {
        println!("export {k}={v}");
    }
    println!(
        "export AWS_ACCESS_KEY_ID={} AWS_SECRET_ACCESS_KEY={}   # the service key; sign for region {}, service {}",
        o.service_key.access_key,
        o.service_key.secret,
        local::REGION,
        local::SIGV4_SERVICE
    );
    println!("\nA player token:   fleet-local token --sub player-1");
    if !stack.fleet_keys().is_empty() {
        println!("Per-fleet game-server keys:");
        for k in stack.fleet_keys() {
            println!("  {}  {}:{}", k.fleet_id, k.key.access_key, k.key.secret);
        }
    }
    if log.is_some() {
        println!("\nRequests, placements and deliveries as they happen:\n");
    }
}

async fn shutdown_signal() {
    fleet_local::shutdown::signal("fleet-local").await;
}

async fn up(args: UpArgs, offset: UtcOffset) -> Result<(), Failure> {
    let options = stack_options(&args)?;
    let log = outputs(
        args.log_format,
        args.log_file.as_ref(),
        Audience::Up,
        offset,
    )?;
    match &log {
        Some(log) => eprintln!(
            "fleet-local: starting (the first run installs Java 17 and DynamoDB Local); logs and metrics: {}",
            log.path().display()
        ),
        None => {
            eprintln!("fleet-local: starting (the first run installs Java 17 and DynamoDB Local)…")
        }
    }
    // Ctrl-C during start-up must also stop what has started: start races the signal.
    let stack = tokio::select! {
        s = stack::start(options) => s?,
        () = shutdown_signal() => return Err(Failure("interrupted while starting".into())),
    };
    print_endpoints(&stack, log.as_ref());
    shutdown_signal().await;
    eprintln!("\nfleet-local: stopping…");
    stack.shutdown().await;
    eprintln!("fleet-local: stopped");
    Ok(())
}

async fn run_demo(args: DemoArgs, offset: UtcOffset) -> Result<(), Failure> {
    let log = outputs(
        args.stack.log_format,
        args.stack.log_file.as_ref(),
        Audience::Demo,
        offset,
    )?;
    let progress = Progress::stderr();
    let mut own = None;
    let (http_url, ws_url, auth, service_key, game_server_key) = match (args.http, args.ws) {
        (Some(h), Some(w)) => {
            let o = stack_options(&args.stack)?;
            let mut auth = GatewayAuth::local([]);
            auth.jwt_secret = o.jwt_secret;
            (h, w, Arc::new(auth), o.service_key, o.game_server_key)
        }
        _ => {
            let mut o = stack_options(&args.stack)?;
            // The demo's own stack never collides with a running one: free ports unless asked.
            for (port, default) in [
                (&mut o.http_port, stack::DEFAULT_HTTP_PORT),
                (&mut o.ws_port, stack::DEFAULT_WS_PORT),
                (&mut o.gamelift_port, stack::DEFAULT_GAMELIFT_PORT),
                (&mut o.dynamodb_port, stack::DEFAULT_DYNAMODB_PORT),
            ] {
                if *port == default {
                    *port = 0;
                }
            }
            let started = std::time::Instant::now();
            let step = progress.step("starting a stack of its own…");
            let s = tokio::select! {
                s = start_demo_stack(o, log.as_ref()) => s,
                () = shutdown_signal() => Err(Failure("interrupted while starting".into())),
            };
            let s = match s {
                Ok(s) => s,
                Err(e) => {
                    step.failed();
                    return Err(e);
                }
            };
            step.done(format!(
                "stack up in {:.1} s; watch it live at {}",
                started.elapsed().as_secs_f64(),
                s.console_url()
            ));
            let out = (
                s.http_url().to_owned(),
                s.ws_url().to_owned(),
                s.auth(),
                s.options().service_key.clone(),
                s.options().game_server_key.clone(),
            );
            own = Some(s);
            out
        }
    };
    let options = DemoOptions {
        http_url,
        ws_url,
        bots: args.bots.max(1),
        rounds: args.rounds.max(1),
        max_players: 4,
        push_timeout: Duration::from_secs(30),
        auth,
        service_key,
        game_server_key,
    };
    let summary = tokio::select! {
        s = demo::run_with_progress(options, progress) => Some(s),
        () = shutdown_signal() => None,
    };
    if let Some(s) = own {
        s.shutdown().await;
    }
    let Some(s) = summary else {
        return Err(Failure("interrupted".into()));
    };
    print!("{}", s.table());
    if let Some(log) = &log {
        println!("\nlogs and metrics: {}", log.path().display());
    }
    if s.failed_bots > 0 {
        Err(Failure(format!(
            "{} of {} bots failed (the summary lists the first errors)",
            s.failed_bots, s.bots
        )))
    } else if s.placements == 0 {
        Err(Failure("no placement went through".into()))
    } else {
        Ok(())
    }
}

/// The demo's own stack. DynamoDB Local is installed first with the installer's output in the log file
/// (a first run downloads Java and the package), so that stderr stays the progress bar's.
async fn start_demo_stack(options: StackOptions, log: Option<&LogFile>) -> Result<Stack, Failure> {
    if options.dynamodb_endpoint.is_none() {
        let to = log.map_or_else(
            || dynamodb_local::cache_dir().join("dynamodb-local-install.log"),
            |l| l.path().to_owned(),
        );
        dynamodb_local::install(&InstallerOutput::File(to)).await?;
    }
    Ok(stack::start(options).await?)
}

fn token(args: &TokenArgs) -> Result<(), Failure> {
    if args.sub.is_empty() || args.sub.chars().count() > fleet_core::limits::PLAYER_ID_MAX {
        return Err(Failure(
            "--sub must be a player id of 1–1024 characters".into(),
        ));
    }
    let mut auth = GatewayAuth::local([]);
    if let Some(secret) = &args.jwt_secret {
        auth.jwt_secret = secret.clone().into_bytes();
    }
    let token = if args.access {
        mint_access_token(&auth, &args.sub, args.ttl)
    } else {
        mint_token(&auth, &args.sub, args.ttl)
    };
    println!("{token}");
    Ok(())
}

fn main() {
    // Read while this is the only thread: the platform's time zone calls are not thread-safe.
    let offset = term::local_offset();
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        // Help and version are clap's "errors" too; it prints them the right way and exits.
        Err(e) => e.exit(),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("fleet-local: cannot start the async runtime: {e}");
            std::process::exit(1);
        }
    };
    let result = match cli.command {
        Some(Command::Token(args)) => token(&args),
        other => runtime.block_on(async move {
            match other {
                Some(Command::Demo(args)) => run_demo(args, offset).await,
                Some(Command::Up(args)) => up(args, offset).await,
                _ => up(cli.up, offset).await,
            }
        }),
    };
    if let Err(Failure(message)) = result {
        eprintln!("fleet-local: {message}");
        std::process::exit(1);
    }
}
