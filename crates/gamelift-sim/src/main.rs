//! `gamelift-sim`: run the GameLift simulator as a local server.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use gamelift_sim::{FaultSpec, HttpSink, Model, PingBeaconSpec, Simulator, serve_ping_beacon};

const AFTER_HELP: &str = r#"MODEL FILE (--model FILE, JSON; every field but "fleets" and "queues" is optional):
  {
    "accountId": "123456789012",              ARNs and events use it
    "topicArn": "arn:aws:sns:us-east-1:123456789012:gamelift-placements",
    "seed": 42,                               ids, IPs, ports and fault decisions come from it
    "placementDelayMs": 1000,                 start -> first placement attempt
    "reservationTimeoutSeconds": 60,          RESERVED player session -> TIMEDOUT unless accepted
    "gameSessionLifetimeSeconds": 900,        optional: sessions end by themselves, freeing slots
    "throttling": true,                       per-API token buckets (ThrottlingException)
    "rateLimits": {"StartGameSessionPlacement": {"burst": 50, "rate": 50}},
    "fleets": [{"id": "fleet-…", "region": "us-east-1",   region = the home Region
                "locations": [{"location": "us-east-1", "slots": 100}],
                "playerGatewayMode": "ENABLED"}],     DISABLED (default) | ENABLED | REQUIRED
    "playerGatewayTokenSeconds": 300,         GetPlayerConnectionDetails token lifetime (>= 180)
    "pingBeacons": {"*": {"domain": "127.0.0.1", "port": 7770}},
                                              ListLocations beacons instead of gamelift-ping.<region>.api.aws:7770
    "queues": [{"name": "default-queue", "region": "us-east-1", "timeoutSeconds": 600,
                "destinations": ["fleet-…"], "allowedLocations": ["us-east-1"],
                "priorityConfiguration": {"priorityOrder": ["LOCATION", "LATENCY"],
                                          "locationOrder": ["us-east-1"]}}],
                                          a PriorityConfigurationOverride needs LOCATION there
    "faults": {
      "operations": {"StartGameSessionPlacement": {"errorRate": 0.1,
                     "errorCode": "InternalServiceException", "latencyMs": 50}},
      "events": {"dropRate": 0.0, "duplicateRate": 0.0, "delayRate": 0.0, "delayMs": 0,
                 "placementFailureRate": 0.0}
    }
  }

DEFAULT MODEL (used without --model; print it with --print-model):
  queue "default-queue" (us-east-1, 600 s timeout, LOCATION first in its priority order) ->
  fleet-1a1a1a1a-0000-4000-8000-000000000001 (us-east-1, 100 slots) then
  fleet-2b2b2b2b-0000-4000-8000-000000000002 (eu-west-1, 100 slots);
  placement delay 1 s; reservations time out after 60 s; throttling on; no faults; seed 42.

FAULT SWITCHES (override the model file):
  --no-throttling, --error-rate OP=RATE[:ErrorCode], --latency OP=MS, --drop-events RATE,
  --duplicate-events RATE, --delay-events RATE:MS, --fail-placements RATE. OP may be "*".

CONTROL ROUTES (JSON): GET /_sim/health, GET /_sim/stats,
  POST /_sim/player-sessions/{id}/accept|remove (the game server's Accept/RemovePlayerSession),
  POST /_sim/throttling {"enabled":bool}, POST /_sim/faults {<faults object>}.

REGIONS: requests must be SigV4-signed (the signature is not checked); the Region of the request is
  the one of its credential scope. A queue, fleet, placement or game session exists only in its home
  Region (a game session's is its fleet's, named in its ARN): elsewhere it is NotFoundException.
  Unsigned: MissingAuthenticationTokenException.

POINTING AN SDK AT IT:
  AWS_ENDPOINT_URL_GAMELIFT=http://127.0.0.1:4002 AWS_REGION=us-east-1 \
  AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test  <your program>
"#;

/// A GameLift control-plane simulator (Smithy RPC v2 CBOR and AWS JSON 1.1) with queue placement,
/// player sessions, throttling, fault injection and SNS-shaped placement events.
#[derive(Debug, Parser)]
#[command(name = "gamelift-sim", version, after_help = AFTER_HELP)]
struct Args {
    /// Port to listen on.
    #[arg(long, default_value_t = 4002)]
    port: u16,
    /// Address to bind.
    #[arg(long, default_value = "127.0.0.1")]
    bind: String,
    /// Model file (JSON, see below). Without it the default model is used.
    #[arg(long, value_name = "FILE")]
    model: Option<PathBuf>,
    /// Print the model in effect (as a model file) and exit.
    #[arg(long)]
    print_model: bool,
    /// POST every placement event (SNS envelope) to this http:// URL. Repeatable.
    #[arg(long = "event-url", value_name = "URL")]
    event_urls: Vec<String>,
    /// Print every placement event (SNS envelope JSON) on stdout, one per line.
    #[arg(long)]
    print_events: bool,
    /// Seed for ids and fault decisions (overrides the model).
    #[arg(long)]
    seed: Option<u64>,
    /// Placement delay in milliseconds (overrides the model).
    #[arg(long, value_name = "MS")]
    placement_delay_ms: Option<u64>,
    /// Player-session reservation timeout in seconds (overrides the model).
    #[arg(long, value_name = "SECS")]
    reservation_timeout: Option<u64>,
    /// Turn throttling off.
    #[arg(long)]
    no_throttling: bool,
    /// Fail OP with probability RATE (0..1), optionally with a given error code. Repeatable.
    #[arg(long = "error-rate", value_name = "OP=RATE[:CODE]")]
    error_rates: Vec<String>,
    /// Add MS of latency to OP. Repeatable.
    #[arg(long = "latency", value_name = "OP=MS")]
    latencies: Vec<String>,
    /// Drop placement events with this probability.
    #[arg(long, value_name = "RATE")]
    drop_events: Option<f64>,
    /// Publish placement events twice with this probability.
    #[arg(long, value_name = "RATE")]
    duplicate_events: Option<f64>,
    /// Delay placement events: probability and delay.
    #[arg(long, value_name = "RATE:MS")]
    delay_events: Option<String>,
    /// Make placements end FAILED with this probability.
    #[arg(long, value_name = "RATE")]
    fail_placements: Option<f64>,
    /// Run a UDP ping beacon (an echo) on --bind:PORT and have ListLocations report it for every AWS
    /// location without its own `pingBeacons` entry (0 picks a free port).
    #[arg(long, value_name = "PORT")]
    ping_beacon: Option<u16>,
}

fn parse_kv(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
        .ok_or_else(|| format!("expected OP=VALUE, got '{s}'"))
}

fn build_model(args: &Args) -> Result<Model, String> {
    let mut model = match &args.model {
        Some(p) => Model::from_file(p).map_err(|e| e.to_string())?,
        None => Model::default(),
    };
    if let Some(s) = args.seed {
        model.seed = s;
    }
    if let Some(d) = args.placement_delay_ms {
        model.placement_delay_ms = d;
    }
    if let Some(r) = args.reservation_timeout {
        model.reservation_timeout_seconds = r;
    }
    if args.no_throttling {
        model.throttling = false;
    }
    for e in &args.error_rates {
        let (op, v) = parse_kv(e)?;
        let (rate, code) = match v.split_once(':') {
            Some((r, c)) => (r.to_owned(), Some(c.to_owned())),
            None => (v, None),
        };
        let rate: f64 = rate.parse().map_err(|_| format!("bad rate in '{e}'"))?;
        let spec = model
            .faults
            .operations
            .entry(op)
            .or_insert_with(FaultSpec::default);
        spec.error_rate = rate;
        spec.error_code = code;
    }
    for l in &args.latencies {
        let (op, v) = parse_kv(l)?;
        let ms: u64 = v.parse().map_err(|_| format!("bad latency in '{l}'"))?;
        model
            .faults
            .operations
            .entry(op)
            .or_insert_with(FaultSpec::default)
            .latency_ms = ms;
    }
    if let Some(r) = args.drop_events {
        model.faults.events.drop_rate = r;
    }
    if let Some(r) = args.duplicate_events {
        model.faults.events.duplicate_rate = r;
    }
    if let Some(d) = &args.delay_events {
        let (r, ms) = d
            .split_once(':')
            .ok_or_else(|| format!("expected RATE:MS, got '{d}'"))?;
        model.faults.events.delay_rate = r.parse().map_err(|_| format!("bad rate in '{d}'"))?;
        model.faults.events.delay_ms = ms.parse().map_err(|_| format!("bad delay in '{d}'"))?;
    }
    if let Some(r) = args.fail_placements {
        model.faults.events.placement_failure_rate = r;
    }
    model.validate().map_err(|e| e.to_string())?;
    Ok(model)
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let model = match build_model(&args) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("gamelift-sim: {e}");
            return ExitCode::from(2);
        }
    };
    if args.print_model {
        println!("{}", model.to_json_pretty());
        return ExitCode::SUCCESS;
    }
    let mut model = model;
    // Kept alive until the end of main: dropping it stops the echo.
    let _beacon = match args.ping_beacon {
        None => None,
        Some(port) => match serve_ping_beacon(&format!("{}:{port}", args.bind)).await {
            Ok(b) => {
                model.ping_beacons.insert(
                    "*".to_owned(),
                    PingBeaconSpec {
                        domain: b.local_addr().ip().to_string(),
                        port: b.local_addr().port(),
                    },
                );
                eprintln!("gamelift-sim ping beacon on udp {}", b.local_addr());
                Some(b)
            }
            Err(e) => {
                eprintln!(
                    "gamelift-sim: cannot run a ping beacon on {}:{port}: {e}",
                    args.bind
                );
                return ExitCode::from(1);
            }
        },
    };
    let mut builder = Simulator::builder().model(model);
    for url in &args.event_urls {
        builder = builder.sink(HttpSink::new(url.clone()));
    }
    let sim = builder.build();
    if args.print_events {
        let mut rx = sim.events();
        tokio::spawn(async move {
            while let Some(e) = rx.recv().await {
                println!("{e}");
            }
        });
    }
    let server = match sim.serve(&format!("{}:{}", args.bind, args.port)).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!(
                "gamelift-sim: cannot listen on {}:{}: {e}",
                args.bind, args.port
            );
            return ExitCode::from(1);
        }
    };
    eprintln!(
        "gamelift-sim listening on {} (AWS_ENDPOINT_URL_GAMELIFT={})",
        server.endpoint(),
        server.endpoint()
    );
    let _ = tokio::signal::ctrl_c().await;
    server.shutdown().await;
    ExitCode::SUCCESS
}
