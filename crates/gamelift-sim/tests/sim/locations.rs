//! ListLocations: every location the model knows with GameLift's UDP ping beacons
//! (`gamelift-ping.<region>.api.aws:7770`), custom locations with their ARN and no beacon, GameLift's
//! request limits, pagination, and beacons pointed at a local echo, through the real SDK (RPC v2 CBOR)
//! and raw AWS JSON 1.1.

use std::time::Duration;

use aws_sdk_gamelift::Client;
use aws_sdk_gamelift::types::{LocationFilter, LocationModel};
use gamelift_sim::{LocationSpec, Model, PingBeaconSpec, serve_ping_beacon};
use serde_json::json;

use super::{INVALID, assert_json_error, client_in, code, json11_in, quiet_model, start};

/// The default fleets (us-east-1 and eu-west-1) with remote locations, a Local Zone among them, and a
/// custom location on the us-east-1 fleet.
fn many_locations() -> Model {
    let mut model = quiet_model();
    for (fleet, location) in [
        (0, "sa-east-1"),
        (0, "custom-home-lab"),
        (1, "eu-central-1"),
        (1, "us-west-2-lax-1"),
    ] {
        model.fleets[fleet]
            .locations
            .push(LocationSpec::new(location, 1));
    }
    model
}

const AWS_LOCATIONS: [&str; 5] = [
    "eu-central-1",
    "eu-west-1",
    "sa-east-1",
    "us-east-1",
    "us-west-2-lax-1",
];

fn names(locations: &[LocationModel]) -> Vec<String> {
    locations
        .iter()
        .map(|l| l.location_name().unwrap_or_default().to_owned())
        .collect()
}

fn find<'a>(locations: &'a [LocationModel], name: &str) -> Option<&'a LocationModel> {
    locations.iter().find(|l| l.location_name() == Some(name))
}

fn beacon(l: &LocationModel) -> Option<(String, i32)> {
    let udp = l.ping_beacon()?.udp_endpoint()?;
    Some((udp.domain()?.to_owned(), udp.port()?))
}

/// ListLocations with `filters` (none: every location), which must succeed.
async fn listed(client: &Client, filters: &[LocationFilter]) -> Vec<LocationModel> {
    // No filter at all, not an empty list: GameLift refuses `Filters: []`.
    let filters = (!filters.is_empty()).then(|| filters.to_vec());
    let call = client.list_locations().set_filters(filters);
    let out = call.send().await.expect("list locations");
    assert_eq!(out.next_token(), None, "everything fits in one page");
    out.locations().to_vec()
}

/// Every page of ListLocations, `limit` at a time.
async fn all_pages(client: &Client, limit: i32) -> (Vec<LocationModel>, usize) {
    let (mut all, mut pages, mut token) = (Vec::new(), 0, None);
    loop {
        let out = client
            .list_locations()
            .limit(limit)
            .set_next_token(token)
            .send()
            .await
            .expect("list locations");
        pages += 1;
        all.extend_from_slice(out.locations());
        token = out.next_token().map(str::to_owned);
        if token.is_none() {
            return (all, pages);
        }
    }
}

#[tokio::test]
async fn list_locations_lists_every_known_location_with_gamelifts_ping_beacon_and_pages_through_them()
 {
    let env = start(many_locations()).await;
    let ep = env.server.endpoint();
    let us = client_in(&ep, "us-east-1");

    let aws = listed(&us, &[LocationFilter::Aws]).await;
    assert_eq!(names(&aws), AWS_LOCATIONS);
    for l in &aws {
        assert_eq!(l.location_arn(), None, "an AWS location has no ARN");
    }
    let by_name = |n: &str| find(&aws, n).and_then(beacon);
    assert_eq!(
        by_name("us-east-1"),
        Some(("gamelift-ping.us-east-1.api.aws".into(), 7770))
    );
    assert_eq!(
        by_name("us-west-2-lax-1"),
        Some(("gamelift-ping-lax.us-west-2.api.aws".into(), 7770)),
        "a Local Zone's beacon is named after its zone code and parent Region"
    );

    // Unfiltered, two at a time: five AWS locations and the custom one in three pages, the same
    // locations in the same order as one page of 200.
    let (paged, pages) = all_pages(&us, 2).await;
    assert_eq!((paged.len(), pages), (6, 3));
    let (whole, one) = all_pages(&us, 200).await;
    assert_eq!((names(&paged), one), (names(&whole), 1));

    // The Region the request is made in is a location too.
    let seoul = listed(&client_in(&ep, "ap-northeast-2"), &[]).await;
    assert!(names(&seoul).contains(&"ap-northeast-2".to_owned()));

    // AWS JSON 1.1: the same shape, and its NextToken works there too.
    let (s, v) = json11_in(&ep, "us-east-1", "ListLocations", json!({"Limit": 4})).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["Locations"].as_array().map(Vec::len), Some(4));
    assert_eq!(v["Locations"][0]["LocationName"], "custom-home-lab");
    assert_eq!(
        v["Locations"][1]["PingBeacon"],
        json!({"UDPEndpoint": {"Domain": "gamelift-ping.eu-central-1.api.aws", "Port": 7770}})
    );
    let token = v["NextToken"].as_str().expect("a next page").to_owned();
    let next = json!({"Limit": 4, "NextToken": token});
    let (s, v) = json11_in(&ep, "us-east-1", "ListLocations", next).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["Locations"].as_array().map(Vec::len), Some(2));
    assert!(v.get("NextToken").is_none(), "the last page has no token");
}

#[tokio::test]
async fn a_custom_location_has_its_arn_and_no_ping_beacon_and_filters_pick_aws_or_custom() {
    let env = start(many_locations()).await;
    let ep = env.server.endpoint();
    let us = client_in(&ep, "us-east-1");
    let custom = listed(&us, &[LocationFilter::Custom]).await;
    assert_eq!(names(&custom), ["custom-home-lab"]);
    let lab = &custom[0];
    assert_eq!(
        lab.location_arn(),
        Some("arn:aws:gamelift:us-east-1:123456789012:location/custom-home-lab")
    );
    assert!(
        lab.ping_beacon().is_none(),
        "no beacon for a custom location"
    );

    let both = listed(&us, &[LocationFilter::Aws, LocationFilter::Custom]).await;
    assert_eq!(both.len(), AWS_LOCATIONS.len() + 1);
    let unfiltered = listed(&us, &[]).await;
    assert_eq!(names(&unfiltered), names(&both));

    // Custom locations are regional resources: eu-west-1 has none.
    let eu = listed(&client_in(&ep, "eu-west-1"), &[LocationFilter::Custom]).await;
    assert!(eu.is_empty());
}

#[tokio::test]
async fn list_locations_refuses_a_limit_outside_1_to_200_bad_filters_and_a_token_it_never_gave() {
    let env = start(many_locations()).await;
    let ep = env.server.endpoint();
    let us = client_in(&ep, "us-east-1");
    let list = || us.list_locations();
    for limit in [0, -1, 201] {
        let r = list().limit(limit).send().await;
        assert_eq!(code(r), INVALID, "Limit {limit}");
    }
    let largest = list().limit(200).send().await;
    assert_eq!(code(largest), "ok", "200 is the largest page");
    for (request, why) in [
        (list().next_token("not-a-token"), "a token it never gave"),
        (
            list().filters(LocationFilter::from("LOCAL")),
            "an unknown filter",
        ),
    ] {
        assert_eq!(code(request.send().await), INVALID, "{why}");
    }

    for body in [
        json!({"Filters": []}),
        json!({"Filters": ["AWS", "CUSTOM", "AWS"]}),
        json!({"Limit": 0}),
        json!({"Limit": 201}),
        json!({"NextToken": ""}),
        json!({"NextToken": "x".repeat(1025)}),
    ] {
        let (s, v) = json11_in(&ep, "us-east-1", "ListLocations", body).await;
        assert_json_error(s, &v, INVALID);
    }
}

#[tokio::test]
async fn a_ping_beacon_override_points_list_locations_at_a_local_echo_that_answers() {
    let echo = serve_ping_beacon("127.0.0.1:0").await.expect("echo");
    let mut model = many_locations();
    model.ping_beacons.insert(
        "*".into(),
        PingBeaconSpec {
            domain: "127.0.0.1".into(),
            port: echo.local_addr().port(),
        },
    );
    model.ping_beacons.insert(
        "eu-west-1".into(),
        PingBeaconSpec {
            domain: "localhost".into(),
            port: 9,
        },
    );
    model.validate().expect("valid model");
    let env = start(model).await;
    let us = client_in(&env.server.endpoint(), "us-east-1");
    let all = listed(&us, &[]).await;
    let location = |n: &str| find(&all, n).expect(n);
    assert_eq!(beacon(location("eu-west-1")), Some(("localhost".into(), 9)));
    assert!(location("custom-home-lab").ping_beacon().is_none());
    let (domain, port) = beacon(location("us-east-1")).expect("beacon");
    assert_eq!(port, i32::from(echo.local_addr().port()));

    // A client measures a round trip as it would to gamelift-ping.us-east-1.api.aws.
    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0")
        .await
        .expect("client socket");
    let port = u16::try_from(port).expect("a UDP port");
    socket
        .connect((domain.as_str(), port))
        .await
        .expect("connect");
    socket.send(b"Ping").await.expect("send");
    let mut buf = [0u8; 64];
    let n = tokio::time::timeout(Duration::from_secs(5), socket.recv(&mut buf))
        .await
        .expect("the beacon answers")
        .expect("recv");
    assert_eq!(&buf[..n], b"Ping");
}
