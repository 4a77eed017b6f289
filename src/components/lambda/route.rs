//! Routing per message: which function, qualifier, tenant and durable execution name one
//! message's call uses.
//!
//! - With `allowOverrides`, the message properties `lambda.functionName` and `lambda.qualifier`
//!   choose the function and qualifier. They are validated with the property sheet's own
//!   `functionName` and `qualifier` schemas, and must agree as the config fields must (an alias
//!   in the name and a different qualifier clash). A message that overrides the function and not
//!   the qualifier calls that function unqualified (or with the alias in its name): the node's
//!   `qualifier` belongs to the node's function. Without `allowOverrides` the properties are
//!   ignored.
//! - The tenant id is the message's `tenantIdProperty`, else the fixed `tenantId`; a message
//!   without the property and no fixed id is refused (`MissingTenantId`), since the user asked
//!   for a tenant per message.
//! - The durable execution name is the message's `durableExecutionNameProperty`, when it has it
//!   (else Lambda names the execution).
//!
//! Refusals happen before any call (`invalidRequest`) and name the property, never its value.

use std::sync::OnceLock;

use serde_json::{Value, json};

use super::config::LambdaConfig;
use crate::message::Message;
use crate::runtime::{ErrorType, Failure};

/// The message property naming the function, with `allowOverrides`.
pub const FUNCTION_PROPERTY: &str = "lambda.functionName";
/// The message property naming the qualifier, with `allowOverrides`.
pub const QUALIFIER_PROPERTY: &str = "lambda.qualifier";

/// A function chosen by a message.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Target {
    /// The name, `name:alias` or ARN to call.
    pub function_name: String,
    /// The qualifier to send.
    pub qualifier: Option<String>,
    /// The qualifier the call resolves to (`qualifier`, else the alias in the name).
    pub reported_qualifier: Option<String>,
    /// The qualified ARN, when known.
    pub function_arn: Option<String>,
}

/// What routing decided for one message: `None` fields are the node's.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Route {
    /// The function a message chose (`allowOverrides`).
    pub target: Option<Target>,
    /// The tenant id from the message (`tenantIdProperty`).
    pub tenant_id: Option<String>,
    /// The durable execution name from the message.
    pub durable_execution_name: Option<String>,
}

/// Validators for the values routing accepts, built once from the property sheet.
struct Rules {
    function_name: jsonschema::Validator,
    qualifier: jsonschema::Validator,
    tenant_id: jsonschema::Validator,
    durable_execution_name: jsonschema::Validator,
}

fn rules() -> &'static Rules {
    static RULES: OnceLock<Rules> = OnceLock::new();
    RULES.get_or_init(|| {
        let sheet: Value =
            serde_json::from_str(include_str!("../../../component-schema/lambda.schema.json"))
                .expect("the LambdaConnector schema is JSON");
        let compile = |schema: &Value| {
            jsonschema::validator_for(schema).expect("the property sheet's schemas compile")
        };
        Rules {
            function_name: compile(&sheet["properties"]["functionName"]),
            qualifier: compile(&sheet["properties"]["qualifier"]),
            tenant_id: compile(&sheet["properties"]["tenantId"]),
            durable_execution_name: compile(&json!({
                "type": "string", "minLength": 1, "maxLength": 64, "pattern": "^[a-zA-Z0-9_-]+$"
            })),
        }
    })
}

/// Whether `tenant` is a tenant id Lambda accepts (config checks use it too).
pub fn valid_tenant_id(tenant: &str) -> bool {
    rules().tenant_id.is_valid(&json!(tenant))
}

fn refused(code: &str, property: &str, what: &str) -> Failure {
    Failure::new(
        ErrorType::InvalidRequest,
        code,
        format!("message property {property} {what}; the message was not sent"),
    )
}

/// A property's value as text (a number as its JSON text), when the message has it; `Err`
/// when it is a boolean or `null`.
fn text(input: &Message, property: &str, code: &str) -> Result<Option<String>, Failure> {
    match input.properties.get(property) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(_) => Err(refused(code, property, "must be a string or a number")),
    }
}

/// The route of `input`: what its call uses instead of the node's settings.
pub fn route(config: &LambdaConfig, input: &Message) -> Result<Route, Failure> {
    let rules = rules();
    let mut route = Route::default();
    if config.allow_overrides {
        route.target = target(config, input, rules)?;
    }
    if let Some(property) = config.tenant_id_property.as_deref() {
        match text(input, property, "InvalidTenantId")? {
            Some(tenant) if rules.tenant_id.is_valid(&json!(tenant)) => {
                route.tenant_id = Some(tenant)
            }
            Some(_) => {
                return Err(refused(
                    "InvalidTenantId",
                    property,
                    "(tenantIdProperty) is not a tenant id Lambda accepts (1 to 256 letters, \
                     digits, spaces and ._:/=+-@)",
                ));
            }
            None if config.tenant_id.is_some() => {}
            None => {
                return Err(refused(
                    "MissingTenantId",
                    property,
                    "(tenantIdProperty) is missing and no fixed tenantId is set",
                ));
            }
        }
    }
    if let Some(property) = config.durable_execution_name_property.as_deref() {
        let code = "InvalidDurableExecutionName";
        if let Some(name) = text(input, property, code)? {
            if !rules.durable_execution_name.is_valid(&json!(name)) {
                return Err(refused(
                    code,
                    property,
                    "(durableExecutionNameProperty) is not an execution name Lambda accepts \
                     (1 to 64 letters, digits, - and _)",
                ));
            }
            route.durable_execution_name = Some(name);
        }
    }
    Ok(route)
}

/// The function and qualifier a message chose, validated; `None` when it chose neither.
fn target(
    config: &LambdaConfig,
    input: &Message,
    rules: &Rules,
) -> Result<Option<Target>, Failure> {
    let name = text(input, FUNCTION_PROPERTY, "InvalidOverride")?;
    let qualifier = text(input, QUALIFIER_PROPERTY, "InvalidOverride")?;
    if name.is_none() && qualifier.is_none() {
        return Ok(None);
    }
    if let Some(name) = &name
        && !rules.function_name.is_valid(&json!(name))
    {
        return Err(refused(
            "InvalidOverride",
            FUNCTION_PROPERTY,
            "is not a function name, name:alias, partial or full ARN (allowOverrides is on)",
        ));
    }
    if let Some(q) = &qualifier
        && !rules.qualifier.is_valid(&json!(q))
    {
        return Err(refused(
            "InvalidOverride",
            QUALIFIER_PROPERTY,
            "is not a version or alias (allowOverrides is on)",
        ));
    }
    let qualifier = match (&name, qualifier) {
        (_, Some(q)) => Some(q),
        // The node's qualifier belongs to the node's function.
        (Some(_), None) => None,
        (None, None) => config.qualifier.clone(),
    };
    let routed = LambdaConfig {
        function_name: name.unwrap_or_else(|| config.function_name.clone()),
        qualifier,
        connection: super::config::Connection {
            region: config.connection.region.clone(),
            ..Default::default()
        },
        ..LambdaConfig::default()
    };
    if routed.qualifier_clashes() {
        return Err(refused(
            "InvalidOverride",
            QUALIFIER_PROPERTY,
            "names a different qualifier than the alias in the function name (allowOverrides \
             is on)",
        ));
    }
    Ok(Some(Target {
        function_name: routed.function_name.trim().to_owned(),
        qualifier: routed.qualifier().map(str::to_owned),
        reported_qualifier: routed.resolved_qualifier().map(str::to_owned),
        function_arn: routed.qualified_arn(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(v: Value) -> LambdaConfig {
        let mut base = json!({"functionName": "hello", "qualifier": "PROD"});
        base.as_object_mut()
            .unwrap()
            .extend(v.as_object().unwrap().clone());
        serde_json::from_value(base).unwrap()
    }

    fn msg(props: Value) -> Message {
        let mut m = Message::new("{}");
        for (k, v) in props.as_object().unwrap() {
            m = m.with_property(k.as_str(), v.clone());
        }
        m
    }

    #[test]
    fn overrides_are_ignored_unless_allowed() {
        let m = msg(json!({"lambda.functionName": "other"}));
        assert_eq!(route(&config(json!({})), &m).unwrap(), Route::default());
    }

    #[test]
    fn a_message_chooses_function_and_qualifier() {
        let c = config(json!({"allowOverrides": true, "connection": {"region": "eu-west-1"}}));
        let t = |props: Value| route(&c, &msg(props)).unwrap().target;
        assert_eq!(t(json!({})), None);
        let other = t(json!({"lambda.functionName": "other"})).unwrap();
        assert_eq!(
            (other.function_name.as_str(), other.qualifier),
            ("other", None)
        );
        let alias = t(json!({"lambda.functionName": "other:BETA"})).unwrap();
        assert_eq!(alias.reported_qualifier.as_deref(), Some("BETA"));
        let q = t(json!({"lambda.qualifier": "7"})).unwrap();
        assert_eq!(
            (q.function_name.as_str(), q.qualifier.as_deref()),
            ("hello", Some("7"))
        );
        let arn =
            t(json!({"lambda.functionName": "123456789012:function:f", "lambda.qualifier": "3"}))
                .unwrap();
        assert_eq!(
            arn.function_arn.as_deref(),
            Some("arn:aws:lambda:eu-west-1:123456789012:function:f:3")
        );
    }

    #[test]
    fn bad_overrides_are_refused_naming_the_property_not_the_value() {
        let c = config(json!({"allowOverrides": true}));
        for (props, property) in [
            (
                json!({"lambda.functionName": "has space secret"}),
                FUNCTION_PROPERTY,
            ),
            (json!({"lambda.functionName": true}), FUNCTION_PROPERTY),
            (
                json!({"lambda.qualifier": "bad qualifier secret"}),
                QUALIFIER_PROPERTY,
            ),
            (
                json!({"lambda.functionName": "f:PROD", "lambda.qualifier": "DEV"}),
                QUALIFIER_PROPERTY,
            ),
        ] {
            let f = route(&c, &msg(props.clone())).unwrap_err();
            assert_eq!(
                (f.error_type, f.code.as_str()),
                (ErrorType::InvalidRequest, "InvalidOverride")
            );
            assert!(f.message.contains(property), "{props}: {f}");
            assert!(
                !f.message.contains("secret") && !f.message.contains("DEV"),
                "{f}"
            );
        }
    }

    #[test]
    fn tenant_from_the_property_else_the_fixed_one() {
        let both = config(json!({"tenantId": "default", "tenantIdProperty": "tenant"}));
        let r = route(&both, &msg(json!({"tenant": "blue"}))).unwrap();
        assert_eq!(r.tenant_id.as_deref(), Some("blue"));
        assert_eq!(
            route(&both, &msg(json!({}))).unwrap().tenant_id,
            None,
            "the node's"
        );
        let only = config(json!({"tenantIdProperty": "tenant"}));
        assert_eq!(
            route(&only, &msg(json!({}))).unwrap_err().code,
            "MissingTenantId"
        );
        assert_eq!(
            route(&only, &msg(json!({"tenant": 7})))
                .unwrap()
                .tenant_id
                .as_deref(),
            Some("7"),
            "a number as its text"
        );
        for bad in [json!("no\nnewlines"), json!(""), json!(null)] {
            let f = route(&only, &msg(json!({"tenant": bad}))).unwrap_err();
            assert_eq!(f.code, "InvalidTenantId");
            assert!(
                f.message.contains("tenant") && !f.message.contains("newlines"),
                "{f}"
            );
        }
        assert!(valid_tenant_id("acme:eu/1 @x"));
        assert!(!valid_tenant_id(&"x".repeat(257)));
    }

    #[test]
    fn durable_execution_name_when_the_message_has_one() {
        let c = config(json!({"durableExecutionNameProperty": "orderId"}));
        let r = route(&c, &msg(json!({"orderId": "order-42_a"}))).unwrap();
        assert_eq!(r.durable_execution_name.as_deref(), Some("order-42_a"));
        assert_eq!(
            route(&c, &msg(json!({}))).unwrap().durable_execution_name,
            None
        );
        for bad in [json!("a b"), json!("x".repeat(65)), json!(false)] {
            let f = route(&c, &msg(json!({"orderId": bad}))).unwrap_err();
            assert_eq!(f.code, "InvalidDurableExecutionName");
        }
    }
}
