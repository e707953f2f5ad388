//! The API Gateway emulation of the local stack: the HTTP API (player + service) and the WebSocket API
//! with its `@connections` management API. Both turn traffic into the exact events API Gateway sends
//! and call the very handler functions the Lambda binaries run.
//!
//! What each gateway accepts and refuses, step by step, is docs/local-gateway.md; [`HttpGateway`] and
//! [`WsGateway`] serve any handlers' ports (`Arc<Deps<P>>`), so the stack passes its `LocalDeps` and
//! the tests pass `fleet_core::fakes`.

/// Names a set of port bounds as one trait that every [`fleet_functions::deps::Ports`] meeting them
/// implements (stable Rust has no trait aliases), so a gateway's functions say `P: HttpPorts` once
/// instead of five associated bounds each.
macro_rules! ports_alias {
    ($(#[$meta:meta])* $vis:vis trait $name:ident = $($bounds:tt)+) => {
        $(#[$meta])*
        $vis trait $name: $($bounds)+ {}

        impl<P> $name for P where P: $($bounds)+ {}
    };
}

pub mod http;
pub mod jwt;
pub mod sigv4;
pub mod ws;

pub use self::http::HttpGateway;
pub use self::jwt::{mint_access_token, mint_token};
pub use self::ws::{WsGateway, WsLimits};

/// Percent-decodes `%XX` escapes (a `+` stays a `+`, as in API Gateway's decoded parameters); text
/// that is not UTF-8 once decoded is kept lossily, so decoding never fails on client input.
pub(crate) fn percent_decode(s: &str) -> String {
    fn hex(b: u8) -> Option<u8> {
        (b as char).to_digit(16).and_then(|d| u8::try_from(d).ok())
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%'
            && let (Some(hi), Some(lo)) = (
                bytes.get(i + 1).copied().and_then(hex),
                bytes.get(i + 2).copied().and_then(hex),
            )
        {
            out.push(hi << 4 | lo);
            i += 3;
            continue;
        }
        out.push(b);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A raw query string as decoded `(name, value)` pairs, in order.
pub(crate) fn query_pairs(raw: &str) -> Vec<(String, String)> {
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|part| {
            let (k, v) = part.split_once('=').unwrap_or((part, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

/// API Gateway's `requestContext.time` / `requestTime` form: `25/Nov/2026:10:00:00 +0000`.
pub(crate) fn clf_time(epoch_ms: i64) -> String {
    let format = time::macros::format_description!(
        "[day]/[month repr:short]/[year]:[hour]:[minute]:[second] +0000"
    );
    time::OffsetDateTime::from_unix_timestamp(epoch_ms.div_euclid(1000))
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_default()
}

/// Serves `app` on `listener` in a task until it is aborted, the handlers able to read the peer's
/// address (`ConnectInfo<SocketAddr>`); `gateway` names it in the log line of a failure.
fn spawn_serving(
    listener: tokio::net::TcpListener,
    app: axum::Router,
    gateway: &'static str,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "the {gateway} gateway stopped");
        }
    })
}

/// Milliseconds since the Unix epoch on the system clock (API Gateway's own clock).
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// What the gateways' tests share: a loopback listener, and a server task that ends with the test.
#[cfg(test)]
pub(crate) mod testing {
    /// A listener on a free loopback port, and its address.
    pub(crate) async fn listener() -> (tokio::net::TcpListener, std::net::SocketAddr) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        (listener, addr)
    }

    /// A server's task, aborted when the test drops it.
    pub(crate) struct Serving(pub(crate) tokio::task::JoinHandle<()>);

    impl Drop for Serving {
        fn drop(&mut self) {
            self.0.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding_keeps_plus_and_survives_broken_escapes() {
        assert_eq!(percent_decode("a%2Bb+c%20d"), "a+b+c d");
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
        assert_eq!(percent_decode("%FF"), "\u{FFFD}");
        assert_eq!(
            query_pairs("a=1&&b&c=%3D"),
            vec![
                ("a".into(), "1".into()),
                ("b".into(), String::new()),
                ("c".into(), "=".into())
            ]
        );
    }

    #[test]
    fn request_times_are_in_api_gateways_format() {
        assert_eq!(clf_time(1_795_600_800_000), "25/Nov/2026:10:00:00 +0000");
    }
}
