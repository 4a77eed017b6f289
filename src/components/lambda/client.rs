//! Builds the `aws_sdk_lambda::Client` of a node (or of a designer listing) from the
//! `connection` settings: static keys or the default credential chain, a named profile, a role
//! assumed through STS, the region, the endpoint and the timeouts.
//!
//! Decisions:
//! - The SDK's own retries are off (`RetryConfig::disabled()`): our error handling counts the
//!   attempts (`approximateInvokeCount`) and honours `Retry-After`.
//! - `connectTimeoutMs` bounds connecting; `invokeTimeoutMs` bounds each call as a whole,
//!   response included (the SDK sets no such limit by default). It is an operation (attempt)
//!   timeout rather than a socket read timeout, so a slow function is reported as `Timeout`
//!   whatever phase it stalls in, and the two can never race to different error codes.
//! - `endpointUrl` applies to Lambda only. Without it the SDK's standard resolution applies:
//!   `AWS_ENDPOINT_URL_LAMBDA`, then `AWS_ENDPOINT_URL`, then the profile's `endpoint_url`.
//!   STS (for `roleArn`) resolves its endpoint the standard way (`AWS_ENDPOINT_URL_STS`, …).
//! - A missing region is reported before any call as [`LambdaError::MissingRegion`].

use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::profile::ProfileFileCredentialsProvider;
use aws_config::provider_config::ProviderConfig;
use aws_config::retry::RetryConfig;
use aws_config::sts::AssumeRoleProvider;
use aws_config::timeout::TimeoutConfig;
use aws_credential_types::Credentials;
use aws_runtime::env_config::file::EnvConfigFiles;
use aws_sdk_lambda::Client;
use aws_sdk_lambda::config::{Region, SharedHttpClient, SharedInterceptor};

use super::config::Connection;
use super::error::LambdaError;

/// Name of the STS session lambdaflow opens when it assumes a role.
pub const SESSION_NAME: &str = "lambdaflow";

/// Replacements for parts of the client that tests (and embedders) inject.
#[derive(Clone, Default)]
pub struct ClientOverrides {
    /// An HTTP client instead of the default HTTPS client (tests replay exact wire traffic).
    pub http_client: Option<SharedHttpClient>,
    /// Interceptors added to the Lambda client (tests mock operations with them).
    pub interceptors: Vec<SharedInterceptor>,
    /// Shared config and credentials files instead of `~/.aws/{config,credentials}`.
    pub profile_files: Option<EnvConfigFiles>,
}

impl std::fmt::Debug for ClientOverrides {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientOverrides")
            .field("http_client", &self.http_client.is_some())
            .field("interceptors", &self.interceptors.len())
            .field("profile_files", &self.profile_files.is_some())
            .finish()
    }
}

fn non_empty(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Builds a Lambda client for `connection`. Cheap (no network) unless a role is assumed, in
/// which case STS is only called when the first request needs credentials.
pub async fn build_client(
    connection: &Connection,
    overrides: &ClientOverrides,
) -> Result<Client, LambdaError> {
    let endpoint = non_empty(&connection.endpoint_url);
    if let Some(url) = endpoint
        && !(url.starts_with("http://") || url.starts_with("https://"))
    {
        return Err(LambdaError::Config {
            node: None,
            pointer: "/connection/endpointUrl".into(),
            message: "the endpoint URL must start with http:// or https://".into(),
        });
    }
    let invoke_timeout = Duration::from_millis(connection.invoke_timeout_ms.max(1));
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(Duration::from_millis(connection.connect_timeout_ms.max(1)))
        .operation_attempt_timeout(invoke_timeout)
        .operation_timeout(invoke_timeout)
        .build();
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(RetryConfig::disabled())
        .timeout_config(timeouts);
    if let Some(region) = non_empty(&connection.region) {
        loader = loader.region(Region::new(region.to_owned()));
    }
    if let Some(files) = &overrides.profile_files {
        loader = loader.profile_files(files.clone());
    }
    if let Some(profile) = non_empty(&connection.profile) {
        loader = loader.profile_name(profile);
    }
    if let (Some(key), Some(secret)) = (
        non_empty(&connection.access_key),
        non_empty(&connection.secret_key),
    ) {
        loader = loader.credentials_provider(Credentials::new(
            key,
            secret,
            non_empty(&connection.session_token).map(str::to_owned),
            None,
            "lambdaflow-static",
        ));
    } else if let Some(profile) = non_empty(&connection.profile) {
        // A named profile's credentials win over the environment's: the default chain would
        // look at AWS_ACCESS_KEY_ID first.
        let mut provider_config = ProviderConfig::default()
            .with_region(non_empty(&connection.region).map(|r| Region::new(r.to_owned())));
        if let Some(http) = &overrides.http_client {
            provider_config = provider_config.with_http_client(http.clone());
        }
        let mut provider = ProfileFileCredentialsProvider::builder()
            .configure(&provider_config)
            .profile_name(profile);
        if let Some(files) = &overrides.profile_files {
            provider = provider.profile_files(files.clone());
        }
        loader = loader.credentials_provider(provider.build());
    }
    if let Some(http) = &overrides.http_client {
        loader = loader.http_client(http.clone());
    }
    let sdk = loader.load().await;
    if sdk.region().is_none() {
        return Err(LambdaError::MissingRegion { node: None });
    }
    let mut builder = aws_sdk_lambda::config::Builder::from(&sdk);
    if let Some(role) = non_empty(&connection.role_arn) {
        let mut assume = AssumeRoleProvider::builder(role)
            .session_name(SESSION_NAME)
            .configure(&sdk);
        if let Some(external_id) = non_empty(&connection.external_id) {
            assume = assume.external_id(external_id);
        }
        builder = builder.credentials_provider(assume.build().await);
    }
    if let Some(url) = endpoint {
        builder = builder.endpoint_url(url);
    }
    for interceptor in &overrides.interceptors {
        builder.push_interceptor(interceptor.clone());
    }
    Ok(Client::from_conf(builder.build()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_runtime::env_config::file::EnvConfigFileKind;
    use aws_sdk_lambda::config::http::HttpRequest;
    use aws_sdk_lambda::primitives::{Blob, SdkBody};
    use aws_smithy_http_client::test_util::{ReplayEvent, StaticReplayClient};

    fn ok_event() -> ReplayEvent {
        ReplayEvent::new(
            http::Request::builder()
                .uri("http://lambda.test/2015-03-31/functions/hello/invocations")
                .body(SdkBody::empty())
                .unwrap(),
            http::Response::builder()
                .status(200)
                .header("x-amzn-requestid", "req-1")
                .body(SdkBody::from("{}"))
                .unwrap(),
        )
    }

    fn header(req: &HttpRequest, name: &str) -> String {
        req.headers().get(name).unwrap_or_default().to_owned()
    }

    async fn invoke(client: &Client) {
        client
            .invoke()
            .function_name("hello")
            .payload(Blob::new("{}"))
            .send()
            .await
            .expect("invoke succeeds");
    }

    fn overrides(replay: &StaticReplayClient) -> ClientOverrides {
        ClientOverrides {
            http_client: Some(SharedHttpClient::new(replay.clone())),
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn static_keys_region_and_endpoint_are_used() {
        let replay = StaticReplayClient::new(vec![ok_event()]);
        let conn = Connection {
            region: Some("eu-west-3".into()),
            access_key: Some("AKIDSTATIC".into()),
            secret_key: Some("static-secret".into()),
            session_token: Some("static-token".into()),
            endpoint_url: Some("http://lambda.test".into()),
            ..Connection::default()
        };
        let client = build_client(&conn, &overrides(&replay)).await.unwrap();
        invoke(&client).await;
        let reqs = replay.actual_requests().collect::<Vec<_>>();
        assert_eq!(reqs.len(), 1);
        let req = reqs[0];
        assert!(
            req.uri()
                .starts_with("http://lambda.test/2015-03-31/functions/hello/invocations")
        );
        let auth = header(req, "authorization");
        assert!(auth.contains("Credential=AKIDSTATIC/"), "{auth}");
        assert!(auth.contains("/eu-west-3/lambda/aws4_request"), "{auth}");
        assert_eq!(header(req, "x-amz-security-token"), "static-token");
    }

    #[tokio::test]
    async fn profile_gives_credentials_and_region() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config");
        let creds = dir.path().join("credentials");
        std::fs::write(&config, "[profile demo]\nregion = ap-south-1\n").unwrap();
        std::fs::write(
            &creds,
            "[demo]\naws_access_key_id = AKIDPROFILE\naws_secret_access_key = profile-secret\n",
        )
        .unwrap();
        let files = EnvConfigFiles::builder()
            .with_file(EnvConfigFileKind::Config, &config)
            .with_file(EnvConfigFileKind::Credentials, &creds)
            .build();
        let replay = StaticReplayClient::new(vec![ok_event()]);
        let conn = Connection {
            profile: Some("demo".into()),
            endpoint_url: Some("http://lambda.test".into()),
            ..Connection::default()
        };
        let o = ClientOverrides {
            profile_files: Some(files),
            ..overrides(&replay)
        };
        let client = build_client(&conn, &o).await.unwrap();
        invoke(&client).await;
        let auth = header(replay.actual_requests().next().unwrap(), "authorization");
        assert!(auth.contains("Credential=AKIDPROFILE/"), "{auth}");
        assert!(auth.contains("/ap-south-1/lambda/"), "{auth}");
    }

    #[tokio::test]
    async fn role_is_assumed_through_sts_with_the_external_id() {
        let sts_response = r#"<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleResult>
    <AssumedRoleUser>
      <AssumedRoleId>AROA123:lambdaflow</AssumedRoleId>
      <Arn>arn:aws:sts::123456789012:assumed-role/invoker/lambdaflow</Arn>
    </AssumedRoleUser>
    <Credentials>
      <AccessKeyId>ASIAASSUMED</AccessKeyId>
      <SecretAccessKey>assumed-secret</SecretAccessKey>
      <SessionToken>assumed-token</SessionToken>
      <Expiration>2099-01-01T00:00:00Z</Expiration>
    </Credentials>
  </AssumeRoleResult>
  <ResponseMetadata><RequestId>sts-req</RequestId></ResponseMetadata>
</AssumeRoleResponse>"#;
        let sts = ReplayEvent::new(
            http::Request::builder()
                .uri("https://sts.us-east-1.amazonaws.com/")
                .body(SdkBody::empty())
                .unwrap(),
            http::Response::builder()
                .status(200)
                .body(SdkBody::from(sts_response))
                .unwrap(),
        );
        let replay = StaticReplayClient::new(vec![sts, ok_event()]);
        let conn = Connection {
            region: Some("us-east-1".into()),
            access_key: Some("AKIDBASE".into()),
            secret_key: Some("base-secret".into()),
            role_arn: Some("arn:aws:iam::123456789012:role/invoker".into()),
            external_id: Some("ext-42".into()),
            endpoint_url: Some("http://lambda.test".into()),
            ..Connection::default()
        };
        let client = build_client(&conn, &overrides(&replay)).await.unwrap();
        invoke(&client).await;
        let reqs = replay.actual_requests().collect::<Vec<_>>();
        assert_eq!(reqs.len(), 2, "one STS call, then the invocation");
        let sts_body = std::str::from_utf8(reqs[0].body().bytes().unwrap()).unwrap();
        assert!(sts_body.contains("Action=AssumeRole"), "{sts_body}");
        assert!(
            sts_body.contains("RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Finvoker"),
            "{sts_body}"
        );
        assert!(sts_body.contains("ExternalId=ext-42"), "{sts_body}");
        assert!(
            sts_body.contains("RoleSessionName=lambdaflow"),
            "{sts_body}"
        );
        assert!(header(reqs[0], "authorization").contains("Credential=AKIDBASE/"));
        let auth = header(reqs[1], "authorization");
        assert!(auth.contains("Credential=ASIAASSUMED/"), "{auth}");
        assert_eq!(header(reqs[1], "x-amz-security-token"), "assumed-token");
    }

    #[tokio::test]
    async fn bad_endpoint_url_is_a_config_error() {
        let conn = Connection {
            region: Some("us-east-1".into()),
            endpoint_url: Some("localhost:9000".into()),
            ..Connection::default()
        };
        let e = build_client(&conn, &ClientOverrides::default())
            .await
            .unwrap_err();
        assert!(
            matches!(&e, LambdaError::Config { pointer, .. } if pointer == "/connection/endpointUrl"),
            "{e:?}"
        );
    }
}
