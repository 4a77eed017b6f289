//! Newtype ids for flows, nodes and edges: cheap to clone (`Arc<str>`), never mixed up with one
//! another or with other strings, and never empty (a flow file's ids are checked against their
//! patterns before any id is made; code that makes one from nothing gets a named placeholder).

use std::borrow::Borrow;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $placeholder:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
        #[serde(from = "String")]
        pub struct $name(Arc<str>);

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl $name {
            /// The id; an empty string becomes the placeholder
            #[doc = concat!("`", $placeholder, "`")]
            /// so that no error ever names an empty id.
            pub fn new(id: impl AsRef<str>) -> Self {
                let id = id.as_ref();
                $name(Arc::from(if id.is_empty() { $placeholder } else { id }))
            }

            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&*self.0, f)
            }
        }

        impl Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl From<&str> for $name {
            fn from(id: &str) -> Self {
                $name::new(id)
            }
        }

        impl From<String> for $name {
            fn from(id: String) -> Self {
                $name::new(id)
            }
        }

        impl From<&String> for $name {
            fn from(id: &String) -> Self {
                $name::new(id)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0.to_string()
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                &*self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                &*self.0 == *other
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                &*self.0 == other.as_str()
            }
        }

        impl PartialEq<$name> for str {
            fn eq(&self, other: &$name) -> bool {
                self == &*other.0
            }
        }

        impl PartialEq<$name> for &str {
            fn eq(&self, other: &$name) -> bool {
                *self == &*other.0
            }
        }
    };
}

id_type!(
    /// A flow's id (`^[a-z0-9][a-z0-9_-]{0,63}$` in a flow file).
    FlowId,
    "(unnamed flow)"
);
id_type!(
    /// A node's id, unique within its flow.
    NodeId,
    "(unnamed node)"
);
id_type!(
    /// An edge's id, unique within its flow.
    EdgeId,
    "(unnamed edge)"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_is_never_empty() {
        assert_eq!(NodeId::new("").as_str(), "(unnamed node)");
        assert_eq!(NodeId::new("lambda1"), "lambda1");
    }

    #[test]
    fn ids_serialise_as_plain_strings() {
        let id: NodeId = serde_json::from_str("\"feeder1\"").unwrap();
        assert_eq!(id.as_str(), "feeder1");
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"feeder1\"");
    }
}
