//! FlatGeobuf sources over HTTP(S): a layer's `source.path` may be an `http://` or
//! `https://` URL, so its data can live on a plain web server or in object storage. The
//! file is read with range requests through the `flatgeobuf` crate's HTTP reader: the
//! header, then either every feature or, with `source.bbox`, the spatial index and only
//! the features whose envelopes meet the box.
//!
//! The reader trusts the sizes a file declares, so every request goes through
//! [`RangeClient`], which refuses a range longer than [`MAX_REMOTE_REQUEST_BYTES`], a
//! server that ignores ranges (200 instead of 206), a body longer than the range asked,
//! and more than [`MAX_REMOTE_BYTES`] in all; the whole read has a deadline
//! ([`REMOTE_READ_TIMEOUT_SECS`]). The bytes read, with their offsets, make the layer's
//! part of the data version, so replicas reading the same file agree on it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use flatgeobuf::packed_r_tree::PackedRTree;
use flatgeobuf::HttpFgbReader;
use geo::Rect;
use http_range_client::{AsyncBufferedHttpRangeClient, AsyncHttpRangeClient, HttpError};
use xxhash_rust::xxh3::Xxh3;

pub use crate::config::is_remote;
use crate::config::{MAX_REMOTE_BYTES, MAX_REMOTE_REQUEST_BYTES, REMOTE_READ_TIMEOUT_SECS};
use crate::data::flatgeobuf::{convert, header_columns};
use crate::data::report::LoadReport;
use crate::data::source::SourceFeature;

/// What reading a remote file took: for the load report and the data version.
#[derive(Debug, Clone, Default)]
pub struct Fetched {
    /// Range requests made.
    pub requests: usize,
    /// Bytes received.
    pub bytes: u64,
    /// The size of the whole file, when a response said it.
    pub file_size: Option<u64>,
    /// The hash of every range read (offset and bytes, in the order read), for the data
    /// version.
    pub digest: u64,
}

/// Reads the FlatGeobuf file at `url`: every feature, or those whose envelope meets
/// `bbox`. `None` when the file cannot be read at all (the report says why).
pub fn read(
    url: &str,
    bbox: Option<Rect<f64>>,
    report: &mut LoadReport,
) -> Option<(Vec<SourceFeature>, Fetched)> {
    // The load may run inside the server's runtime (a reload); the HTTP reader needs a
    // runtime of its own, so it runs on a thread of its own.
    let outcome = std::thread::scope(|scope| {
        scope
            .spawn(|| {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| format!("cannot start the HTTP reader: {e}"))?;
                runtime.block_on(async {
                    tokio::time::timeout(
                        Duration::from_secs(REMOTE_READ_TIMEOUT_SECS),
                        read_async(url, bbox, &mut *report),
                    )
                    .await
                    .map_err(|_| format!("reading took longer than {REMOTE_READ_TIMEOUT_SECS} s"))?
                })
            })
            .join()
            .unwrap_or_else(|_| Err("the FlatGeobuf reader failed on this file".into()))
    });
    match outcome {
        Ok((features, fetched, fell_back)) => {
            if fell_back {
                report.note(
                    url,
                    "the file has no spatial index dtmap can use (node size 16), so every \
                     feature was read and those outside source.bbox left out",
                );
            }
            report.note(
                url,
                format!(
                    "read {} features in {} range requests, {} bytes{}",
                    features.len(),
                    fetched.requests,
                    fetched.bytes,
                    fetched
                        .file_size
                        .map(|size| format!(" of {size}"))
                        .unwrap_or_default()
                ),
            );
            Some((features, fetched))
        }
        Err(e) => {
            report.error(url, None, None, format!("cannot read over HTTP: {e}"));
            None
        }
    }
}

/// The features read, what reading took, and whether a `bbox` had to be applied to every
/// feature for want of a usable index.
async fn read_async(
    url: &str,
    bbox: Option<Rect<f64>>,
    report: &mut LoadReport,
) -> Result<(Vec<SourceFeature>, Fetched, bool), String> {
    let client = RangeClient::new()?;
    let fetched = Arc::clone(&client.fetched);
    let reader = HttpFgbReader::new(AsyncBufferedHttpRangeClient::with(client, url))
        .await
        .map_err(|e| e.to_string())?;
    let header = reader.header();
    let geometry_type = header.geometry_type();
    let columns = header_columns(&header);
    let indexed =
        header.index_node_size() == PackedRTree::DEFAULT_NODE_SIZE && header.features_count() > 0;
    let mut fell_back = false;
    let mut features = match bbox {
        Some(b) if indexed => reader
            .select_bbox(b.min().x, b.min().y, b.max().x, b.max().y)
            .await
            .map_err(|e| e.to_string())?,
        _ => {
            fell_back = bbox.is_some();
            reader.select_all().await.map_err(|e| e.to_string())?
        }
    };
    let mut out = Vec::new();
    let mut row = 0;
    loop {
        row += 1;
        let feature = match features.next().await {
            Ok(Some(feature)) => feature,
            Ok(None) => break,
            Err(e) => {
                report.error(url, Some(row), None, format!("cannot read feature: {e}"));
                break;
            }
        };
        let Some(feature) = convert(feature, geometry_type, &columns, row, url, report) else {
            continue;
        };
        if bbox.is_none_or(|b| feature.meets(b)) {
            out.push(feature);
        }
    }
    let fetched = fetched.lock().map(|f| f.clone()).unwrap_or_default();
    Ok((out, fetched, fell_back))
}

/// The HTTP client of the reader: range requests only, each and all of them bounded.
struct RangeClient {
    http: reqwest::Client,
    fetched: Arc<Mutex<Fetched>>,
}

impl RangeClient {
    fn new() -> Result<RangeClient, String> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(REMOTE_READ_TIMEOUT_SECS))
            .user_agent(concat!("dtmap/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot make an HTTP client: {e}"))?;
        Ok(RangeClient {
            http,
            fetched: Arc::default(),
        })
    }
}

/// The first and last byte of a `bytes=FIRST-LAST` range, as the buffered client asks.
fn parse_range(range: &str) -> Option<(u64, u64)> {
    let (first, last) = range.strip_prefix("bytes=")?.split_once('-')?;
    let (first, last) = (first.parse().ok()?, last.parse().ok()?);
    (first <= last).then_some((first, last))
}

/// The whole file's size from a `Content-Range: bytes a-b/SIZE` header.
fn total_size(response: &reqwest::Response) -> Option<u64> {
    let value = response
        .headers()
        .get(reqwest::header::CONTENT_RANGE)?
        .to_str()
        .ok()?;
    value.rsplit_once('/')?.1.parse().ok()
}

fn refuse(reason: String) -> HttpError {
    HttpError::HttpError(reason)
}

#[async_trait]
impl AsyncHttpRangeClient for RangeClient {
    async fn get_range(&self, url: &str, range: &str) -> Result<Bytes, HttpError> {
        let (first, last) =
            parse_range(range).ok_or_else(|| refuse(format!("unexpected range {range:?}")))?;
        let wanted = last - first + 1;
        if wanted > MAX_REMOTE_REQUEST_BYTES {
            return Err(refuse(format!(
                "the file asks for a range of {wanted} bytes at offset {first}; the limit is \
                 {MAX_REMOTE_REQUEST_BYTES} (a damaged file?)"
            )));
        }
        let so_far = self.fetched.lock().map(|f| f.bytes).unwrap_or(u64::MAX);
        if so_far.saturating_add(wanted) > MAX_REMOTE_BYTES {
            return Err(refuse(format!(
                "reading would pass {MAX_REMOTE_BYTES} bytes; give the layer a source.bbox or \
                 keep the file on disk"
            )));
        }
        let mut response = self
            .http
            .get(url)
            .header(reqwest::header::RANGE, range)
            .send()
            .await
            .map_err(|e| refuse(e.to_string()))?;
        match response.status().as_u16() {
            206 => {}
            200 => {
                return Err(refuse(
                    "the server does not answer range requests (200 instead of 206)".into(),
                ))
            }
            status => return Err(HttpError::HttpStatus(status)),
        }
        let file_size = total_size(&response);
        let capacity = usize::try_from(wanted.min(1 << 20)).unwrap_or(1 << 20);
        let mut body = BytesMut::with_capacity(capacity);
        while let Some(chunk) = response.chunk().await.map_err(|e| refuse(e.to_string()))? {
            if (body.len() + chunk.len()) as u64 > wanted {
                return Err(refuse(format!(
                    "the server sent more than the {wanted} bytes asked for"
                )));
            }
            body.extend_from_slice(&chunk);
        }
        if let Ok(mut fetched) = self.fetched.lock() {
            fetched.requests += 1;
            fetched.bytes += body.len() as u64;
            fetched.file_size = fetched.file_size.or(file_size);
            let mut hasher = Xxh3::new();
            hasher.update(&fetched.digest.to_le_bytes());
            hasher.update(&first.to_le_bytes());
            hasher.update(&body);
            fetched.digest = hasher.digest();
        }
        Ok(body.freeze())
    }

    async fn head_response_header(
        &self,
        url: &str,
        header: &str,
    ) -> Result<Option<String>, HttpError> {
        let response = self
            .http
            .head(url)
            .send()
            .await
            .map_err(|e| refuse(e.to_string()))?;
        Ok(response
            .headers()
            .get(header)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_read_as_the_buffered_client_writes_them() {
        assert_eq!(parse_range("bytes=0-7"), Some((0, 7)));
        assert_eq!(parse_range("bytes=12-4095"), Some((12, 4095)));
        assert_eq!(parse_range("bytes=9-3"), None);
        assert_eq!(parse_range("bytes=-500"), None);
        assert_eq!(parse_range("items=0-7"), None);
    }

    #[test]
    fn only_http_and_https_paths_are_remote() {
        assert!(is_remote("https://example.org/admin1.fgb"));
        assert!(is_remote("HTTP://127.0.0.1:9000/a.fgb"));
        assert!(!is_remote("data/admin1.fgb"));
        assert!(!is_remote("ftp://example.org/a.fgb"));
        assert!(!is_remote("http"));
    }
}
