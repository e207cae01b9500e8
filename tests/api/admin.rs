//! The admin area through the router: no admin route answers without valid credentials
//! (every route, every method; wrong password, wrong token, tampered cookie, missing CSRF
//! token, another origin); failed logins are audited and rate-limited; an upload with
//! errors cannot be published; concurrent publishes stay linear; a rollback restores the
//! old answers and ETags; the audit log has every step.

use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use dtmap::api::routes::{path_parameters, ROUTES};
use dtmap::api::{AppState, Settings};
use dtmap::config::{AdminUser, Config};
use dtmap::publish::ops::Base;
use dtmap::publish::server::{shared, Publisher};
use serde_json::Value;

use crate::common::{get, send, Reply};

const PASSWORD: &str = "correct horse battery";
const TOKEN: &str = "script-token-0123456789";

fn hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| dtmap::api::auth::hash_password(PASSWORD).unwrap())
}

/// The built-in data with an admin area: users amina and omar, a token, a data directory.
pub struct Admin {
    pub state: Arc<AppState>,
    pub dir: tempfile::TempDir,
}

pub fn admin_config(dir: &std::path::Path, max_upload_mb: usize) -> Config {
    let mut config = Config::builtin();
    config.server.admin_token = Some(TOKEN.into());
    config.admin.users = ["amina", "omar"]
        .iter()
        .map(|name| AdminUser {
            name: name.to_string(),
            password_hash: hash().to_string(),
        })
        .collect();
    config.admin.data_dir = Some(dir.to_string_lossy().into_owned());
    config.admin.max_upload_mb = max_upload_mb;
    config
}

pub fn admin_state(max_upload_mb: usize) -> Admin {
    let dir = tempfile::tempdir().unwrap();
    let config = admin_config(dir.path(), max_upload_mb);
    let (snapshot, report) = dtmap::data::load(&config);
    assert!(report.is_ok());
    let state = AppState::new(snapshot, Settings::from_config(&config));
    let base = config.clone();
    let publisher = Publisher::new(
        dir.path().to_path_buf(),
        Arc::new(move || {
            Ok(Base {
                config: base.clone(),
                text: dtmap::builtin::BUILTIN_CONFIG.to_string(),
            })
        }),
    )
    .unwrap();
    let _ = state.rounds.set(shared(publisher));
    Admin { state, dir }
}

/// Logs in; the cookie header value and the CSRF token.
pub async fn login(state: &Arc<AppState>, user: &str, password: &str) -> Reply {
    send(
        state,
        Request::post("/admin/login")
            .header("content-type", "application/json")
            .body(Body::from(
                serde_json::json!({ "user": user, "password": password }).to_string(),
            ))
            .unwrap(),
    )
    .await
}

pub async fn session(state: &Arc<AppState>) -> (String, String) {
    let reply = login(state, "amina", PASSWORD).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.json());
    let cookie = reply.header("set-cookie").unwrap().to_string();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
    let pair = cookie.split(';').next().unwrap().to_string();
    (pair, reply.json()["csrf"].as_str().unwrap().to_string())
}

/// A multipart body of a master list and the form's fields.
pub fn multipart(file_name: &str, file: &[u8], fields: &[(&str, &str)]) -> (String, Vec<u8>) {
    let boundary = "dtmapboundary7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// A master list of round `round` from the last round of the built-in sites: every site,
/// figures scaled by `percent`.
pub fn master_list(percent: i64) -> String {
    let counts = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("geodata/iraq/site_counts.csv"),
    )
    .unwrap();
    let mut out = String::from("site_id,idp_families,idp_individuals\n");
    for line in counts.lines().filter(|l| l.contains(",2019-10-31,")) {
        let cells: Vec<&str> = line.split(',').collect();
        let scale = |v: &str| v.parse::<i64>().unwrap() * percent / 100;
        out.push_str(&format!(
            "{},{},{}\n",
            cells[0],
            scale(cells[2]),
            scale(cells[3])
        ));
    }
    out
}

async fn upload_as_token(
    state: &Arc<AppState>,
    csv: &str,
    round: &str,
    extra: &[(&str, &str)],
) -> Reply {
    let mut fields = vec![("round", round)];
    fields.extend_from_slice(extra);
    let (content_type, body) = multipart("master.csv", csv.as_bytes(), &fields);
    send(
        state,
        Request::post("/admin/rounds")
            .header("authorization", format!("Bearer {TOKEN}"))
            .header("content-type", content_type)
            .body(Body::from(body))
            .unwrap(),
    )
    .await
}

async fn post_token(state: &Arc<AppState>, uri: &str) -> Reply {
    send(
        state,
        Request::post(uri)
            .header("authorization", format!("Bearer {TOKEN}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await
}

fn audit_lines(dir: &std::path::Path) -> Vec<Value> {
    std::fs::read_to_string(dir.join("audit.log"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Every admin route with a concrete path, except the page and the login form, which
/// answer without credentials (and hold no data).
fn guarded_routes() -> Vec<String> {
    ROUTES
        .iter()
        .filter(|r| r.path.starts_with("/admin/") && r.path != "/admin/login")
        .map(|r| {
            path_parameters(r.path)
                .iter()
                .fold(r.path.to_string(), |p, name| {
                    p.replace(&format!("{{{name}}}"), "1")
                })
        })
        .collect()
}

const METHODS: [Method; 6] = [
    Method::GET,
    Method::HEAD,
    Method::POST,
    Method::PUT,
    Method::DELETE,
    Method::PATCH,
];

async fn call(
    state: &Arc<AppState>,
    method: &Method,
    uri: &str,
    headers: &[(&str, &str)],
) -> Reply {
    let mut request = Request::builder()
        .method(method.clone())
        .uri(uri)
        .header("host", "example.test");
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    send(state, request.body(Body::empty()).unwrap()).await
}

#[tokio::test]
async fn no_admin_route_answers_without_valid_credentials() {
    let admin = admin_state(32);
    let state = &admin.state;
    let (cookie, csrf) = session(state).await;
    let value = cookie.split_once('=').unwrap().1;
    let mut flipped = value.to_string().into_bytes();
    let last = flipped.len() - 1;
    flipped[last] = if flipped[last] == b'a' { b'b' } else { b'a' };
    let tampered = format!("dtmap_admin={}", String::from_utf8(flipped).unwrap());
    let routes = guarded_routes();
    assert!(routes.len() >= 11, "{routes:?}");
    for uri in &routes {
        for method in &METHODS {
            let what = format!("{method} {uri}");
            let refused = |reply: &Reply, with: &str| {
                assert!(
                    matches!(
                        reply.status,
                        StatusCode::UNAUTHORIZED | StatusCode::METHOD_NOT_ALLOWED
                    ),
                    "{what} {with}: {}",
                    reply.status
                );
                let body = String::from_utf8_lossy(&reply.body);
                assert!(
                    !["\"drafts\"", "\"versions\"", "\"lines\"", "\"csrf\""]
                        .iter()
                        .any(|key| body.contains(key)),
                    "{what}: {body}"
                );
            };
            refused(&call(state, method, uri, &[]).await, "without credentials");
            refused(
                &call(
                    state,
                    method,
                    uri,
                    &[("authorization", "Bearer wrong-token")],
                )
                .await,
                "wrong token",
            );
            refused(
                &call(
                    state,
                    method,
                    uri,
                    &[("authorization", &format!("Bearer {TOKEN}x"))],
                )
                .await,
                "longer token",
            );
            refused(
                &call(state, method, uri, &[("cookie", &tampered)]).await,
                "tampered cookie",
            );
            refused(
                &call(state, method, uri, &[("cookie", "dtmap_admin=amina")]).await,
                "forged cookie",
            );
            if *method != Method::GET && *method != Method::HEAD {
                // A valid session, but no CSRF token, a wrong one, or another origin.
                for headers in [
                    vec![("cookie", cookie.as_str())],
                    vec![("cookie", cookie.as_str()), ("x-csrf-token", "0000")],
                    vec![
                        ("cookie", cookie.as_str()),
                        ("x-csrf-token", csrf.as_str()),
                        ("origin", "https://evil.example"),
                    ],
                ] {
                    let reply = call(state, method, uri, &headers).await;
                    assert!(
                        matches!(
                            reply.status,
                            StatusCode::FORBIDDEN | StatusCode::METHOD_NOT_ALLOWED
                        ),
                        "{what} {headers:?}: {}",
                        reply.status
                    );
                }
            }
        }
    }
    // The session itself, with its token, is let in; so is the bearer token.
    let ok = call(
        state,
        &Method::GET,
        "/admin/versions",
        &[("cookie", &cookie)],
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK);
    let ok = call(
        state,
        &Method::POST,
        "/admin/logout",
        &[
            ("cookie", &cookie),
            ("x-csrf-token", &csrf),
            ("origin", "http://example.test"),
        ],
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK);
    let ok = call(
        state,
        &Method::GET,
        "/admin/drafts",
        &[("authorization", &format!("Bearer {TOKEN}"))],
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK);
    // Nothing under /admin is cached or framed, the login page included.
    for uri in ["/admin", "/admin/versions", "/admin/session"] {
        let reply = call(state, &Method::GET, uri, &[("cookie", &cookie)]).await;
        assert_eq!(reply.header("cache-control"), Some("no-store"), "{uri}");
        assert_eq!(reply.header("x-frame-options"), Some("DENY"), "{uri}");
        assert_eq!(
            reply.header("content-security-policy"),
            Some("frame-ancestors 'none'"),
            "{uri}"
        );
        assert!(reply.header("etag").is_none(), "{uri}");
    }
}

#[tokio::test]
async fn without_an_admin_configured_there_are_no_admin_routes() {
    let state = crate::common::iraq_state();
    for route in ROUTES.iter().filter(|r| r.path.starts_with("/admin")) {
        let uri = path_parameters(route.path)
            .iter()
            .fold(route.path.to_string(), |p, name| {
                p.replace(&format!("{{{name}}}"), "1")
            });
        for method in &METHODS {
            let reply = call(
                &state,
                method,
                &uri,
                &[("authorization", "Bearer anything")],
            )
            .await;
            assert_eq!(reply.status, StatusCode::NOT_FOUND, "{method} {uri}");
        }
    }
}

#[tokio::test]
async fn failed_logins_are_audited_and_rate_limited() {
    let admin = admin_state(32);
    let state = &admin.state;
    for _ in 0..dtmap::config::MAX_FAILED_LOGINS_PER_USER {
        let reply = login(state, "amina", "wrong").await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        assert!(reply.header("set-cookie").is_none());
    }
    // Blocked now, even with the right password; another user is not.
    let blocked = login(state, "amina", PASSWORD).await;
    assert_eq!(blocked.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(blocked.header("retry-after").is_some());
    assert_eq!(login(state, "omar", PASSWORD).await.status, StatusCode::OK);
    // An unknown user fails like a wrong password.
    assert_eq!(
        login(state, "nobody", PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
    let lines = audit_lines(admin.dir.path());
    let failed: Vec<&Value> = lines
        .iter()
        .filter(|l| l["action"] == "login_failed")
        .collect();
    assert_eq!(
        failed.len(),
        dtmap::config::MAX_FAILED_LOGINS_PER_USER as usize + 1
    );
    assert_eq!(failed[0]["user"], "amina");
    assert!(failed[0]["at"].as_str().unwrap().ends_with('Z'));
    assert!(lines
        .iter()
        .any(|l| l["action"] == "login_refused" && l["user"] == "amina"));
    assert!(lines
        .iter()
        .any(|l| l["action"] == "login" && l["user"] == "omar"));
    // Addresses: after enough failures from one place, every name is refused.
    for i in 0..dtmap::config::MAX_FAILED_LOGINS_PER_ADDRESS {
        login(state, &format!("guess{i}"), "x").await;
    }
    assert_eq!(
        login(state, "omar", PASSWORD).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn an_upload_with_errors_cannot_be_published() {
    let admin = admin_state(32);
    let state = &admin.state;
    let before = get(state, "/collections/sites/items?limit=3").await;
    let mut csv = master_list(100);
    csv.push_str("GN100050,lots,12\n");
    let reply = upload_as_token(state, &csv, "2019-12-31", &[("label", "Round 113")]).await;
    assert_eq!(
        reply.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    let draft = reply.json();
    assert_eq!(draft["publishable"], false);
    assert!(draft["errors"].as_u64().unwrap() >= 1);
    let text = draft["report"]["text"].as_str().unwrap();
    assert!(
        text.contains("master.csv") && text.contains("not a number"),
        "{text}"
    );
    let id = draft["id"].as_str().unwrap();
    let refused = post_token(state, &format!("/admin/rounds/{id}/publish")).await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert_eq!(
        get(state, "/collections/sites/items?limit=3").await.body,
        before.body
    );
    assert!(!admin.dir.path().join("current").exists());
    // A file that is not a master list at all, and a round that exists, are refused.
    let (content_type, body) = multipart("notes.txt", b"hello", &[("round", "2019-12-31")]);
    let reply = send(
        state,
        Request::post("/admin/rounds")
            .header("authorization", format!("Bearer {TOKEN}"))
            .header("content-type", content_type)
            .body(Body::from(body))
            .unwrap(),
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    let reply = upload_as_token(state, &master_list(100), "2019-10-31", &[]).await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    let reply = upload_as_token(state, &master_list(100), "../../etc", &[]).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn an_upload_over_the_limit_is_refused() {
    let admin = admin_state(1);
    let big = "x".repeat(1024 * 1024 + 10);
    let reply = upload_as_token(&admin.state, &big, "2019-12-31", &[]).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_publishes_never_interleave() {
    let admin = admin_state(32);
    let state = &admin.state;
    let mut ids = Vec::new();
    for (round, percent) in [("2019-12-31", 90), ("2020-02-29", 80)] {
        let reply = upload_as_token(state, &master_list(percent), round, &[]).await;
        assert_eq!(reply.status, StatusCode::CREATED);
        assert_eq!(
            reply.json()["publishable"],
            true,
            "{:?}",
            reply.json()["report"]
        );
        ids.push(reply.json()["id"].as_str().unwrap().to_string());
    }
    let (first, second) = (
        format!("/admin/rounds/{}/publish", ids[0]),
        format!("/admin/rounds/{}/publish", ids[1]),
    );
    let (a, b) = tokio::join!(post_token(state, &first), post_token(state, &second));
    assert_eq!(
        a.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&a.body)
    );
    assert_eq!(
        b.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&b.body)
    );
    let mut numbers = [
        a.json()["version"].as_u64().unwrap(),
        b.json()["version"].as_u64().unwrap(),
    ];
    numbers.sort_unstable();
    assert_eq!(
        numbers,
        [2, 3],
        "version 1 is the data before the first publish"
    );
    let versions = get_admin(state, "/admin/versions").await;
    assert_eq!(versions["current"], 3);
    let list = versions["versions"].as_array().unwrap();
    let rounds = |v: &Value| -> Vec<String> {
        v["rounds"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["round"].as_str().unwrap().to_string())
            .collect()
    };
    // Linear: the later version holds the earlier one's round and its own.
    assert_eq!(rounds(&list[0]).len(), 2);
    assert_eq!(rounds(&list[1]).len(), 1);
    assert!(rounds(&list[0]).contains(&rounds(&list[1])[0]));
    assert!(rounds(&list[2]).is_empty());
    // What is served is the last version, complete.
    let sites = &state.current();
    let layer = sites.layer("sites").unwrap();
    assert!(
        layer.round_position("2019-12-31").is_some()
            && layer.round_position("2020-02-29").is_some()
    );
    let health = get(state, "/health").await.json();
    assert_eq!(health["publishedVersion"], 3);
    assert_eq!(health["dataVersion"], list[0]["dataVersion"]);
    assert!(get_admin(state, "/admin/drafts").await["drafts"]
        .as_array()
        .unwrap()
        .is_empty());
}

async fn get_admin(state: &Arc<AppState>, uri: &str) -> Value {
    let reply = call(
        state,
        &Method::GET,
        uri,
        &[("authorization", &format!("Bearer {TOKEN}"))],
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{uri}");
    reply.json()
}

#[tokio::test]
async fn rollback_restores_the_old_answers_and_etags() {
    let admin = admin_state(32);
    let state = &admin.state;
    let uris = [
        "/dashboard/summary",
        "/collections/sites/items?limit=5",
        "/collections/governorates/items/IQG01",
    ];
    let mut before = Vec::new();
    for uri in uris {
        let reply = get(state, uri).await;
        assert_eq!(reply.status, StatusCode::OK, "{uri}");
        before.push((reply.header("etag").unwrap().to_string(), reply.body));
    }
    let old_version = get(state, "/health").await.json()["dataVersion"].clone();
    let (cookie, csrf) = session(state).await;
    let (content_type, body) = multipart(
        "master.csv",
        master_list(50).as_bytes(),
        &[
            ("round", "2019-12-31"),
            ("label", "Round 113"),
            ("date", "2019-12-31"),
            ("source", "DTM"),
            ("illustrative", "true"),
        ],
    );
    let reply = send(
        state,
        Request::post("/admin/rounds")
            .header("cookie", &cookie)
            .header("x-csrf-token", &csrf)
            .header("content-type", content_type)
            .body(Body::from(body))
            .unwrap(),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED);
    let draft = reply.json();
    let diff = &draft["diff"];
    assert_eq!(diff["previousRound"], "2019-10-31");
    let (was, now) = (
        diff["national"]["idp_individuals"][0].as_i64().unwrap(),
        diff["national"]["idp_individuals"][1].as_i64().unwrap(),
    );
    assert!(was > 0 && (now - was / 2).abs() <= 169, "{was} → {now}");
    assert_eq!(diff["addedCount"], 0);
    assert_eq!(diff["goneCount"], 0);
    assert_eq!(
        diff["decreases"].as_array().unwrap().len(),
        dtmap::publish::diff::LARGEST
    );
    let id = draft["id"].as_str().unwrap();
    let preview = call(
        state,
        &Method::GET,
        &format!("/admin/drafts/{id}/preview"),
        &[("cookie", &cookie)],
    )
    .await;
    assert_eq!(
        preview.json()["features"].as_array().unwrap().len(),
        169 + 18
    );
    let published = send(
        state,
        Request::post(format!("/admin/rounds/{id}/publish"))
            .header("cookie", &cookie)
            .header("x-csrf-token", &csrf)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(published.status, StatusCode::OK);
    assert_eq!(
        get(state, "/dashboard/summary").await.json()["round"],
        "2019-12-31"
    );
    for (uri, (etag, _)) in uris.iter().zip(&before) {
        assert_ne!(get(state, uri).await.header("etag").unwrap(), etag, "{uri}");
    }
    let rolled = post_token(state, "/admin/rollback/1").await;
    assert_eq!(
        rolled.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&rolled.body)
    );
    for (uri, (etag, body)) in uris.iter().zip(&before) {
        let reply = get(state, uri).await;
        assert_eq!(reply.header("etag").unwrap(), etag, "{uri}");
        assert_eq!(&reply.body, body, "{uri}");
    }
    let health = get(state, "/health").await.json();
    assert_eq!(health["dataVersion"], old_version);
    assert_eq!(health["publishedVersion"], 1);
    assert_eq!(
        post_token(state, "/admin/rollback/9").await.status,
        StatusCode::NOT_FOUND
    );
    let actions: Vec<String> = audit_lines(admin.dir.path())
        .iter()
        .map(|l| {
            format!(
                "{} {}",
                l["action"].as_str().unwrap(),
                l["user"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        actions,
        [
            "login amina",
            "upload amina",
            "publish amina",
            "rollback (token)"
        ]
    );
}

#[tokio::test]
async fn a_site_the_master_list_puts_in_another_area_moves_its_figures_there() {
    let admin = admin_state(32);
    let state = &admin.state;
    let sites = state.current();
    let layer = sites.layer("sites").unwrap();
    let group = |id: &str| {
        let at = layer.position(id).unwrap() as usize;
        layer.features[at]
            .properties
            .get("governorate")
            .and_then(|v| v.as_str())
            .unwrap()
            .to_string()
    };
    // Every site of the latest round with its own governorate, but one counted in IQG07.
    let list = master_list(100);
    let mut lines = list.lines();
    let mut csv = format!("{},governorate\n", lines.next().unwrap());
    let mut moved = None;
    for line in lines {
        let id = line.split(',').next().unwrap();
        let area = if moved.is_none() && group(id) == "IQG01" {
            moved = Some((
                id.to_string(),
                line.split(',').nth(2).unwrap().parse::<i64>().unwrap(),
            ));
            "IQG07".to_string()
        } else {
            group(id)
        };
        csv.push_str(&format!("{line},{area}\n"));
    }
    let (moved, individuals) = moved.unwrap();
    let reply = upload_as_token(state, &csv, "2019-12-31", &[]).await;
    assert_eq!(reply.status, StatusCode::CREATED);
    let diff = &reply.json()["diff"];
    assert_eq!(
        diff["moved"],
        serde_json::json!([{ "id": moved, "from": "IQG01", "to": "IQG07" }])
    );
    let area = |code: &str| {
        diff["areas"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["id"] == code)
            .map(|a| (a["before"].as_i64().unwrap(), a["after"].as_i64().unwrap()))
            .unwrap()
    };
    let (before, after) = area("IQG01");
    assert_eq!(after, before - individuals);
    let (before, after) = area("IQG07");
    assert_eq!(after, before + individuals);
    // Nationally nothing changed: the same people, counted elsewhere.
    let [was, now] = [0, 1].map(|i| {
        diff["nationalAreas"]["idp_individuals"][i]
            .as_i64()
            .unwrap()
    });
    assert_eq!(was, now);
    assert_eq!(diff["addedCount"], 0);
    assert_eq!(diff["goneCount"], 0);
}

/// A reload that runs beside a publish (SIGHUP, the watcher, `POST /admin/reload`) must
/// never leave the version published before served: reloads and publishes take turns.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_beside_a_publish_never_serves_the_older_version() {
    let admin = admin_state(32);
    let state = &admin.state;
    let dir = admin.dir.path().to_path_buf();
    let running = admin_config(&dir, 32);
    let reloader = dtmap::reload::FileReloader::new(None, running, move |config| {
        let wanted = admin_config(&dir, 32);
        config.server.admin_token = wanted.server.admin_token;
        config.admin = wanted.admin;
    })
    .shared();
    for (round, percent) in [("2019-12-31", 90), ("2020-02-29", 80), ("2020-04-30", 70)] {
        let reply = upload_as_token(state, &master_list(percent), round, &[]).await;
        assert_eq!(reply.status, StatusCode::CREATED);
        let id = reply.json()["id"].as_str().unwrap().to_string();
        let publish = format!("/admin/rounds/{id}/publish");
        let (published, reloaded) =
            tokio::join!(post_token(state, &publish), reloader.reload(state.clone()));
        assert_eq!(published.status, StatusCode::OK);
        assert!(reloaded.applied, "{}", reloaded.report);
        let versions = get_admin(state, "/admin/versions").await;
        let health = get(state, "/health").await.json();
        assert_eq!(health["publishedVersion"], versions["current"], "{round}");
        assert_eq!(
            health["dataVersion"], versions["versions"][0]["dataVersion"],
            "{round}: the newest version is served"
        );
        assert!(state
            .current()
            .layer("sites")
            .unwrap()
            .round_position(round)
            .is_some());
    }
}
