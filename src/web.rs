//! The bundled web client: the pages and assets under `web/`, compiled into the binary so
//! the map works with no internet.
//!
//! - [`index_html`]: the map page (`/` for browsers), [`embed_html`]: the same map with
//!   minimal chrome for iframes (`/embed`), [`dashboard_html`]: the dashboard page
//!   (`/dashboard`, and `/dashboard?embed=1` for iframes), [`admin_html`]: the admin page
//!   (`/admin`).
//! - [`asset`]: the scripts, styles and licences, served under `/assets/{version}/{path}`
//!   where [`version`] is a hash of every asset, so browsers may cache them for a year and
//!   still get the new ones after an upgrade. The pages use relative URLs only, so the client
//!   works behind a reverse proxy with a path prefix.
//!
//! The map library is MapLibre GL JS, pinned in `web/package.json` and copied into
//! `web/vendor/` (with its licence) by `web/vendor.mjs`; no file is fetched from elsewhere.

use std::sync::OnceLock;

/// One embedded file: its path under `/assets/{version}/`, bytes and media type.
#[derive(Debug, Clone, Copy)]
pub struct Asset {
    /// Path below the versioned assets directory, e.g. `app.js` or `vendor/maplibre-gl.mjs`.
    pub path: &'static str,
    /// The file's bytes.
    pub bytes: &'static [u8],
    /// `Content-Type`.
    pub media_type: &'static str,
}

const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const TEXT: &str = "text/plain; charset=utf-8";
const SVG: &str = "image/svg+xml";

macro_rules! asset {
    ($path:literal, $media_type:expr) => {
        Asset {
            path: $path,
            bytes: include_bytes!(concat!("../web/", $path)),
            media_type: $media_type,
        }
    };
}

/// Every embedded asset.
pub const ASSETS: &[Asset] = &[
    asset!("app.js", JS),
    asset!("boot.js", JS),
    asset!("i18n.js", JS),
    asset!("draw.js", JS),
    asset!("chart.js", JS),
    asset!("geo.js", JS),
    asset!("common.js", JS),
    asset!("legend.js", JS),
    asset!("panel.js", JS),
    asset!("search.js", JS),
    asset!("query.js", JS),
    asset!("share.js", JS),
    asset!("export.js", JS),
    asset!("datasets.js", JS),
    asset!("dashboard.js", JS),
    asset!("admin.js", JS),
    asset!("style.css", CSS),
    asset!("dashboard.css", CSS),
    asset!("icon.svg", SVG),
    asset!("vendor/maplibre-gl.mjs", JS),
    asset!("vendor/maplibre-gl-worker.mjs", JS),
    asset!("vendor/maplibre-gl.css", CSS),
    asset!("vendor/MAPLIBRE-LICENSE.txt", TEXT),
    asset!("vendor/pmtiles.js", JS),
    asset!("vendor/PMTILES-LICENSE.txt", TEXT),
    asset!("vendor/VERSIONS", TEXT),
];

/// The asset at `path`, if there is one.
pub fn asset(path: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.path == path)
}

/// A short hash of every asset's path and bytes: the version segment of asset URLs.
pub fn version() -> &'static str {
    static VERSION: OnceLock<String> = OnceLock::new();
    VERSION.get_or_init(|| {
        let mut all = Vec::new();
        for a in ASSETS {
            all.extend_from_slice(a.path.as_bytes());
            all.push(0);
            all.extend_from_slice(&(a.bytes.len() as u64).to_le_bytes());
            all.extend_from_slice(a.bytes);
        }
        format!("{:016x}", xxhash_rust::xxh3::xxh3_64(&all))
    })
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// What a page needs before its first request: the title and the languages (with the
/// interface strings the config gives), as JSON the page reads from
/// `<script id="dtmap-bootstrap" type="application/json">`.
#[derive(Debug, Clone)]
pub struct Bootstrap<'a> {
    /// The service title.
    pub title: &'a str,
    /// The languages offered, in menu order.
    pub languages: &'a [crate::model::Language],
    /// The collections' metadata, as `/collections` gives it, for the map pages: they need
    /// it before anything else, so it comes with the page rather than one round trip later.
    pub collections: Option<serde_json::Value>,
}

impl Bootstrap<'_> {
    /// The JSON, safe inside a `<script>` element: no `<` survives, so neither
    /// `</script>` nor `<!--` can end or change it.
    fn json(&self) -> String {
        let mut json = serde_json::json!({ "title": self.title, "languages": self.languages });
        if let Some(collections) = &self.collections {
            json["collections"] = collections.clone();
        }
        json.to_string().replace('<', "\\u003c")
    }
}

fn page(template: &str, bootstrap: &Bootstrap) -> String {
    template
        .replace("{{map_head}}", include_str!("../web/map-head.html"))
        .replace("{{title}}", &escape(bootstrap.title))
        .replace("{{assets}}", &format!("assets/{}", version()))
        .replace("{{maplibre_version}}", maplibre_version())
        .replace("{{bootstrap}}", &bootstrap.json())
}

/// The bundled MapLibre's version, from `vendor/VERSIONS`: MapLibre asks for its worker
/// with `?v=VERSION`, and the map pages prefetch that very URL.
fn maplibre_version() -> &'static str {
    include_str!("../web/vendor/VERSIONS")
        .lines()
        .find_map(|line| line.strip_prefix("maplibre-gl "))
        .unwrap_or_default()
        .trim()
}

/// The map page.
pub fn index_html(bootstrap: &Bootstrap) -> String {
    page(include_str!("../web/index.html"), bootstrap)
}

/// The embeddable map page (`/embed`), for iframes.
pub fn embed_html(bootstrap: &Bootstrap) -> String {
    page(include_str!("../web/embed.html"), bootstrap)
}

/// What the datasets page (written by the server, readable without scripts) adds to its
/// head so that its script rewrites it in the page's language: the bootstrap and
/// `datasets.js`.
pub fn datasets_head(bootstrap: &Bootstrap) -> String {
    page(
        "<script id=\"dtmap-bootstrap\" type=\"application/json\">{{bootstrap}}</script>\
         <script type=\"module\" src=\"{{assets}}/datasets.js\"></script>",
        bootstrap,
    )
}

/// The admin page (`/admin`): log in, upload a round, review, publish, roll back.
pub fn admin_html(bootstrap: &Bootstrap) -> String {
    page(include_str!("../web/admin.html"), bootstrap)
}

/// The dashboard page; `embed` gives it minimal chrome, for iframes.
pub fn dashboard_html(bootstrap: &Bootstrap, embed: bool) -> String {
    page(include_str!("../web/dashboard.html"), bootstrap)
        .replace("{{mode}}", if embed { "embed" } else { "full" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_link_only_embedded_assets_by_relative_urls() {
        let title = |title| Bootstrap {
            title,
            languages: &[],
            collections: None,
        };
        for html in [
            index_html(&title("A <b> & \"c\"")),
            embed_html(&title("t")),
            dashboard_html(&title("t"), false),
            dashboard_html(&title("t"), true),
            admin_html(&title("t")),
        ] {
            assert!(!html.contains("{{"), "a placeholder is left");
            assert!(!html.contains("http://") && !html.contains("https://"));
            let prefix = format!("assets/{}/", version());
            for part in html.split(&prefix).skip(1) {
                let path: String = part
                    .chars()
                    .take_while(|c| !matches!(c, '"' | '?'))
                    .collect();
                assert!(asset(&path).is_some(), "{path} is not embedded");
            }
        }
        assert!(index_html(&title("A <b>")).contains("A &lt;b&gt;"));
    }

    #[test]
    fn the_bootstrap_cannot_end_its_script_element() {
        let languages = [crate::model::Language {
            code: "xx".into(),
            name: Some("</script><script>alert(1)</script><!--".into()),
            dir: "ltr",
            locale: "xx".into(),
            fallback: None,
            strings: [("search".to_string(), "</SCRIPT>".to_string())].into(),
        }];
        let html = index_html(&Bootstrap {
            title: "</script>",
            languages: &languages,
            collections: Some(serde_json::json!([{ "title": "</script><!--" }])),
        });
        let start = html
            .find("id=\"dtmap-bootstrap\"")
            .expect("a bootstrap element");
        let body = &html[start..];
        let json = &body[body.find('>').unwrap() + 1..body.find("</script>").unwrap()];
        let value: serde_json::Value = serde_json::from_str(json).expect("valid JSON");
        assert_eq!(value["title"], "</script>");
        assert_eq!(value["languages"][0]["strings"]["search"], "</SCRIPT>");
        assert_eq!(value["collections"][0]["title"], "</script><!--");
        assert!(!json.contains('<'));
    }

    #[test]
    fn the_version_is_stable_and_short() {
        assert_eq!(version(), version());
        assert_eq!(version().len(), 16);
        assert!(asset("vendor/maplibre-gl.mjs").is_some());
        assert!(asset("../Cargo.toml").is_none());
    }
}
