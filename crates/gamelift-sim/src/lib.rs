//! # gamelift-sim
//!
//! A GameLift control-plane simulator that the real AWS SDKs talk to. It speaks Smithy RPC v2 CBOR
//! (what aws-sdk-gamelift ≥ 1.109 and current botocore send) and AWS JSON 1.1, implements the game
//! session placement operations with GameLift's validation, errors and throttling, and publishes
//! placement events as SNS envelopes around EventBridge events, exactly as a queue's SNS topic would.
//!
//! Start it in-process on a random port:
//!
//! ```no_run
//! # async fn demo() -> Result<(), gamelift_sim::SimError> {
//! use gamelift_sim::{ManualClock, Model, Simulator};
//! let clock = ManualClock::new();
//! let sim = Simulator::builder().model(Model::default()).clock(clock.clone()).build();
//! let mut events = sim.events(); // mpsc::Receiver<String> of SNS envelopes
//! let server = sim.serve("127.0.0.1:0").await?;
//! let endpoint = server.endpoint(); // "http://127.0.0.1:PORT" for AWS_ENDPOINT_URL_GAMELIFT
//! # drop((events, endpoint)); Ok(()) }
//! ```
//!
//! Time only moves through a [`Clock`]: [`SystemClock`] for real runs, [`ManualClock`] for tests
//! (an hour of placements runs in well under a second).

pub mod beacon;
pub mod clock;
pub mod engine;
pub mod error;
pub mod events;
pub mod model;
pub mod region;
pub mod search;
pub mod sim;
pub mod throttle;
pub mod wire;

pub use beacon::{PingBeacon, serve_ping_beacon};
pub use clock::{Clock, ManualClock, SystemClock};
pub use engine::{OPERATIONS, Stats};
pub use error::{ApiError, SimError};
pub use events::{ChannelSink, EventSink, HttpSink, RecordingSink};
pub use model::{
    EventFaults, FaultSpec, Faults, FleetSpec, LocationSpec, Model, PingBeaconSpec,
    PlayerGatewayMode, PriorityConfiguration, QueueSpec, RateLimit,
};
pub use sim::{Protocol, SimServer, Simulator, SimulatorBuilder};
