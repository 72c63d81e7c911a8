//! The store's errors: SQLite's, or adskew's own (a bad file, a busy lock), each kept as it
//! is until it leaves the store as an [`adskew_core::error::Error`] of the same kind.

pub use adskew_core::error::Error;

/// An error inside the store. Callers outside it get an [`Error`] through `?`.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error(transparent)]
    Core(#[from] Error),
}

impl StoreError {
    /// The process exit code this error maps to (as [`Error::exit_code`]).
    pub fn exit_code(&self) -> i32 {
        match self {
            StoreError::Sql(_) => adskew_core::error::EXIT_FAILURE,
            StoreError::Core(e) => e.exit_code(),
        }
    }
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Error {
        match e {
            StoreError::Sql(e) => Error::Sql(Box::new(e)),
            StoreError::Core(e) => e,
        }
    }
}

/// The store's result type.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
