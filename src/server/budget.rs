//! A bound on the memory held by answers built whole and not yet sent. Every answer whose
//! size is known takes that many bytes from one budget for as long as its body lives (until
//! the client has read it, or the connection is gone); an answer that does not fit is
//! replaced by a 503. Streamed answers hold one chunk at a time and take nothing.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body::{Body as HttpBody, Frame, SizeHint};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::ApiError;

/// The shared budget, in bytes (a semaphore has at most `u32::MAX >> 3` permits per
/// acquisition, so bytes are counted in KiB).
#[derive(Debug, Clone)]
pub struct ResponseBudget {
    kib: Arc<Semaphore>,
}

impl ResponseBudget {
    /// A budget of `bytes`.
    pub fn new(bytes: usize) -> Self {
        ResponseBudget {
            kib: Arc::new(Semaphore::new(bytes / 1024)),
        }
    }
}

/// A body that gives its bytes back to the budget when it is dropped.
struct Budgeted {
    inner: Body,
    _permit: OwnedSemaphorePermit,
}

impl HttpBody for Budgeted {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Middleware: charges every built answer to the budget, or answers 503.
pub async fn charge(
    State(budget): State<ResponseBudget>,
    request: Request,
    next: Next,
) -> Response {
    let response = next.run(request).await;
    let Some(bytes) = response.body().size_hint().exact() else {
        return response;
    };
    let kib = u32::try_from(bytes.div_ceil(1024)).unwrap_or(u32::MAX);
    if kib == 0 {
        return response;
    }
    match budget.kib.clone().try_acquire_many_owned(kib) {
        Ok(permit) => {
            let (parts, body) = response.into_parts();
            Response::from_parts(
                parts,
                Body::new(Budgeted {
                    inner: body,
                    _permit: permit,
                }),
            )
        }
        Err(_) => ApiError::Unavailable(
            "too many large answers are waiting for their clients to read them; try again shortly"
                .into(),
        )
        .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::get;
    use tower::ServiceExt;

    #[tokio::test]
    async fn answers_held_by_clients_count_until_they_are_dropped() {
        let budget = ResponseBudget::new(3 * 1024 * 1024);
        let app = axum::Router::new()
            .route("/big", get(|| async { vec![b'x'; 2 * 1024 * 1024] }))
            .layer(axum::middleware::from_fn_with_state(budget.clone(), charge));
        let call = || {
            app.clone().oneshot(
                axum::http::Request::get("/big")
                    .body(Body::empty())
                    .unwrap(),
            )
        };
        let held = call().await.unwrap();
        assert_eq!(held.status(), 200);
        let refused = call().await.unwrap();
        assert_eq!(refused.status(), 503, "the second answer does not fit");
        drop(held);
        let again = call().await.unwrap();
        assert_eq!(
            again.status(),
            200,
            "the budget came back when the body was dropped"
        );
    }
}
