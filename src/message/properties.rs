//! A message's header properties: names to JSON scalars, shared copy-on-write, so copying a
//! message copies a pointer and a component that adds properties copies the map once.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

/// The map behind [`Properties`].
pub type PropertyMap = BTreeMap<Arc<str>, Value>;

static EMPTY: PropertyMap = BTreeMap::new();

/// Header properties of a message: names to JSON scalars (string, number, boolean, null).
///
/// Reads go through `Deref` to the map (`props["orderId"]`, `get`, `contains_key`, `iter`);
/// writes (`insert`, `remove`, [`Properties::make_mut`]) copy the map first when another message
/// shares it (Vector's `Arc` + `make_mut`). An empty map allocates nothing.
#[derive(Clone, Default)]
pub struct Properties(Option<Arc<PropertyMap>>);

impl Properties {
    /// No properties.
    pub fn new() -> Self {
        Properties(None)
    }

    /// The map, to change it; copied first when shared.
    pub fn make_mut(&mut self) -> &mut PropertyMap {
        Arc::make_mut(self.0.get_or_insert_with(Default::default))
    }

    /// Sets one property; returns the value it replaces.
    pub fn insert(&mut self, name: Arc<str>, value: Value) -> Option<Value> {
        self.make_mut().insert(name, value)
    }

    /// Removes one property.
    pub fn remove(&mut self, name: &str) -> Option<Value> {
        if !self.contains_key(name) {
            return None;
        }
        self.make_mut().remove(name)
    }
}

impl std::ops::Deref for Properties {
    type Target = PropertyMap;

    fn deref(&self) -> &PropertyMap {
        self.0.as_deref().unwrap_or(&EMPTY)
    }
}

impl PartialEq for Properties {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl std::fmt::Debug for Properties {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&**self, f)
    }
}

impl<'a> IntoIterator for &'a Properties {
    type Item = (&'a Arc<str>, &'a Value);
    type IntoIter = std::collections::btree_map::Iter<'a, Arc<str>, Value>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<K: Into<Arc<str>>> FromIterator<(K, Value)> for Properties {
    fn from_iter<I: IntoIterator<Item = (K, Value)>>(iter: I) -> Self {
        let map: PropertyMap = iter.into_iter().map(|(k, v)| (k.into(), v)).collect();
        if map.is_empty() {
            Properties(None)
        } else {
            Properties(Some(Arc::new(map)))
        }
    }
}

impl<K: Into<Arc<str>>> Extend<(K, Value)> for Properties {
    fn extend<I: IntoIterator<Item = (K, Value)>>(&mut self, iter: I) {
        let mut iter = iter.into_iter().peekable();
        if iter.peek().is_some() {
            self.make_mut().extend(iter.map(|(k, v)| (k.into(), v)));
        }
    }
}

impl Serialize for Properties {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        (**self).serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Properties {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let map = BTreeMap::<String, Value>::deserialize(deserializer)?;
        Ok(map.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_copy_shares_the_map_until_one_side_writes() {
        let mut a = Properties::new();
        assert!(a.is_empty());
        a.insert("orderId".into(), json!(42));
        let mut b = a.clone();
        b.insert("lambda.statusCode".into(), json!(200));
        assert_eq!(a.len(), 1);
        assert_eq!(b["orderId"], 42);
        assert_eq!(b["lambda.statusCode"], 200);
        assert!(!a.contains_key("lambda.statusCode"));
        assert_eq!(b.remove("orderId"), Some(json!(42)));
        assert_eq!(a["orderId"], 42);
    }

    #[test]
    fn json_form_is_a_plain_object() {
        let p: Properties = serde_json::from_value(json!({"a": 1, "b": "x"})).unwrap();
        assert_eq!(serde_json::to_value(&p).unwrap(), json!({"a": 1, "b": "x"}));
        assert_eq!(serde_json::to_value(Properties::new()).unwrap(), json!({}));
    }
}
