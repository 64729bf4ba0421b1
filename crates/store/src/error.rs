use xcert_domain::FieldError;
use xcert_domain::access::Denied;

/// What can go wrong in a store call, already sorted by how a user should hear of it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} not found")]
    NotFound(String),
    /// Input that breaks a rule (a taken code, a bad state change...), with the field.
    #[error("invalid input: {}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldError>),
    /// A uniqueness conflict with existing data.
    #[error("conflict: {0}")]
    Conflict(FieldError),
    #[error("forbidden: {0}")]
    Denied(Denied),
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("object store error: {0}")]
    Objects(String),
    #[error("{0}")]
    Other(String),
}

impl StoreError {
    pub fn invalid(e: FieldError) -> Self {
        StoreError::Invalid(vec![e])
    }
}

impl From<Denied> for StoreError {
    fn from(d: Denied) -> Self {
        StoreError::Denied(d)
    }
}

impl From<Vec<FieldError>> for StoreError {
    fn from(v: Vec<FieldError>) -> Self {
        StoreError::Invalid(v)
    }
}
