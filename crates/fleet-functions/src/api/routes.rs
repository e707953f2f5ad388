//! The routes of the HTTP APIs and how API Gateway's HTTP APIs match a request against them.
//!
//! API Gateway decodes percent-escapes in the path before it matches routes, so `%2F` in a session
//! ARN is a `/` by then: `{id}` (one segment) never matches an ARN, and the session routes are
//! greedy, `{id+}`, which takes the rest of the path. A greedy variable must be the last segment, so
//! `POST /v1/sessions/{id}/join` and `POST /v1/sessions/{id}/connection` cannot be declared;
//! `POST /v1/sessions/{id+}` carries both, and the handler takes the last segment off the id.

use std::collections::BTreeMap;

/// fleet-api's routes as template.yaml declares them (deploy/routes.json, checked by a test):
/// `(method, path template)`.
pub const FLEET_API: [(&str, &str); 10] = [
    ("POST", "/v1/sessions"),
    ("GET", "/v1/placements/{placementId}"),
    ("DELETE", "/v1/placements/{placementId}"),
    ("GET", "/v1/sessions"),
    ("GET", "/v1/sessions/{id+}"),
    ("POST", "/v1/sessions/{id+}"),
    ("DELETE", "/v1/sessions/{id+}"),
    ("PATCH", "/v1/sessions/{id+}"),
    ("GET", "/v1/locations"),
    ("GET", "/v1/health"),
];

/// Matches a decoded `path` against a route `template` as API Gateway does: a literal segment
/// matches itself, `{name}` one non-empty segment, `{name+}` (last only) the non-empty rest of the
/// path, slashes included. Returns the path parameters.
pub fn match_template(template: &str, path: &str) -> Option<BTreeMap<String, String>> {
    let mut rest = path.strip_prefix('/')?;
    let mut parts = template.strip_prefix('/')?.split('/').peekable();
    let mut params = BTreeMap::new();
    while let Some(part) = parts.next() {
        let variable = part.strip_prefix('{').and_then(|p| p.strip_suffix('}'));
        if let Some(name) = variable.and_then(|v| v.strip_suffix('+')) {
            if rest.is_empty() || parts.peek().is_some() {
                return None;
            }
            params.insert(name.to_owned(), rest.to_owned());
            return Some(params);
        }
        let (segment, tail) = match rest.split_once('/') {
            Some((segment, tail)) => (segment, Some(tail)),
            None => (rest, None),
        };
        match variable {
            Some(name) if !segment.is_empty() => {
                params.insert(name.to_owned(), segment.to_owned());
            }
            Some(_) => return None,
            None if part == segment => {}
            None => return None,
        }
        match (tail, parts.peek()) {
            (Some(tail), Some(_)) => rest = tail,
            (None, None) => rest = "",
            _ => return None,
        }
    }
    Some(params)
}

/// The names of a template's path parameters (`{id+}` is `id`, as API Gateway names it in
/// `pathParameters`).
pub fn parameter_names(template: &str) -> Vec<&str> {
    template
        .split('/')
        .filter_map(|part| part.strip_prefix('{').and_then(|p| p.strip_suffix('}')))
        .map(|name| name.strip_suffix('+').unwrap_or(name))
        .collect()
}

/// How specific a template is, for API Gateway's "most specific route wins": fewer greedy variables,
/// then fewer variables, first.
fn generality(template: &str) -> (usize, usize) {
    (
        template.matches("+}").count(),
        template.matches('{').count(),
    )
}

/// The most specific of `routes` that `method` and the decoded `path` match: its template and its
/// path parameters.
pub fn find<'r>(
    routes: impl IntoIterator<Item = (&'r str, &'r str)>,
    method: &str,
    path: &str,
) -> Option<(&'r str, BTreeMap<String, String>)> {
    routes
        .into_iter()
        .filter(|(m, _)| *m == method)
        .filter_map(|(_, template)| match_template(template, path).map(|p| (template, p)))
        .min_by_key(|(template, _)| generality(template))
}

/// Percent-decodes a path as API Gateway does before matching (`+` stays a `+`: it means a space
/// only in forms). `None` when an escape is broken or the result is not UTF-8: no route matches it.
pub fn decode_path(path: &str) -> Option<String> {
    super::http::percent_decode(path, false).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_greedy_variable_takes_the_rest_of_the_path_and_a_plain_one_one_segment() {
        let arn = "arn:aws:gamelift:us-east-1::gamesession/fleet-1/gsess-1";
        let p = match_template("/v1/sessions/{id+}", &format!("/v1/sessions/{arn}/join"))
            .expect("greedy");
        assert_eq!(p["id"], format!("{arn}/join"));
        assert_eq!(
            match_template("/v1/placements/{placementId}", "/v1/placements/p-1").expect("one")["placementId"],
            "p-1"
        );
        assert!(match_template("/v1/placements/{placementId}", "/v1/placements/a/b").is_none());
        assert!(
            match_template("/v1/sessions/{id+}", "/v1/sessions/").is_none(),
            "empty rest"
        );
        assert!(match_template("/v1/sessions/{id+}", "/v1/sessions").is_none());
        assert!(
            match_template("/v1/sessions", "/v1/sessions/").is_none(),
            "trailing slash"
        );
        assert!(match_template("/v1/sessions", "/v1/sessions").is_some());
        assert!(match_template("/v1/placements/{placementId}", "/v1/placements/").is_none());
        assert!(
            match_template("/v1/{x+}/more", "/v1/a/more").is_none(),
            "greedy must be last"
        );
    }

    #[test]
    fn parameters_are_named_as_api_gateway_names_them() {
        assert_eq!(parameter_names("/v1/sessions/{id+}"), ["id"]);
        assert_eq!(
            parameter_names("/v1/placements/{placementId}"),
            ["placementId"]
        );
        assert!(parameter_names("/v1/sessions").is_empty());
    }

    #[test]
    fn the_most_specific_route_wins() {
        let routes = [
            ("GET", "/v1/{any+}"),
            ("GET", "/v1/sessions/{id}"),
            ("GET", "/v1/sessions/x"),
        ];
        assert_eq!(
            find(routes, "GET", "/v1/sessions/x").map(|r| r.0),
            Some("/v1/sessions/x")
        );
        assert_eq!(
            find(routes, "GET", "/v1/sessions/y").map(|r| r.0),
            Some("/v1/sessions/{id}")
        );
        assert_eq!(
            find(routes, "GET", "/v1/sessions/y/z").map(|r| r.0),
            Some("/v1/{any+}")
        );
        assert!(find(routes, "POST", "/v1/sessions/x").is_none());
    }

    #[test]
    fn paths_are_decoded_once_and_broken_escapes_match_nothing() {
        assert_eq!(
            decode_path("/v1/sessions/arn%3Aa%2Fb+c").as_deref(),
            Some("/v1/sessions/arn:a/b+c")
        );
        assert_eq!(decode_path("/a%252F").as_deref(), Some("/a%2F"));
        assert_eq!(decode_path("/a%2"), None);
        assert_eq!(decode_path("/a%FF"), None);
    }

    #[test]
    fn the_table_is_deploy_routes_json_for_fleet_api() {
        let doc: serde_json::Value =
            serde_json::from_str(include_str!("../../../../deploy/routes.json")).expect("JSON");
        let mut declared: Vec<(String, String)> = doc["routes"]
            .as_array()
            .expect("routes")
            .iter()
            .filter(|r| r["function"] == "fleet-api")
            .map(|r| {
                (
                    r["method"].as_str().unwrap_or_default().to_owned(),
                    r["path"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        let mut ours: Vec<(String, String)> = FLEET_API
            .iter()
            .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
            .collect();
        declared.sort();
        ours.sort();
        assert_eq!(ours, declared);
    }
}
