//! A secret value on the wire: serialized as a plain JSON string, zeroed
//! when dropped, and redacted in `Debug`.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use zeroize::Zeroizing;

/// A secret value carried by a request or a reply.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Value(Zeroizing<String>);

impl Value {
    /// The value itself.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value(Zeroizing::new(s.to_owned()))
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value(Zeroizing::new(s))
    }
}

impl std::fmt::Debug for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Value([redacted])")
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Value(Zeroizing::new(String::deserialize(d)?)))
    }
}
