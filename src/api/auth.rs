//! Who is calling an admin route. Two ways in: `Authorization: Bearer <server.admin_token>`
//! (for scripts), or the signed session cookie that `POST /admin/login` sets for a named
//! user of `[admin]` (for people). A cookie-authenticated change (any method but GET and
//! HEAD) must also carry the session's CSRF token in `X-CSRF-Token`, and come from the
//! server's own origin when the browser says where it comes from. Logins are rate-limited
//! per user name and per client address, in bounded memory. With neither a token nor a
//! user configured, every admin route answers 404: there is no admin area.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, Method};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use super::{AppState, Peer, Settings};
use crate::config::{
    LOGIN_LIMITER_ENTRIES, LOGIN_WINDOW_SECS, MAX_FAILED_LOGINS_PER_ADDRESS,
    MAX_FAILED_LOGINS_PER_USER,
};
use crate::error::ApiError;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "dtmap_admin";
/// Header carrying the CSRF token of a cookie-authenticated change.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// The name the audit log gives a caller with the bearer token.
pub const TOKEN_USER: &str = "(token)";

type HmacSha256 = Hmac<Sha256>;

/// The per-process secrets and counters of the admin area.
pub struct AuthState {
    /// Signs session cookies when no `admin.session_secret` is configured.
    random_key: [u8; 32],
    limiter: Mutex<Limiter>,
}

impl std::fmt::Debug for AuthState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuthState")
    }
}

impl Default for AuthState {
    fn default() -> Self {
        AuthState::new()
    }
}

impl AuthState {
    /// A fresh random key and an empty limiter.
    pub fn new() -> AuthState {
        let mut random_key = [0u8; 32];
        if getrandom::getrandom(&mut random_key).is_err() {
            // No OS randomness: a key from the clock and the address space is still
            // unknown to clients, and sessions are per process anyway.
            let seed = format!("{:?}{:p}", SystemTime::now(), &random_key);
            random_key.copy_from_slice(&Sha256::digest(seed.as_bytes()));
        }
        AuthState {
            random_key,
            limiter: Mutex::new(Limiter::default()),
        }
    }

    fn key(&self, settings: &Settings) -> Vec<u8> {
        match &settings.session_secret {
            Some(secret) => Sha256::digest(secret.as_bytes()).to_vec(),
            None => self.random_key.to_vec(),
        }
    }

    /// Whether `user` or `address` has failed too often lately.
    pub fn login_blocked(&self, user: &str, address: &str) -> bool {
        let mut limiter = self.limiter.lock().unwrap_or_else(|e| e.into_inner());
        limiter.count(&format!("u:{user}")) >= MAX_FAILED_LOGINS_PER_USER
            || limiter.count(&format!("a:{address}")) >= MAX_FAILED_LOGINS_PER_ADDRESS
    }

    /// Counts a failed login of `user` from `address`.
    pub fn login_failed(&self, user: &str, address: &str) {
        let mut limiter = self.limiter.lock().unwrap_or_else(|e| e.into_inner());
        limiter.add(format!("u:{user}"));
        limiter.add(format!("a:{address}"));
    }

    /// Forgets the failures of `user` after a successful login.
    pub fn login_succeeded(&self, user: &str) {
        let mut limiter = self.limiter.lock().unwrap_or_else(|e| e.into_inner());
        limiter.entries.remove(&format!("u:{user}"));
    }

    /// A new session cookie value for `user` and its CSRF token.
    pub fn new_session(&self, settings: &Settings, user: &str) -> (String, String) {
        let expires = now_secs().saturating_add(settings.session_secs);
        let mut nonce = [0u8; 16];
        if getrandom::getrandom(&mut nonce).is_err() {
            nonce.copy_from_slice(&Sha256::digest(format!("{:?}", Instant::now()))[..16]);
        }
        let body = format!("{}.{expires}.{}", hex(user.as_bytes()), hex(&nonce));
        let mac = self.mac(settings, body.as_bytes());
        let csrf = self.csrf(settings, &hex(&nonce));
        (format!("{body}.{mac}"), csrf)
    }

    fn mac(&self, settings: &Settings, message: &[u8]) -> String {
        let mut mac =
            HmacSha256::new_from_slice(&self.key(settings)).expect("HMAC takes keys of any size");
        mac.update(message);
        hex(&mac.finalize().into_bytes())
    }

    fn csrf(&self, settings: &Settings, nonce: &str) -> String {
        self.mac(settings, format!("csrf:{nonce}").as_bytes())
    }

    /// The user and CSRF token of a valid, unexpired session cookie of a configured user.
    pub fn session(&self, settings: &Settings, cookie: &str) -> Option<(String, String)> {
        let mut parts = cookie.split('.');
        let (user_hex, expires, nonce, mac) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        let expected = self.mac(settings, format!("{user_hex}.{expires}.{nonce}").as_bytes());
        if !constant_time_eq(expected.as_bytes(), mac.as_bytes()) {
            return None;
        }
        if expires.parse::<u64>().ok()? < now_secs() {
            return None;
        }
        let user = String::from_utf8(unhex(user_hex)?).ok()?;
        if !settings.admin_users.iter().any(|(name, _)| *name == user) {
            return None;
        }
        Some((user, self.csrf(settings, nonce)))
    }
}

/// Failures per key in the current window, at most [`LOGIN_LIMITER_ENTRIES`] keys.
#[derive(Default)]
struct Limiter {
    entries: HashMap<String, (u32, Instant)>,
}

impl Limiter {
    fn window() -> Duration {
        Duration::from_secs(LOGIN_WINDOW_SECS)
    }

    fn count(&mut self, key: &str) -> u32 {
        match self.entries.get(key) {
            Some((n, since)) if since.elapsed() < Self::window() => *n,
            Some(_) => {
                self.entries.remove(key);
                0
            }
            None => 0,
        }
    }

    fn add(&mut self, key: String) {
        if !self.entries.contains_key(&key) && self.entries.len() >= LOGIN_LIMITER_ENTRIES {
            self.entries
                .retain(|_, (_, since)| since.elapsed() < Self::window());
            if self.entries.len() >= LOGIN_LIMITER_ENTRIES {
                let oldest = self
                    .entries
                    .iter()
                    .min_by_key(|(_, (_, since))| *since)
                    .map(|(k, _)| k.clone());
                if let Some(oldest) = oldest {
                    self.entries.remove(&oldest);
                }
            }
        }
        let entry = self.entries.entry(key).or_insert((0, Instant::now()));
        if entry.1.elapsed() >= Self::window() {
            *entry = (0, Instant::now());
        }
        entry.0 = entry.0.saturating_add(1);
    }
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 || text.len() > 256 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Compares without returning early, so the time taken says nothing about the secret.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
}

/// The client's address, for the login limiter and the audit log.
pub fn client_address(parts: &Parts) -> String {
    parts
        .extensions
        .get::<Peer>()
        .map(|p| p.remote.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

/// An authenticated caller of an admin route: the user's name, or [`TOKEN_USER`].
#[derive(Debug, Clone)]
pub struct Admin {
    /// Who, as the audit log names them.
    pub user: String,
    /// The session's CSRF token (none with the bearer token).
    pub csrf: Option<String>,
}

/// 404 when there is no admin area.
pub fn require_admin_area(settings: &Settings) -> Result<(), ApiError> {
    if settings.admin_enabled() {
        Ok(())
    } else {
        Err(ApiError::not_found(
            "no such resource; see /api for the endpoints",
        ))
    }
}

impl FromRequestParts<Arc<AppState>> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let settings = state.settings();
        require_admin_area(&settings)?;
        let bearer = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        if let Some(given) = bearer {
            return match &settings.admin_token {
                Some(token) if constant_time_eq(given.as_bytes(), token.as_bytes()) => Ok(Admin {
                    user: TOKEN_USER.into(),
                    csrf: None,
                }),
                _ => Err(unauthorized()),
            };
        }
        let Some((user, csrf)) =
            cookie(&parts.headers, SESSION_COOKIE).and_then(|c| state.auth.session(&settings, c))
        else {
            return Err(unauthorized());
        };
        if !matches!(parts.method, Method::GET | Method::HEAD) {
            let given = parts
                .headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if !constant_time_eq(given.as_bytes(), csrf.as_bytes()) {
                return Err(ApiError::Forbidden(
                    "a change made with a session needs its CSRF token in X-CSRF-Token".into(),
                ));
            }
            if !same_origin(&parts.headers, settings.public_url.as_deref()) {
                return Err(ApiError::Forbidden(
                    "a change made with a session must come from this server's own pages".into(),
                ));
            }
        }
        Ok(Admin {
            user,
            csrf: Some(csrf),
        })
    }
}

fn unauthorized() -> ApiError {
    ApiError::Unauthorized(
        "log in at /admin, or send Authorization: Bearer <server.admin_token>".into(),
    )
}

/// No `Origin` header (not a browser's cross-site request), or one naming the `Host`, or
/// the origin of `server.public_url` (behind a proxy that rewrites `Host`).
fn same_origin(headers: &HeaderMap, public_url: Option<&str>) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    if let Some(url) = public_url {
        let public_origin: String = url.splitn(4, '/').take(3).collect::<Vec<_>>().join("/");
        if origin.eq_ignore_ascii_case(&public_origin) {
            return true;
        }
    }
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let origin_host = origin.split_once("://").map(|(_, h)| h).unwrap_or("");
    !host.is_empty() && origin_host.eq_ignore_ascii_case(host)
}

/// Checks `password` against an argon2 PHC hash (slow by design: call it off the async
/// workers). A malformed hash never matches.
pub fn verify_password(hash: &str, password: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    PasswordHash::new(hash).is_ok_and(|parsed| {
        argon2::Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// An argon2id hash of `password` with a random salt, as a PHC string for
/// `[[admin.user]] password_hash`.
pub fn hash_password(password: &str) -> Result<String, String> {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let mut salt = [0u8; 16];
    getrandom::getrandom(&mut salt).map_err(|e| e.to_string())?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| e.to_string())?;
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> Settings {
        Settings {
            admin_users: vec![("amina".into(), "$argon2id$x".into())],
            ..Settings::default()
        }
    }

    #[test]
    fn a_session_survives_only_untampered() {
        let auth = AuthState::new();
        let settings = settings();
        let (cookie, csrf) = auth.new_session(&settings, "amina");
        assert_eq!(
            auth.session(&settings, &cookie),
            Some(("amina".to_string(), csrf))
        );
        let mut tampered = cookie.clone().into_bytes();
        let last = tampered.len() - 1;
        tampered[last] = if tampered[last] == b'0' { b'1' } else { b'0' };
        assert_eq!(
            auth.session(&settings, std::str::from_utf8(&tampered).unwrap()),
            None
        );
        // Another user's name in a validly shaped cookie does not pass.
        let forged = cookie.replacen(&hex(b"amina"), &hex(b"root"), 1);
        assert_eq!(auth.session(&settings, &forged), None);
        // Another process's key does not sign it.
        assert_eq!(AuthState::new().session(&settings, &cookie), None);
    }

    #[test]
    fn the_limiter_blocks_after_the_limit_and_stays_bounded() {
        let auth = AuthState::new();
        for _ in 0..MAX_FAILED_LOGINS_PER_USER {
            assert!(!auth.login_blocked("amina", "1.2.3.4"));
            auth.login_failed("amina", "1.2.3.4");
        }
        assert!(auth.login_blocked("amina", "5.6.7.8"));
        assert!(!auth.login_blocked("omar", "5.6.7.8"));
        for i in 0..(LOGIN_LIMITER_ENTRIES * 2) {
            auth.login_failed(&format!("user{i}"), "9.9.9.9");
        }
        assert!(auth.limiter.lock().unwrap().entries.len() <= LOGIN_LIMITER_ENTRIES);
    }

    #[test]
    fn a_hash_verifies_its_password_only() {
        let hash = hash_password("correct horse").unwrap();
        assert!(verify_password(&hash, "correct horse"));
        assert!(!verify_password(&hash, "wrong"));
        assert!(!verify_password("not a hash", "correct horse"));
    }
}
