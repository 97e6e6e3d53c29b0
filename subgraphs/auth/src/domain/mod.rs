//! The auth subgraph's rules, parsed once at the edge: a value of these types is valid. The
//! newtypes deref to `str`, so the store and the events take them as they are.

pub mod email;
pub mod password;
pub mod phone;
pub mod secret;
pub mod totp;
pub mod username;

pub use email::Email;
pub use password::NewPassword;
pub use phone::Phone;
pub use username::Username;

/// A newtype over a valid `String`: read as `str`, printed and serialized as the string.
macro_rules! text_newtype {
    ($name:ident) => {
        #[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }
    };
}
pub(crate) use text_newtype;

/// A sign-in identifier, normalized the way accounts store it: an email or a username.
pub fn identifier(raw: &str) -> String {
    raw.trim().to_lowercase()
}
