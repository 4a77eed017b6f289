//! The component types this binary ships, listed explicitly in [`registry`].

pub mod display;
pub mod feeder;
pub mod lambda;

use crate::runtime::ComponentSpec;

/// Every component type, in the order the designer's palette shows them.
pub fn registry() -> Vec<ComponentSpec> {
    vec![feeder::spec(), lambda::spec(), display::spec()]
}
