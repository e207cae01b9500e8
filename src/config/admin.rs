//! The `[admin]` table: who may use the admin area (named users with argon2 password
//! hashes), how long a session lasts, where published versions and drafts are kept, and
//! the limits of an upload. Without users and without `server.admin_token` there is no
//! admin area at all.

use serde::Deserialize;

use super::ConfigError;

/// Largest master list accepted by `POST /admin/rounds`, in MiB (`max_upload_mb`).
pub const DEFAULT_MAX_UPLOAD_MB: usize = 32;
/// How long a session cookie stays valid, in hours (`session_hours`).
pub const DEFAULT_SESSION_HOURS: u64 = 8;
/// Failed logins one user name may have in [`LOGIN_WINDOW_SECS`] before further attempts
/// are refused with 429.
pub const MAX_FAILED_LOGINS_PER_USER: u32 = 5;
/// Failed logins one client address may have in [`LOGIN_WINDOW_SECS`].
pub const MAX_FAILED_LOGINS_PER_ADDRESS: u32 = 20;
/// The window of the login limits, in seconds.
pub const LOGIN_WINDOW_SECS: u64 = 15 * 60;
/// Most user names and addresses the login limiter remembers (the oldest are forgotten
/// first), so that a flood of names cannot grow memory.
pub const LOGIN_LIMITER_ENTRIES: usize = 4096;
/// Environment variable naming the data directory (wins over `admin.data_dir`).
pub const DATA_DIR_ENV: &str = "DTMAP_DATA_DIR";
/// Environment variable holding the session secret (wins over `admin.session_secret`).
pub const SESSION_SECRET_ENV: &str = "DTMAP_SESSION_SECRET";

/// The `[admin]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminConfig {
    /// The people who may log in, each with an argon2 hash of their password (made by
    /// `dtmap admin hash-password`).
    #[serde(rename = "user", default)]
    pub users: Vec<AdminUser>,
    /// Folder of the published versions, the drafts and the audit log
    /// (`DTMAP_DATA_DIR` overrides it); relative to the config file.
    #[serde(default)]
    pub data_dir: Option<String>,
    /// Secret that signs session cookies, so that sessions survive a restart
    /// (`DTMAP_SESSION_SECRET` overrides it); a random one per process when absent.
    #[serde(default)]
    pub session_secret: Option<String>,
    /// How long a session lasts, in hours.
    #[serde(default = "default_session_hours")]
    pub session_hours: u64,
    /// Largest upload, in MiB.
    #[serde(default = "default_max_upload_mb")]
    pub max_upload_mb: usize,
    /// Whether session cookies carry `Secure`; by default when `server.public_url` is https.
    #[serde(default)]
    pub secure_cookies: Option<bool>,
    /// The point layer a master list gives the figures of; by default the dashboard's
    /// sites layer, else the first point layer with count tables.
    #[serde(default)]
    pub layer: Option<String>,
}

/// One `[[admin.user]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminUser {
    /// The name given at login and written in the audit log.
    pub name: String,
    /// The PHC string of an argon2 hash of the password (`$argon2id$v=19$…`).
    pub password_hash: String,
}

fn default_session_hours() -> u64 {
    DEFAULT_SESSION_HOURS
}
fn default_max_upload_mb() -> usize {
    DEFAULT_MAX_UPLOAD_MB
}

impl Default for AdminConfig {
    fn default() -> Self {
        AdminConfig {
            users: Vec::new(),
            data_dir: None,
            session_secret: None,
            session_hours: DEFAULT_SESSION_HOURS,
            max_upload_mb: DEFAULT_MAX_UPLOAD_MB,
            secure_cookies: None,
            layer: None,
        }
    }
}

impl AdminConfig {
    /// Checks the names and hashes.
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        let mut seen = std::collections::HashSet::new();
        for user in &self.users {
            if user.name.trim().is_empty() || user.name.len() > 64 {
                return Err(ConfigError::Invalid(
                    "admin.user: a name is 1-64 characters".into(),
                ));
            }
            if !seen.insert(user.name.as_str()) {
                return Err(ConfigError::Invalid(format!(
                    "admin.user {:?} is declared twice",
                    user.name
                )));
            }
            if !user.password_hash.starts_with("$argon2") {
                return Err(ConfigError::Invalid(format!(
                    "admin.user {:?}: password_hash must be an argon2 hash (`dtmap admin \
                     hash-password` makes one)",
                    user.name
                )));
            }
        }
        if self.session_hours == 0 || self.max_upload_mb == 0 {
            return Err(ConfigError::Invalid(
                "admin.session_hours and admin.max_upload_mb must be more than 0".into(),
            ));
        }
        Ok(())
    }
}
