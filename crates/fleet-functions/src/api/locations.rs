//! `GET /v1/locations`: where this deployment places sessions, with GameLift's UDP ping beacons.
//!
//! A client pings each beacon (a UDP echo: send a few bytes, time the answer), keeps the best of a
//! few tries per location, and sends the results as `latencies` on create, so the queue places the
//! session where its players are closest. ListLocations changes rarely, so its answer is kept for
//! [`LOCATIONS_TTL_SECS`] in the warm container: a request then costs no GameLift call. When GameLift
//! cannot answer, the last answer is served, however old; with none yet, the failure is the answer.

use fleet_core::ports::{Clock, GameLift, LocationBeacon};
use http::StatusCode;
use lambda_http::{Body, Response};

use super::Call;
use super::http::{self as h};
use super::views::{LocationView, Locations};
use crate::deps::Ports;
use crate::error::ApiError;

/// How long one ListLocations answer is served before it is asked again.
pub const LOCATIONS_TTL_SECS: i64 = 600;

/// `GET /v1/locations`: any authenticated caller.
pub async fn list<P: Ports<GameLift: GameLift>>(
    call: Call<'_, P>,
) -> Result<Response<Body>, ApiError> {
    h::no_params(call.req)?;
    let deps = call.deps;
    let now = deps.clock.now();
    let all = match deps.cache.fresh_locations(now, LOCATIONS_TTL_SECS) {
        Some(all) => all,
        None => {
            call.metrics.count("ListLocationsCalls", 1);
            match deps.gamelift.list_locations().await {
                Ok(all) => {
                    deps.cache.put_locations(now, all.clone());
                    all
                }
                Err(e) => match deps.cache.last_locations() {
                    Some(stale) => {
                        tracing::warn!(error = %e, "ListLocations failed; serving its last answer");
                        stale
                    }
                    None => return Err(e.into()),
                },
            }
        }
    };
    let shown = placed_into(&deps.config.locations, all);
    Ok(h::json(
        StatusCode::OK,
        &Locations {
            locations: shown.iter().map(LocationView::of).collect(),
        },
    ))
}

/// The configured locations in their order, each with GameLift's beacon (one GameLift does not list
/// is shown without a beacon, so a client still sees it); with none configured, every location
/// GameLift lists.
fn placed_into(configured: &[String], all: Vec<LocationBeacon>) -> Vec<LocationBeacon> {
    if configured.is_empty() {
        return all;
    }
    configured
        .iter()
        .map(|name| {
            all.iter()
                .find(|l| &l.location == name)
                .cloned()
                .unwrap_or_else(|| LocationBeacon {
                    location: name.clone(),
                    ping_beacon: None,
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use fleet_core::ports::UdpEndpoint;

    fn beacon(name: &str) -> LocationBeacon {
        LocationBeacon {
            location: name.into(),
            ping_beacon: Some(UdpEndpoint {
                domain: format!("gamelift-ping.{name}.api.aws"),
                port: 7770,
            }),
        }
    }

    #[test]
    fn configured_locations_keep_their_order_and_an_unlisted_one_has_no_beacon() {
        let all = vec![
            beacon("us-east-1"),
            beacon("eu-west-1"),
            beacon("ap-south-1"),
        ];
        let shown = placed_into(
            &["eu-west-1".into(), "us-east-1".into(), "custom-lab".into()],
            all.clone(),
        );
        assert_eq!(
            shown,
            vec![
                beacon("eu-west-1"),
                beacon("us-east-1"),
                LocationBeacon {
                    location: "custom-lab".into(),
                    ping_beacon: None
                }
            ]
        );
        assert_eq!(placed_into(&[], all.clone()), all);
    }
}
