//! What a component type is: the typed [`ComponentType`] each component implements (its
//! [`Descriptor`], its `Config` struct, how a node is checked and built, and its own actions),
//! and the erased [`ErasedType`] that registries, plans and the scheduler hold — Arroyo's typed
//! `Connector` behind its erased one. Nothing outside a component branches on a type name: what
//! differs between types is said here, in the descriptor's capabilities and actions.

use std::any::Any;
use std::sync::Arc;

use futures::future::BoxFuture;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::component::Component;
use super::error::RuntimeError;
use super::id::NodeId;

/// What nodes of a type can do, for the API, the CLI and the designer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Capabilities {
    /// Takes run-time `send` commands (the Feeder's Send).
    pub accepts_send: bool,
    /// Keeps the messages that reach it for people to look at (the Display).
    pub shows_messages: bool,
    /// Calls an external service per message: has call latencies and request/response records.
    pub invokes: bool,
}

/// A component-owned action the designer can call while a node is being edited (the
/// LambdaConnector's function and qualifier listings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActionSpec {
    /// Its name in `POST /api/components/{type}/actions/{name}`.
    pub name: &'static str,
    /// What it does, as a button or picker says it.
    pub title: &'static str,
    /// The config field (JSON pointer) whose picker it fills.
    pub field: &'static str,
    /// The top-level config fields it reads; only these are checked against the schema.
    pub uses: &'static [&'static str],
}

/// Everything static about a component type.
#[derive(Debug, Clone, Copy)]
pub struct Descriptor {
    /// The `type` used in flow files (`feeder`, `display`, `lambda`).
    pub type_name: &'static str,
    /// Display name (`LambdaConnector`).
    pub title: &'static str,
    /// One-paragraph description.
    pub description: &'static str,
    /// Input port names.
    pub inputs: &'static [&'static str],
    /// Output port names.
    pub outputs: &'static [&'static str],
    /// The JSON Schema of the node's `config` (`component-schema/<type>.schema.json`).
    pub schema: &'static str,
    /// The react-jsonschema-form uiSchema (`ui-forms/<type>.ui.json`).
    pub ui_schema: &'static str,
    /// What nodes of this type can do.
    pub capabilities: Capabilities,
    /// Actions the designer can call.
    pub actions: &'static [ActionSpec],
    /// The config fields (JSON pointers) a node's stored secrets are bound to: the secrets are
    /// used only while these hold what they held when the secrets were stored. Empty: the whole
    /// config.
    pub secret_binding: &'static [&'static str],
}

/// Why a component action failed.
#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    /// The type has no action of that name.
    #[error("the component has no action \"{action}\"")]
    Unknown {
        /// The name asked for.
        action: String,
    },
    /// The config given to the action cannot be used.
    #[error("{message}")]
    Invalid {
        /// JSON pointer into the config.
        pointer: String,
        /// What is wrong (never the value).
        message: String,
    },
    /// The external service failed or could not be reached.
    #[error("{0}")]
    Upstream(String),
}

/// A component type with a typed configuration. Implemented by each component; the registry
/// holds it as an [`ErasedType`] through the blanket impl below.
pub trait ComponentType: Send + Sync + 'static {
    /// The node's configuration, as the schema describes it (`deny_unknown_fields`).
    type Config: DeserializeOwned + Send + Sync + 'static;

    /// Ports, schemas, capabilities and actions.
    fn descriptor(&self) -> Descriptor;

    /// Rules a JSON Schema cannot say (charset labels, ARNs, cross-field limits).
    fn check(&self, node: &NodeId, config: &Self::Config) -> Result<(), RuntimeError> {
        let _ = (node, config);
        Ok(())
    }

    /// Builds a node from its checked configuration.
    fn build(
        &self,
        node: &NodeId,
        config: &Self::Config,
    ) -> Result<Box<dyn Component>, RuntimeError>;

    /// Runs one of the type's actions with a node's (possibly incomplete) config.
    fn action(&self, name: &str, config: Value) -> BoxFuture<'static, Result<Value, ActionError>> {
        let _ = config;
        let action = name.to_owned();
        Box::pin(async move { Err(ActionError::Unknown { action }) })
    }
}

/// A node's configuration after parsing and checking: the component's own `Config` type,
/// shared (a plan started twice builds both runs from the same value).
#[derive(Clone)]
pub struct TypedConfig(Arc<dyn Any + Send + Sync>);

impl TypedConfig {
    /// The config as its component's type, if it is one.
    pub fn get<C: 'static>(&self) -> Option<&C> {
        self.0.downcast_ref()
    }
}

impl std::fmt::Debug for TypedConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TypedConfig")
    }
}

/// A component type with its config type erased.
pub trait ErasedType: Send + Sync + 'static {
    /// Ports, schemas, capabilities and actions.
    fn descriptor(&self) -> Descriptor;
    /// Deserialises a schema-valid config and checks it.
    fn parse(&self, node: &NodeId, config: &Value) -> Result<TypedConfig, RuntimeError>;
    /// Builds a node from a config this type parsed.
    fn build(
        &self,
        node: &NodeId,
        config: &TypedConfig,
    ) -> Result<Box<dyn Component>, RuntimeError>;
    /// Runs one of the type's actions.
    fn action(&self, name: &str, config: Value) -> BoxFuture<'static, Result<Value, ActionError>>;
}

impl<T: ComponentType> ErasedType for T {
    fn descriptor(&self) -> Descriptor {
        ComponentType::descriptor(self)
    }

    fn parse(&self, node: &NodeId, config: &Value) -> Result<TypedConfig, RuntimeError> {
        let typed = T::Config::deserialize(config).map_err(|e| RuntimeError::Config {
            node: node.clone(),
            pointer: String::new(),
            message: e.to_string(),
        })?;
        self.check(node, &typed)?;
        Ok(TypedConfig(Arc::new(typed)))
    }

    fn build(
        &self,
        node: &NodeId,
        config: &TypedConfig,
    ) -> Result<Box<dyn Component>, RuntimeError> {
        let config = config
            .get::<T::Config>()
            .ok_or_else(|| RuntimeError::Config {
                node: node.clone(),
                pointer: String::new(),
                message: format!(
                    "the config was not made for a {} node",
                    ComponentType::descriptor(self).title
                ),
            })?;
        ComponentType::build(self, node, config)
    }

    fn action(&self, name: &str, config: Value) -> BoxFuture<'static, Result<Value, ActionError>> {
        ComponentType::action(self, name, config)
    }
}
