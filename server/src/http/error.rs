//! The one error shape every endpoint answers with, `{"error": "..."}` under the right
//! status ([`ApiError`]), and the extractors that reject with it: [`ApiQuery`] for a query
//! string, [`ApiJson`] for a JSON body (its message names the shape expected).
//!
//! Invariant: no handler turns an axum rejection into an answer by hand; a server error (5xx)
//! is logged here once, with its status.

use axum::Json;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use floorwatch_core::EngineError;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::accounts::AccountsError;
use crate::audit::NotRecorded;
use crate::recorder::RecordError;

/// What went wrong, as the client is told; the variant is the HTTP status.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    /// The request conflicts with what is recorded (an alert acknowledged twice).
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    /// The body did not arrive within `--body-timeout-ms`.
    #[error("{0}")]
    RequestTimeout(String),
    /// A body of a type the endpoint does not take (the message names the types it does).
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// Too many attempts (login lock-out, rate limit); the caller adds `Retry-After`.
    #[error("{0}")]
    TooManyRequests(String),
    #[error("{0}")]
    Unavailable(String),
    #[error("{0}")]
    Internal(String),
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
}

/// [`ErrorBody`] where no HTTP status carries the kind of failure (a websocket message): the
/// status `POST` would have answered, so a sender knows whether to resend (5xx) or give up.
#[derive(Serialize)]
struct StatusBody<'a> {
    error: &'a str,
    status: u16,
}

impl ApiError {
    fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::RequestTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// `{"error": "...", "status": N}`, for places that answer without a status (a
    /// websocket message).
    pub(crate) fn json_body(&self) -> String {
        serde_json::to_string(&StatusBody {
            error: &self.to_string(),
            status: self.status().as_u16(),
        })
        .unwrap_or_default()
    }

    /// The answer to a body that could not be read: 408 past the body deadline, 413 past
    /// the size limit, 400 otherwise.
    pub(crate) fn from_body_rejection(rejection: BytesRejection) -> ApiError {
        if let Some(timeout) = find_source::<crate::serve::BodyTimeout>(&rejection) {
            ApiError::RequestTimeout(timeout.to_string())
        } else if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge(
                "the body is larger than the server's limit (--max-body-bytes); send smaller \
                 batches"
                    .into(),
            )
        } else {
            ApiError::BadRequest(format!(
                "could not read the body: {}",
                rejection.body_text()
            ))
        }
    }
}

/// The first error of type `E` in the chain of `error` and its sources.
fn find_source<'a, E: std::error::Error + 'static>(
    error: &'a (dyn std::error::Error + 'static),
) -> Option<&'a E> {
    let mut next = Some(error);
    while let Some(e) = next {
        if let Some(found) = e.downcast_ref::<E>() {
            return Some(found);
        }
        next = e.source();
    }
    None
}

impl From<RecordError> for ApiError {
    fn from(e: RecordError) -> ApiError {
        ApiError::Unavailable(e.to_string())
    }
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> ApiError {
        match e {
            EngineError::UnknownScope(_) => ApiError::NotFound(e.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::warn!(%status, error = %self, "request failed");
        }
        (
            status,
            Json(ErrorBody {
                error: &self.to_string(),
            }),
        )
            .into_response()
    }
}

impl From<AccountsError> for ApiError {
    fn from(e: AccountsError) -> ApiError {
        match e {
            AccountsError::BadName(_)
            | AccountsError::BadScope(_)
            | AccountsError::DeviceRole(_) => ApiError::BadRequest(e.to_string()),
            AccountsError::DeviceExists(_) => ApiError::Conflict(e.to_string()),
            AccountsError::UnknownDevice(_) => ApiError::NotFound(e.to_string()),
            AccountsError::Audit(_) => ApiError::Unavailable(e.to_string()),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

/// No record, no action (`crate::audit::writer`): the request is refused with 503.
impl From<NotRecorded> for ApiError {
    fn from(e: NotRecorded) -> ApiError {
        ApiError::Unavailable(e.to_string())
    }
}

/// A query string of `T`; a malformed one is a 400 naming what is wrong. Taken as
/// `Result<ApiQuery<T>, ApiError>` where the handler checks permissions first.
#[derive(Debug)]
pub(crate) struct ApiQuery<T>(pub(crate) T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(value)) => Ok(ApiQuery(value)),
            Err(rejection) => Err(ApiError::BadRequest(rejection.body_text())),
        }
    }
}

/// A JSON body the endpoint takes: what a malformed one is told to look like.
pub(crate) trait JsonShape {
    /// An example of the body, as the 400 shows it.
    const EXPECTED: &'static str;
}

/// A JSON body of `T`; a malformed one is a 400 naming what is wrong and the shape expected.
/// Taken as `Result<ApiJson<T>, ApiError>` where the handler checks permissions first.
#[derive(Debug)]
pub(crate) struct ApiJson<T>(pub(crate) T);

impl<T: DeserializeOwned + JsonShape, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        match Json::<T>::from_request(request, state).await {
            Ok(Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(ApiError::BadRequest(format!(
                "{}; expected {}",
                rejection.body_text(),
                T::EXPECTED
            ))),
        }
    }
}

/// Any other `/api/...` path.
pub(crate) async fn not_found() -> ApiError {
    ApiError::NotFound(
        "no such endpoint; see GET /api/v1/metrics, /api/v1/queues, /api/v1/agents, \
         POST /api/v1/events, websockets /api/v1/live and /api/v1/ingest"
            .into(),
    )
}

/// A known path with the wrong method.
pub(crate) async fn method_not_allowed() -> Response {
    (
        StatusCode::METHOD_NOT_ALLOWED,
        Json(ErrorBody {
            error: "method not allowed on this path",
        }),
    )
        .into_response()
}
