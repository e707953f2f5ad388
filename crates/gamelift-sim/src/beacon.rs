//! UDP ping beacons: the endpoints ListLocations reports, and a local echo to point them at.
//!
//! GameLift runs a fixed UDP echo in every location it hosts in, `gamelift-ping.<region>.api.aws` port
//! 7770 for a Region and `gamelift-ping-<zone code>.<parent region>.api.aws` for a Local Zone
//! (`us-west-2-lax-1` → `gamelift-ping-lax.us-west-2.api.aws`), as its API reference (`UDPEndpoint`) and
//! its developer guide ("UDP ping beacons", the table of endpoints) give them. Custom (Anywhere)
//! locations have none. The echo answers any non-empty message of at most 300 bytes with the same
//! bytes, the guide's contract for a beacon.

use std::net::SocketAddr;

use tokio::net::UdpSocket;
use tokio::task::JoinHandle;

use crate::error::SimError;
use crate::model::is_custom_location;
use crate::region::is_aws_region;

/// GameLift's ping beacon port.
pub const BEACON_PORT: u16 = 7770;
/// The largest ping a beacon answers (GameLift: "keep messages under the maximum size of 300 bytes").
pub const MAX_PING_BYTES: usize = 300;

/// GameLift's own beacon for `location`: `(domain, port)`, or `None` for a custom location.
pub fn default_beacon(location: &str) -> Option<(String, u16)> {
    if is_custom_location(location) {
        return None;
    }
    if is_aws_region(location) {
        return Some((format!("gamelift-ping.{location}.api.aws"), BEACON_PORT));
    }
    // A Local Zone is its parent Region, a zone code and a number: us-east-1-chi-1.
    let parts: Vec<&str> = location.split('-').collect();
    for cut in (3..parts.len()).rev() {
        let (region, zone) = parts.split_at(cut);
        let region = region.join("-");
        if is_aws_region(&region)
            && let [code @ .., number] = zone
            && !code.is_empty()
            && number.bytes().all(|b| b.is_ascii_digit())
        {
            return Some((
                format!("gamelift-ping-{}.{region}.api.aws", code.join("-")),
                BEACON_PORT,
            ));
        }
    }
    // Not a name GameLift uses; keep the Region form so the answer still has GameLift's shape.
    Some((format!("gamelift-ping.{location}.api.aws"), BEACON_PORT))
}

/// A running UDP echo (see [`serve_ping_beacon`]). Dropping it stops the echo.
pub struct PingBeacon {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl PingBeacon {
    /// The bound address: what to put in the model's `pingBeacons`.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for PingBeacon {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Binds `addr` (e.g. `"127.0.0.1:0"`) and answers every ping as a GameLift beacon does: a datagram of
/// 1 to 300 bytes comes back unchanged to its sender; anything else is dropped.
pub async fn serve_ping_beacon(addr: &str) -> Result<PingBeacon, SimError> {
    let socket = UdpSocket::bind(addr).await?;
    let local = socket.local_addr()?;
    let task = tokio::spawn(async move {
        // One byte more than a ping may hold, so that an oversized datagram is seen as such.
        let mut buf = [0u8; MAX_PING_BYTES + 1];
        loop {
            match socket.recv_from(&mut buf).await {
                Ok((n, peer)) if (1..=MAX_PING_BYTES).contains(&n) => {
                    if let Some(ping) = buf.get(..n)
                        && let Err(e) = socket.send_to(ping, peer).await
                    {
                        tracing::debug!(error = %e, %peer, "ping beacon could not answer");
                    }
                }
                Ok(_) => {}
                Err(e) => tracing::debug!(error = %e, "ping beacon receive failed"),
            }
        }
    });
    tracing::info!(beacon = %local, "gamelift-sim ping beacon listening");
    Ok(PingBeacon { addr: local, task })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_and_local_zones_have_gamelifts_beacon_names_and_custom_locations_none() {
        let beacon = |l: &str| default_beacon(l).map(|(d, p)| format!("{d}:{p}"));
        assert_eq!(
            beacon("ap-northeast-1").as_deref(),
            Some("gamelift-ping.ap-northeast-1.api.aws:7770")
        );
        assert_eq!(
            beacon("us-west-2-lax-1").as_deref(),
            Some("gamelift-ping-lax.us-west-2.api.aws:7770")
        );
        assert_eq!(
            beacon("af-south-1-los-1").as_deref(),
            Some("gamelift-ping-los.af-south-1.api.aws:7770")
        );
        assert_eq!(beacon("custom-home-lab"), None);
    }

    #[tokio::test]
    async fn the_echo_answers_a_ping_with_its_bytes_and_ignores_an_oversized_one() {
        let beacon = serve_ping_beacon("127.0.0.1:0").await.expect("bind");
        let client = UdpSocket::bind("127.0.0.1:0").await.expect("client");
        client.connect(beacon.local_addr()).await.expect("connect");
        client.send(&[0u8; MAX_PING_BYTES + 1]).await.expect("send");
        client.send(b"ping-1").await.expect("send");
        let mut buf = [0u8; 512];
        let n = tokio::time::timeout(std::time::Duration::from_secs(5), client.recv(&mut buf))
            .await
            .expect("answered")
            .expect("recv");
        assert_eq!(&buf[..n], b"ping-1", "the oversized ping got no answer");
    }
}
