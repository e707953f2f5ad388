//! The authorization matrix of docs/architecture.md#authorization: every route × every kind of caller × their own and someone
//! else's object, against a table of expected answers written out by hand. Each case runs on fresh
//! fakes, so one case's writes cannot decide another's answer.

use fleet_core::ports::SessionStore;

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
        d.store
            .create_placement(&p, None)
            .await
            .expect("seed placement");
    }
    d
}

async fn call(d: &TestDeps, r: R, c: C) -> Answer {
    let who = c.who();
    let s1 = short_id(ARN_1);
    let s2 = short_id(ARN_2);
    let body_id = |id: &str, extra: &str| format!("{{\"id\":\"{id}\"{extra}}}");
    match r {
        R::CreateForA => {
            api(
                d,
                Ev::post("/v1/sessions", create_body(4, &[PLAYER_A]))
                    .by(who)
                    .request(),
            )
            .await
        }
        R::CreateForB => {
            api(
                d,
                Ev::post("/v1/sessions", create_body(4, &[PLAYER_B]))
                    .by(who)
                    .request(),
            )
            .await
        }
        R::GetPlacementOfA => api(d, Ev::get("/v1/placements/pl-a").by(who).request()).await,
        R::GetPlacementOfB => api(d, Ev::get("/v1/placements/pl-b").by(who).request()).await,
        R::GetPlacementOfService => {
            api(d, Ev::get("/v1/placements/pl-svc").by(who).request()).await
        }
        R::CancelPlacementOfA => api(d, Ev::delete("/v1/placements/pl-a").by(who).request()).await,
        R::CancelPlacementOfB => api(d, Ev::delete("/v1/placements/pl-b").by(who).request()).await,
        R::CancelPlacementListingA => {
            api(d, Ev::delete("/v1/placements/pl-svc-a").by(who).request()).await
        }
        R::List => api(d, Ev::get("/v1/sessions").by(who).request()).await,
        R::ListExplain => {
            api(
                d,
                Ev::get("/v1/sessions")
                    .query("explain=true")
                    .by(who)
                    .request(),
            )
            .await
        }
        R::GetSessionF1 => api(d, Ev::get(&format!("/v1/sessions/{s1}")).by(who).request()).await,
        R::GetSessionF2 => {
            api(
                d,
                Ev::get(&format!("/v1/sessions/{}", encode(ARN_2)))
                    .by(who)
                    .request(),
            )
            .await
        }
        R::JoinAsA => {
            api(
                d,
                Ev::post(&format!("/v1/sessions/{s1}/join"), join_body(&[PLAYER_A]))
                    .by(who)
                    .request(),
            )
            .await
        }
        R::JoinAsB => {
            api(
                d,
                Ev::post(&format!("/v1/sessions/{s1}/join"), join_body(&[PLAYER_B]))
                    .by(who)
                    .request(),
            )
            .await
        }
        R::DeleteF1 => {
            api(
                d,
                Ev::delete(&format!("/v1/sessions/{s1}")).by(who).request(),
            )
            .await
        }
        R::UpdateF1ByArn => {
            rpc(
                d,
                Ev::post(
                    "/v1/rpc/update_instance_info",
                    body_id(ARN_1, ",\"playerCount\":2"),
                )
                .by(who)
                .request(),
            )
            .await
        }
        R::UpdateF2ById => {
            rpc(
                d,
                Ev::post(
                    "/v1/rpc/update_instance_info",
                    body_id(&s2, ",\"player_count\":2"),
                )
                .by(who)
                .request(),
            )
            .await
        }
        R::DeleteInfoF1ById => {
            rpc(
                d,
                Ev::post("/v1/rpc/delete_instance_info", body_id(&s1, ""))
                    .by(who)
                    .request(),
            )
            .await
        }
        R::DeleteInfoF2ByArn => {
            rpc(
                d,
                Ev::post("/v1/rpc/delete_instance_info", body_id(ARN_2, ""))
                    .by(who)
                    .request(),
            )
            .await
        }
        R::Locations => api(d, Ev::get("/v1/locations").by(who).request()).await,
        R::LockF1 => {
            api(
                d,
                Ev::new("PATCH", &format!("/v1/sessions/{s1}"))
                    .body(r#"{"joinable":false}"#)
                    .by(who)
                    .request(),
            )
            .await
        }
        R::ProtectF2ByArn => {
            api(
                d,
                Ev::new("PATCH", &format!("/v1/sessions/{}", encode(ARN_2)))
                    .body(r#"{"protected":true}"#)
                    .by(who)
                    .request(),
            )
            .await
        }
        R::ConnectionOfA => {
            api(
                d,
                Ev::post(
                    &format!("/v1/sessions/{s1}/connection"),
                    format!(r#"{{"players":[{{"playerId":"{PLAYER_A}"}}]}}"#),
                )
                .by(who)
                .request(),
            )
            .await
        }
        R::ConnectionOfB => {
            api(
                d,
                Ev::post(
                    &format!("/v1/sessions/{s1}/connection"),
                    format!(r#"{{"players":[{{"playerId":"{PLAYER_B}"}}]}}"#),
                )
                .by(who)
                .request(),
            )
            .await
        }
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
            let a = call(&d, r, c).await;
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
