//! `/api.html`: the OpenAPI document of [`super::openapi`] as a self-contained HTML page
//! (one table of parameters and one list of answers per operation; no scripts, nothing
//! fetched from elsewhere), linked from the landing page as `service-doc`.

use std::fmt::Write;
use std::sync::Arc;

use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};
use serde_json::Value;

use super::{AppState, BaseUrl};

/// `GET /api.html`
pub async fn page(State(state): State<Arc<AppState>>, BaseUrl(base): BaseUrl) -> Response {
    let snapshot = state.current();
    Html(render(&super::openapi::build(&snapshot, &base))).into_response()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => escape(s),
        other => escape(&other.to_string()),
    }
}

/// The schema of a parameter in a few words: type, enum, range, default.
fn schema_text(schema: &Value) -> String {
    let mut out = text(&schema["type"]);
    if let Some(items) = schema["items"].get("type") {
        let _ = write!(out, " of {}", text(items));
    }
    if let Some(values) = schema["enum"].as_array() {
        let values: Vec<String> = values.iter().map(text).collect();
        let _ = write!(out, ": {}", values.join(" | "));
    }
    for (key, label) in [
        ("minimum", "min"),
        ("maximum", "max"),
        ("default", "default"),
    ] {
        if !schema[key].is_null() {
            let _ = write!(out, ", {label} {}", text(&schema[key]));
        }
    }
    out
}

/// The page for an OpenAPI document.
pub fn render(doc: &Value) -> String {
    let mut body = String::new();
    let empty = serde_json::Map::new();
    let paths = doc["paths"].as_object().unwrap_or(&empty);
    let mut toc = String::new();
    for (n, (path, item)) in paths.iter().enumerate() {
        for (method, op) in item.as_object().unwrap_or(&empty) {
            let anchor = format!("op{n}-{method}");
            let _ = write!(
                toc,
                "<li><a href=\"#{anchor}\"><code>{} {}</code></a> {}</li>",
                method.to_uppercase(),
                escape(path),
                text(&op["summary"])
            );
            let _ = write!(
                body,
                "<section id=\"{anchor}\"><h2><code>{} {}</code></h2><p>{}</p>",
                method.to_uppercase(),
                escape(path),
                text(&op["summary"])
            );
            if !op["description"].is_null() {
                let _ = write!(body, "<p>{}</p>", text(&op["description"]));
            }
            let parameters = op["parameters"].as_array().cloned().unwrap_or_default();
            if !parameters.is_empty() {
                body.push_str("<table><thead><tr><th>Parameter</th><th>In</th><th>Schema</th><th>Description</th><th>Example</th></tr></thead><tbody>");
                for p in &parameters {
                    let _ = write!(
                        body,
                        "<tr><td><code>{}</code>{}</td><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
                        text(&p["name"]),
                        if p["required"] == true { " *" } else { "" },
                        text(&p["in"]),
                        schema_text(&p["schema"]),
                        text(&p["description"]),
                        text(&p["example"]),
                    );
                }
                body.push_str("</tbody></table>");
            }
            body.push_str("<ul class=\"responses\">");
            if let Some(responses) = op["responses"].as_object() {
                for (status, response) in responses {
                    let description = match response["$ref"].as_str() {
                        Some(reference) => reference.rsplit('/').next().unwrap_or("").to_string(),
                        None => response["description"].as_str().unwrap_or("").to_string(),
                    };
                    let media: Vec<String> = response["content"]
                        .as_object()
                        .map(|c| {
                            c.keys()
                                .map(|k| format!("<code>{}</code>", escape(k)))
                                .collect()
                        })
                        .unwrap_or_default();
                    let _ = write!(
                        body,
                        "<li><b>{}</b> {} {}</li>",
                        escape(status),
                        escape(&description),
                        media.join(", ")
                    );
                }
            }
            body.push_str("</ul></section>");
        }
    }
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>API — {title}</title><style>body{{font-family:system-ui,sans-serif;max-width:70rem;margin:1rem auto;padding:0 1rem}}table{{border-collapse:collapse;margin:.5rem 0}}td,th{{border:1px solid #ccc;padding:.2rem .5rem;text-align:start;vertical-align:top}}section{{border-top:1px solid #ddd;margin-top:1.5rem}}h2{{font-size:1.1rem}}</style></head><body><h1>{title} — API</h1><p>{description}</p><p>OpenAPI {version}: <a href=\"api\">the document (JSON)</a>. Server: <code>{server}</code>.</p><ul>{toc}</ul>{body}</body></html>",
        title = text(&doc["info"]["title"]),
        description = text(&doc["info"]["description"]),
        version = text(&doc["openapi"]),
        server = text(&doc["servers"][0]["url"]),
    )
}
