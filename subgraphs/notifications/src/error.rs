//! The notifications subgraph's errors beyond the kit's constructors. Resolvers return
//! [`tessera_kit::ApiError`] (one wire format, internals logged and hidden); these build the
//! ones with this subgraph's wording.

use tessera_kit::ApiError;

/// A notification that is not the caller's answers exactly like a missing one, so ids of other
/// users' notifications cannot be probed.
pub fn no_such_notification() -> ApiError {
    ApiError::not_found("You have no notification with this id.").with("field", "id")
}
