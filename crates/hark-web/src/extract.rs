//! Request extractors whose failures are problem+json naming what is wrong.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{header, request::Parts};
use serde::de::DeserializeOwned;

use crate::problem::ApiError;

/// JSON body: wrong content type, bad syntax, invalid UTF-8, unknown or mistyped fields and
/// oversized bodies each become a problem that names the field or position.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("application/json") || ct.contains("+json"));
        if !json {
            return Err(ApiError::unsupported_media_type(
                "send the body as JSON with `Content-Type: application/json`",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| match e {
            BytesRejection::FailedToBufferBody(ref inner) if inner.body_text().contains("length limit") => {
                ApiError::too_large(format!("the body is larger than the {} MiB limit", crate::BODY_LIMIT >> 20))
            }
            other => ApiError::malformed(other.body_text()),
        })?;
        parse_json(&bytes).map(ApiJson)
    }
}

pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_data() {
            // Syntax is fine but a field is unknown, missing or of the wrong type.
            let field = if path == "." { "body".to_string() } else { path };
            ApiError::field(field, inner.to_string())
        } else {
            ApiError::malformed(format!("the body is not valid JSON: {inner}"))
        }
    })?;
    de.end().map_err(|e| ApiError::malformed(format!("the body is not valid JSON: {e}")))?;
    Ok(value)
}

/// Query string as a list of pairs, for filters with open-ended keys (`attr.plan=pro`).
pub struct RawQuery(pub Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for RawQuery {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or("");
        serde_urlencoded::from_str(query).map(RawQuery).map_err(|e| ApiError::malformed(format!("query string: {e}")))
    }
}

/// The `Idempotency-Key` header, if sent.
pub fn idempotency_header(headers: &axum::http::HeaderMap) -> Result<Option<String>, ApiError> {
    headers
        .get("idempotency-key")
        .map(|v| v.to_str().map(str::to_owned).map_err(|_| ApiError::field("Idempotency-Key", "must be visible ASCII")))
        .transpose()
}
