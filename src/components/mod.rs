//! The component types this binary ships, listed explicitly in [`registry`].

pub mod display;
pub mod feeder;
pub mod lambda;

use std::sync::{Arc, OnceLock};

use crate::flow::Registry;
use crate::runtime::ErasedType;

/// Every component type this binary ships, in the order the designer's palette shows them.
pub fn types() -> Vec<Arc<dyn ErasedType>> {
    vec![
        Arc::new(feeder::FeederType),
        Arc::new(lambda::LambdaType),
        Arc::new(display::DisplayType),
    ]
}

/// The registry of [`types`], compiled once.
pub fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| Registry::new(types()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_schema_compiles() {
        let r = registry();
        assert_eq!(r.type_names(), vec!["feeder", "lambda", "display"]);
        for c in r.iter() {
            assert!(c.schema.is_object(), "{}", c.descriptor.type_name);
            assert!(c.ui_schema.is_object(), "{}", c.descriptor.type_name);
        }
    }
}
