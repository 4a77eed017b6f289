//! Control-plane listings for the designer: the account's functions (ListFunctions) and a
//! function's aliases and versions (ListAliases, ListVersionsByFunction), given connection
//! details. The server's `POST /api/lambda/functions` and `/api/lambda/qualifiers` call these.

use serde::Serialize;

use super::classify::control_error;
use super::client::{ClientOverrides, build_client};
use super::config::Connection;
use super::error::LambdaError;

/// One function of the account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FunctionSummary {
    /// Function name.
    pub name: String,
    /// Function ARN.
    pub arn: String,
    /// Runtime (`provided.al2023`, `python3.13`, …); none for container images.
    pub runtime: Option<String>,
    /// Description.
    pub description: Option<String>,
}

/// A function's aliases and published versions.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Qualifiers {
    /// Aliases, in the order Lambda lists them.
    pub aliases: Vec<AliasSummary>,
    /// Versions, `$LATEST` first as Lambda lists it.
    pub versions: Vec<String>,
}

/// One alias.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AliasSummary {
    /// Alias name.
    pub name: String,
    /// The version it points to.
    pub function_version: String,
}

/// Lists every function the credentials can see in the region (all pages).
pub async fn list_functions(connection: &Connection) -> Result<Vec<FunctionSummary>, LambdaError> {
    list_functions_with(connection, &ClientOverrides::default()).await
}

/// Lists a function's aliases and versions (all pages).
pub async fn list_qualifiers(
    connection: &Connection,
    function_name: &str,
) -> Result<Qualifiers, LambdaError> {
    list_qualifiers_with(connection, function_name, &ClientOverrides::default()).await
}

/// [`list_functions`] with client overrides.
pub async fn list_functions_with(
    connection: &Connection,
    overrides: &ClientOverrides,
) -> Result<Vec<FunctionSummary>, LambdaError> {
    let client = build_client(connection, overrides).await?;
    let mut pages = client.list_functions().into_paginator().send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| control_error("ListFunctions", &e))?;
        for f in page.functions() {
            out.push(FunctionSummary {
                name: f.function_name().unwrap_or_default().to_owned(),
                arn: f.function_arn().unwrap_or_default().to_owned(),
                runtime: f.runtime().map(|r| r.as_str().to_owned()),
                description: f.description().filter(|d| !d.is_empty()).map(str::to_owned),
            });
        }
    }
    Ok(out)
}

/// [`list_qualifiers`] with client overrides.
pub async fn list_qualifiers_with(
    connection: &Connection,
    function_name: &str,
    overrides: &ClientOverrides,
) -> Result<Qualifiers, LambdaError> {
    let client = build_client(connection, overrides).await?;
    let mut result = Qualifiers::default();
    let mut pages = client
        .list_aliases()
        .function_name(function_name)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| control_error("ListAliases", &e))?;
        for a in page.aliases() {
            result.aliases.push(AliasSummary {
                name: a.name().unwrap_or_default().to_owned(),
                function_version: a.function_version().unwrap_or_default().to_owned(),
            });
        }
    }
    let mut pages = client
        .list_versions_by_function()
        .function_name(function_name)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| control_error("ListVersionsByFunction", &e))?;
        for v in page.versions() {
            if let Some(version) = v.version() {
                result.versions.push(version.to_owned());
            }
        }
    }
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_lambda::config::SharedHttpClient;
    use aws_sdk_lambda::primitives::SdkBody;
    use aws_smithy_http_client::test_util::{ReplayEvent, StaticReplayClient};

    fn event(uri: &str, status: u16, body: &str) -> ReplayEvent {
        ReplayEvent::new(
            http::Request::builder()
                .uri(uri)
                .body(SdkBody::empty())
                .unwrap(),
            http::Response::builder()
                .status(status)
                .header("content-type", "application/json")
                .body(SdkBody::from(body.to_owned()))
                .unwrap(),
        )
    }

    fn connection() -> Connection {
        Connection {
            region: Some("us-east-1".into()),
            access_key: Some("AKID".into()),
            secret_key: Some("secret".into()),
            endpoint_url: Some("http://lambda.test".into()),
            ..Connection::default()
        }
    }

    fn overrides(replay: &StaticReplayClient) -> ClientOverrides {
        ClientOverrides {
            http_client: Some(SharedHttpClient::new(replay.clone())),
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn functions_are_listed_across_pages() {
        let replay = StaticReplayClient::new(vec![
            event(
                "http://lambda.test/2015-03-31/functions",
                200,
                r#"{"Functions":[{"FunctionName":"hello","FunctionArn":"arn:aws:lambda:us-east-1:123456789012:function:hello","Runtime":"provided.al2023","Description":"greets"}],"NextMarker":"m1"}"#,
            ),
            event(
                "http://lambda.test/2015-03-31/functions?Marker=m1",
                200,
                r#"{"Functions":[{"FunctionName":"fail","FunctionArn":"arn:aws:lambda:us-east-1:123456789012:function:fail","Description":""}]}"#,
            ),
        ]);
        let fns = list_functions_with(&connection(), &overrides(&replay))
            .await
            .unwrap();
        assert_eq!(
            fns,
            vec![
                FunctionSummary {
                    name: "hello".into(),
                    arn: "arn:aws:lambda:us-east-1:123456789012:function:hello".into(),
                    runtime: Some("provided.al2023".into()),
                    description: Some("greets".into()),
                },
                FunctionSummary {
                    name: "fail".into(),
                    arn: "arn:aws:lambda:us-east-1:123456789012:function:fail".into(),
                    runtime: None,
                    description: None,
                }
            ]
        );
        let uris: Vec<String> = replay
            .actual_requests()
            .map(|r| r.uri().to_owned())
            .collect();
        assert!(uris[1].contains("Marker=m1"), "{uris:?}");
        assert_eq!(
            serde_json::to_value(&fns[0]).unwrap()["runtime"],
            "provided.al2023"
        );
    }

    #[tokio::test]
    async fn qualifiers_list_aliases_and_versions() {
        let replay = StaticReplayClient::new(vec![
            event(
                "http://lambda.test/2015-03-31/functions/hello/aliases",
                200,
                r#"{"Aliases":[{"Name":"PROD","FunctionVersion":"2"}]}"#,
            ),
            event(
                "http://lambda.test/2015-03-31/functions/hello/versions",
                200,
                r#"{"Versions":[{"Version":"$LATEST"},{"Version":"1"},{"Version":"2"}]}"#,
            ),
        ]);
        let q = list_qualifiers_with(&connection(), "hello", &overrides(&replay))
            .await
            .unwrap();
        assert_eq!(
            serde_json::to_value(&q).unwrap(),
            serde_json::json!({
                "aliases": [{"name": "PROD", "functionVersion": "2"}],
                "versions": ["$LATEST", "1", "2"]
            })
        );
    }

    #[tokio::test]
    async fn a_missing_function_is_a_service_error() {
        let replay = StaticReplayClient::new(vec![ReplayEvent::new(
            http::Request::builder()
                .uri("http://lambda.test/2015-03-31/functions/nope/aliases")
                .body(SdkBody::empty())
                .unwrap(),
            http::Response::builder()
                .status(404)
                .header("x-amzn-errortype", "ResourceNotFoundException")
                .header("content-type", "application/json")
                .body(SdkBody::from(
                    r#"{"Type":"User","message":"Function not found: nope"}"#,
                ))
                .unwrap(),
        )]);
        let e = list_qualifiers_with(&connection(), "nope", &overrides(&replay))
            .await
            .unwrap_err();
        assert_eq!(e.code(), "ResourceNotFoundException");
        assert!(!e.retryable());
        assert!(e.to_string().contains("ListAliases failed"), "{e}");
    }
}
