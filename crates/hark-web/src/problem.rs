//! RFC 9457 problem details: every API error is `application/problem+json` with a stable
//! `type`, and validation errors list the fields at fault.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use hark_core::{FieldError, ValidationErrors, Why};
use hark_store::StoreError;
use serde::Serialize;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// Stable identifier of the kind of problem, e.g. `/problems/validation`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub title: &'static str,
    pub status: u16,
    pub detail: String,
    /// For validation problems: each field at fault and why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// The refusal as a sentence of the locale files, for pages read in other languages.
    #[serde(skip)]
    pub why: Option<Why>,
    /// Seconds to wait before trying again (sent as `Retry-After`).
    #[serde(skip)]
    pub retry_after: Option<u64>,
}

#[derive(Debug)]
pub struct ApiError(pub Box<Problem>);

impl ApiError {
    pub(crate) fn with_status(
        status: StatusCode,
        kind: &'static str,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        let status = status.as_u16();
        ApiError(Box::new(Problem {
            kind,
            title,
            status,
            detail: detail.into(),
            errors: Vec::new(),
            why: None,
            retry_after: None,
        }))
    }

    pub fn malformed(detail: impl Into<String>) -> Self {
        Self::with_status(StatusCode::BAD_REQUEST, "/problems/malformed-request", "Malformed request", detail)
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::with_status(StatusCode::UNAUTHORIZED, "/problems/unauthorized", "Unauthorized", detail)
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::with_status(StatusCode::FORBIDDEN, "/problems/forbidden", "Forbidden", detail)
    }

    /// Forbidden, saying why in each reader's language on pages.
    pub fn refused(why: Why) -> Self {
        let mut e = Self::forbidden(why.in_language(hark_core::i18n::base()));
        e.0.why = Some(why);
        e
    }

    pub fn not_found(what: &str) -> Self {
        Self::with_status(StatusCode::NOT_FOUND, "/problems/not-found", "Not found", format!("no such {what}"))
    }

    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::with_status(StatusCode::CONFLICT, "/problems/conflict", "Conflict", detail)
    }

    pub fn too_large(detail: impl Into<String>) -> Self {
        Self::with_status(StatusCode::PAYLOAD_TOO_LARGE, "/problems/payload-too-large", "Payload too large", detail)
    }

    pub fn unsupported_media_type(detail: impl Into<String>) -> Self {
        Self::with_status(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "/problems/unsupported-media-type",
            "Unsupported media type",
            detail,
        )
    }

    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self::with_status(StatusCode::SERVICE_UNAVAILABLE, "/problems/unavailable", "Service unavailable", detail)
    }

    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        ValidationErrors::single(field, message).into()
    }

    /// A field at fault, said in each reader's language on pages.
    pub fn invalid(field: impl Into<String>, why: Why) -> Self {
        ValidationErrors::one(field, why).into()
    }
}

impl From<ValidationErrors> for ApiError {
    fn from(errors: ValidationErrors) -> Self {
        let detail = errors.to_string();
        let mut e =
            Self::with_status(StatusCode::UNPROCESSABLE_ENTITY, "/problems/validation", "Invalid input", detail);
        e.0.errors = errors.0;
        e
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound(what) => Self::not_found(what),
            StoreError::Conflict(detail) => Self::conflict(detail),
            StoreError::Invalid(errors) => errors.into(),
            StoreError::Busy => {
                let mut busy = Self::unavailable(StoreError::Busy.to_string());
                busy.0.retry_after = Some(1);
                busy
            }
            other => {
                tracing::error!(error = %other, "storage failure");
                Self::with_status(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "/problems/internal",
                    "Internal error",
                    "the request could not be completed; it was not stored",
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.0.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&*self.0).expect("problems serialize");
        let mut response = (status, [(header::CONTENT_TYPE, "application/problem+json")], body).into_response();
        if let Some(seconds) = self.0.retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, seconds.into());
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
