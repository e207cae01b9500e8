//! Large answers written a chunk at a time, as the client reads them: a whole layer as
//! GeoJSON or CSV is never built in memory. Each chunk is a bounded amount of work
//! ([`CHUNK_FEATURES`] features) done when the connection asks for more, so a client that
//! stops reading holds one chunk, not the layer.

use std::sync::Arc;

use axum::body::{Body, Bytes};

use super::render::{self, PropertyChoice};
use crate::model::Layer;

/// Features written per chunk.
pub const CHUNK_FEATURES: usize = 1_000;

/// How the features are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamFormat {
    /// A GeoJSON FeatureCollection (the head is given).
    GeoJson,
    /// CSV with a BOM and a header row.
    Csv,
}

struct Cursor {
    layer: Arc<Layer>,
    round: Option<usize>,
    choice: PropertyChoice,
    format: StreamFormat,
    head: Option<String>,
    next: usize,
    done: bool,
}

impl Cursor {
    fn chunk(&mut self) -> Option<Bytes> {
        if let Some(head) = self.head.take() {
            return Some(Bytes::from(head));
        }
        if self.done {
            return None;
        }
        let total = self.layer.features.len();
        let end = (self.next + CHUNK_FEATURES).min(total);
        let features: Vec<u32> = (self.next as u32..end as u32).collect();
        let first = self.next == 0;
        self.next = end;
        let mut bytes = match self.format {
            StreamFormat::GeoJson => {
                let mut out = String::with_capacity(features.len() * 512);
                render::write_features(
                    &mut out,
                    &self.layer,
                    self.round,
                    &features,
                    &self.choice,
                    None,
                    first,
                );
                out.into_bytes()
            }
            StreamFormat::Csv => render::write_csv_part(
                &self.layer,
                self.round,
                &features,
                &self.choice,
                None,
                first,
            ),
        };
        if end == total {
            self.done = true;
            if self.format == StreamFormat::GeoJson {
                bytes.extend_from_slice(render::COLLECTION_TAIL.as_bytes());
            }
        }
        Some(Bytes::from(bytes))
    }
}

/// Every feature of `layer`, in order, as a streamed body; `head` opens a GeoJSON
/// collection (see [`render::write_collection_head`]).
pub fn layer_body(
    layer: Arc<Layer>,
    round: Option<usize>,
    choice: PropertyChoice,
    format: StreamFormat,
    head: Option<String>,
) -> Body {
    let cursor = Cursor {
        layer,
        round,
        choice,
        format,
        head,
        next: 0,
        done: false,
    };
    let stream = futures_util::stream::unfold(cursor, |mut cursor| async move {
        cursor
            .chunk()
            .map(|bytes| (Ok::<Bytes, std::convert::Infallible>(bytes), cursor))
    });
    Body::from_stream(stream)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_streamed_layer_equals_the_whole_collection_written_at_once() {
        let config = crate::config::Config::builtin();
        let (snapshot, _) = crate::data::load(&config);
        let layer = snapshot.layer("sites").unwrap().clone();
        let round = layer.latest_round();
        let choice = PropertyChoice::all(&layer);
        let features: Vec<u32> = (0..layer.features.len() as u32).collect();
        let header = render::CollectionHeader {
            number_matched: features.len(),
            round: round.map(|r| &layer.rounds[r]),
            links: serde_json::json!([]),
            extra: None,
        };
        let whole = render::write_collection(&layer, round, &features, &choice, &header, None);
        let mut head = String::new();
        render::write_collection_head(&mut head, &header, features.len());
        let body = layer_body(
            layer.clone(),
            round,
            choice.clone(),
            StreamFormat::GeoJson,
            Some(head),
        );
        let streamed = axum::body::to_bytes(body, usize::MAX).await.unwrap();
        assert_eq!(String::from_utf8(streamed.to_vec()).unwrap(), whole);
        let csv = layer_body(
            layer.clone(),
            round,
            choice.clone(),
            StreamFormat::Csv,
            None,
        );
        let streamed = axum::body::to_bytes(csv, usize::MAX).await.unwrap();
        assert_eq!(
            streamed.to_vec(),
            render::write_csv(&layer, round, &features, &choice, None)
        );
    }
}
