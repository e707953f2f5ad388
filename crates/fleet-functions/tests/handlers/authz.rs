//! The authorization matrix of docs/architecture.md#authorization: every route × every kind of caller × their own and someone
//! else's object, against a table of expected answers written out by hand. Each case runs on fresh
//! fakes, so one case's writes cannot decide another's answer.

use crate::support_cases::*;
use crate::support_http::*;

/// The callers of the matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum C {
    Nobody,
    A,
    B,
    Service,
    Gs1,
    Gs2,
    Stranger,
}

const CALLERS: [C; 7] = [
    C::Nobody,
    C::A,
    C::B,
    C::Service,
    C::Gs1,
    C::Gs2,
    C::Stranger,
];

impl C {
    fn who(self) -> Who {
        match self {
            Self::Nobody => Who::Nobody,
            Self::A => Who::player(PLAYER_A),
            Self::B => Who::player(PLAYER_B),
            Self::Service => Who::iam(SERVICE),
            Self::Gs1 => Who::iam(GS_F1),
            Self::Gs2 => Who::iam(GS_F2),
            Self::Stranger => Who::iam(STRANGER),
        }
    }
}

/// The routes of the matrix, each on a fixed object: "own" and "other's" are relative to player A,
/// fleet F1 and the service.
#[derive(Debug, Clone, Copy)]
enum R {
    CreateForA,
    CreateForB,
    GetPlacementOfA,
    GetPlacementOfB,
    GetPlacementOfService,
    CancelPlacementOfA,
    CancelPlacementOfB,
    CancelPlacementListingA,
    List,
    ListExplain,
    GetSessionF1,
    GetSessionF2,
    JoinAsA,
    JoinAsB,
    DeleteF1,
    UpdateF1ByArn,
    UpdateF2ById,
    DeleteInfoF1ById,
    DeleteInfoF2ByArn,
    Locations,
    LockF1,
    ProtectF2ByArn,
    ConnectionOfA,
    ConnectionOfB,
}

/// The expected table: which callers are allowed on each route (everyone else is denied).
fn allowed(r: R) -> &'static [C] {
    use C::*;
    match r {
        R::CreateForA => &[A, Service],
        R::CreateForB => &[B, Service],
        R::GetPlacementOfA => &[A, Service],
        R::GetPlacementOfB => &[B, Service],
        R::GetPlacementOfService => &[Service],
        R::CancelPlacementOfA => &[A, Service],
        R::CancelPlacementOfB => &[B, Service],
        // A is listed in it, so it may read it, but only its requester (a service) may cancel it.
        R::CancelPlacementListingA => &[Service],
        R::List | R::GetSessionF1 | R::GetSessionF2 => &[A, B, Service, Gs1, Gs2],
        R::ListExplain => &[Service],
        R::JoinAsA => &[A, Service],
        R::JoinAsB => &[B, Service],
        R::DeleteF1 => &[Service],
        R::UpdateF1ByArn | R::DeleteInfoF1ById => &[Service, Gs1],
        R::UpdateF2ById | R::DeleteInfoF2ByArn => &[Service, Gs2],
        R::Locations => &[A, B, Service, Gs1, Gs2],
        R::LockF1 => &[Service, Gs1],
        R::ProtectF2ByArn => &[Service, Gs2],
        R::ConnectionOfA => &[A, Service],
        R::ConnectionOfB => &[B, Service],
    }
}

/// How a denial must look: 401 without identity, 403 for an unconfigured principal or a refused
/// action, 404 for a placement the caller may not see.
fn denial(r: R, c: C) -> (u16, &'static str) {
    match (c, r) {
        (C::Nobody, _) => (401, "unauthenticated"),
        (C::Stranger, _) => (403, "forbidden"),
        // Game servers may not cancel at all; a listed player may read but not cancel.
        (
            C::Gs1 | C::Gs2,
            R::CancelPlacementOfA | R::CancelPlacementOfB | R::CancelPlacementListingA,
        )
        | (C::A, R::CancelPlacementListingA) => (403, "forbidden"),
        (_, R::CancelPlacementOfA | R::CancelPlacementOfB | R::CancelPlacementListingA) => {
            (404, "not_found")
        }
        (_, R::GetPlacementOfA | R::GetPlacementOfB | R::GetPlacementOfService) => {
            (404, "not_found")
        }
        _ => (403, "forbidden"),
    }
}

/// Every route of the matrix.
const ROUTES: [R; 24] = [
    R::CreateForA,
    R::CreateForB,
    R::GetPlacementOfA,
    R::GetPlacementOfB,
    R::GetPlacementOfService,
    R::CancelPlacementOfA,
    R::CancelPlacementOfB,
    R::CancelPlacementListingA,
    R::List,
    R::ListExplain,
    R::GetSessionF1,
    R::GetSessionF2,
    R::JoinAsA,
    R::JoinAsB,
    R::DeleteF1,
    R::UpdateF1ByArn,
    R::UpdateF2ById,
    R::DeleteInfoF1ById,
    R::DeleteInfoF2ByArn,
    R::Locations,
    R::LockF1,
    R::ProtectF2ByArn,
    R::ConnectionOfA,
    R::ConnectionOfB,
];

async fn world() -> TestDeps {
    let d = deps();
    seed(&d, ARN_1, 8);
    seed(&d, ARN_2, 8);
    for p in [
        placement("pl-a", PLAYER_A, &[PLAYER_A]),
        placement("pl-b", PLAYER_B, &[]),
        placement(
            "pl-svc",
            "arn:aws:iam::123456789012:role/fleetlift-backend",
            &["someone-else"],
        ),
        placement(
            "pl-svc-a",
            "arn:aws:iam::123456789012:role/fleetlift-backend",
            &[PLAYER_A],
        ),
    ] {
        store_placement(&d.store, &p).await;
    }
    d
}

/// The handler and the request (from nobody) of route `r` on its object.
fn request(r: R) -> (H, Ev) {
    use H::*;
    let (s1, s2) = (short_id(ARN_1), short_id(ARN_2));
    let body_id = |id: &str, extra: &str| format!("{{\"id\":\"{id}\"{extra}}}");
    let update = |body| (Rpc, Ev::post("/v1/rpc/update_instance_info", body));
    let end = |body| (Rpc, Ev::post("/v1/rpc/delete_instance_info", body));
    match r {
        R::CreateForA => (Api, route::create(create_body(4, &[PLAYER_A]))),
        R::CreateForB => (Api, route::create(create_body(4, &[PLAYER_B]))),
        R::GetPlacementOfA => (Api, route::get_placement("pl-a")),
        R::GetPlacementOfB => (Api, route::get_placement("pl-b")),
        R::GetPlacementOfService => (Api, route::get_placement("pl-svc")),
        R::CancelPlacementOfA => (Api, route::cancel("pl-a")),
        R::CancelPlacementOfB => (Api, route::cancel("pl-b")),
        R::CancelPlacementListingA => (Api, route::cancel("pl-svc-a")),
        R::List => (Api, route::list()),
        R::ListExplain => (Api, route::list().query("explain=true")),
        R::GetSessionF1 => (Api, route::get_session(&s1)),
        R::GetSessionF2 => (Api, route::get_session(encode(ARN_2))),
        R::JoinAsA => (Api, route::join(&s1, &[PLAYER_A])),
        R::JoinAsB => (Api, route::join(&s1, &[PLAYER_B])),
        R::DeleteF1 => (Api, route::delete_session(&s1)),
        R::UpdateF1ByArn => update(body_id(ARN_1, ",\"playerCount\":2")),
        R::UpdateF2ById => update(body_id(&s2, ",\"player_count\":2")),
        R::DeleteInfoF1ById => end(body_id(&s1, "")),
        R::DeleteInfoF2ByArn => end(body_id(ARN_2, "")),
        R::Locations => (Api, route::locations()),
        R::LockF1 => (Api, route::patch(&s1, r#"{"joinable":false}"#)),
        R::ProtectF2ByArn => (Api, route::patch(encode(ARN_2), r#"{"protected":true}"#)),
        R::ConnectionOfA => (Api, route::connection(&s1, &[PLAYER_A])),
        R::ConnectionOfB => (Api, route::connection(&s1, &[PLAYER_B])),
    }
}

#[tokio::test]
async fn every_route_allows_exactly_the_callers_of_the_expected_table() {
    let (mut cases, mut wrong_allows, mut wrong_denies, mut wrong_codes) = (0, 0, 0, 0);
    let mut report = Vec::new();
    for r in ROUTES {
        for c in CALLERS {
            cases += 1;
            let d = world().await;
            let (h, ev) = request(r);
            let a = answer(&d, h, ev.by(c.who())).await;
            let expect_allow = allowed(r).contains(&c);
            let allowed_now = (200..300).contains(&a.status);
            if expect_allow && !allowed_now {
                wrong_denies += 1;
                report.push(format!(
                    "wrong deny: {r:?} by {c:?} → {} {}",
                    a.status, a.body
                ));
            } else if !expect_allow && allowed_now {
                wrong_allows += 1;
                report.push(format!("wrong allow: {r:?} by {c:?} → {}", a.status));
            } else if !expect_allow {
                let (status, code) = denial(r, c);
                if (a.status, a.code()) != (status, code) {
                    wrong_codes += 1;
                    report.push(format!(
                        "wrong denial: {r:?} by {c:?} → {} {} (expected {status} {code})",
                        a.status,
                        a.code()
                    ));
                }
                // A denial changes nothing and calls nothing downstream.
                if !d.gamelift.calls().is_empty() {
                    report.push(format!(
                        "denied {r:?} by {c:?} still called GameLift: {:?}",
                        d.gamelift.calls()
                    ));
                    wrong_allows += 1;
                }
            }
        }
    }
    println!(
        "authz: cases={cases} wrong_allows={wrong_allows} wrong_denies={wrong_denies} wrong_codes={wrong_codes}"
    );
    assert_eq!(cases, ROUTES.len() * CALLERS.len());
    assert!(report.is_empty(), "{}", report.join("\n"));
}
