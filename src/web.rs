//! The bundled web client: the pages and assets under `web/`, compiled into the binary so
//! the map works with no internet.

/// The map page.
pub fn index_html(title: &str) -> String {
    let escaped = title
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    include_str!("../web/index.html").replace("{{title}}", &escaped)
}
