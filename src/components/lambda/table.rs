//! The classification table: every error code Lambda's `Invoke` can answer with, its HTTP
//! status, Fiorano error type and whether a retry can help. [`modelled`] maps each variant of
//! the SDK's `InvokeError` to its row (a variant without a row does not compile, and clippy's
//! `wildcard_enum_match_arm` fails when the SDK adds a variant); [`markdown`] renders the table
//! the README shows (a test keeps the two equal).

use aws_sdk_lambda::operation::invoke::InvokeError;

use crate::runtime::ErrorType;

/// One error code and how it is handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Row {
    /// The code (`x-amzn-ErrorType`, the error body's `Type`).
    pub code: &'static str,
    /// The HTTP status Lambda answers it with.
    pub status: u16,
    /// Fiorano's error type.
    pub error_type: ErrorType,
    /// Whether the same request can succeed later.
    pub retryable: bool,
    /// Why, in a few words (shown in the README).
    pub why: &'static str,
}

const fn row(
    code: &'static str,
    status: u16,
    error_type: ErrorType,
    retryable: bool,
    why: &'static str,
) -> Row {
    Row {
        code,
        status,
        error_type,
        retryable,
        why,
    }
}

use ErrorType::{Connection as C, InvalidRequest as IR, RequestProcessing as RP};

/// Every modelled `Invoke` error, then the codes other AWS front ends answer with (credential
/// and signature rejections), in the README's order.
#[rustfmt::skip]
pub const ROWS: &[Row] = &[
    row("InvalidParameterValueException", 400, IR, false, "the request is wrong"),
    row("InvalidRequestContentException", 400, IR, false, "the body is not JSON"),
    row("RequestTooLargeException", 413, IR, false, "payload over the limit"),
    row("SerializedRequestEntityTooLargeException", 413, IR, false, "payload over the limit"),
    row("UnsupportedMediaTypeException", 415, IR, false, "the request is wrong"),
    row("ModeNotSupportedException", 400, RP, false, "function does not allow this invocation type"),
    row("NoPublishedVersionException", 400, RP, false, "nothing published to invoke"),
    row("RecursiveInvocationException", 400, RP, false, "Lambda stopped a recursive loop"),
    row("SnapStartException", 400, RP, false, "the function's restore hook failed"),
    row("ServiceQuotaExceededException", 402, RP, false, "needs a quota increase"),
    row("EFSMountFailureException", 403, RP, false, "function configuration (file system permission)"),
    row("S3FilesMountFailureException", 403, RP, false, "function configuration (access point permission)"),
    row("ResourceNotFoundException", 404, RP, false, "no such function or qualifier"),
    row("EFSMountConnectivityException", 408, RP, true, "file system network, transient"),
    row("EFSMountTimeoutException", 408, RP, true, "file system mount timed out, transient"),
    row("S3FilesMountConnectivityException", 408, RP, true, "access point network, transient"),
    row("S3FilesMountTimeoutException", 408, RP, true, "access point mount timed out, transient"),
    row("SnapStartTimeoutException", 408, RP, true, "snapshot restore timed out, transient"),
    row("ResourceConflictException", 409, RP, true, "the function is being updated"),
    row("SnapStartNotReadyException", 409, RP, true, "the function is initialising"),
    row("SnapStartRegenerationFailureException", 409, RP, true, "Lambda retries the snapshot itself"),
    row("CodeArtifactUserPendingException", 409, RP, true, "being provisioned; try again"),
    row("CodeArtifactUserDeletedException", 409, RP, true, "Lambda provisions a new one"),
    row("CodeArtifactUserFailedException", 409, RP, false, "update the function's code package"),
    row("DurableExecutionAlreadyStartedException", 409, RP, false, "that execution name already ran"),
    row("EFSIOException", 410, RP, false, "the function's file I/O failed while it ran"),
    row("TooManyRequestsException", 429, RP, true, "throttled (`Reason` in `error.detail`)"),
    row("ServiceException", 500, RP, true, "Lambda's internal error"),
    row("EC2ThrottledException", 502, RP, true, "EC2 throttled Lambda"),
    row("EC2UnexpectedException", 502, RP, true, "EC2 hiccup"),
    row("ENINotReadyException", 502, RP, true, "VPC interface not ready yet"),
    row("ResourceNotReadyException", 502, RP, true, "VPC connection being re-established"),
    row("EC2AccessDeniedException", 502, RP, false, "function configuration (VPC permission)"),
    row("ENILimitReachedException", 502, RP, false, "VPC interface quota"),
    row("SubnetIPAddressLimitReachedException", 502, RP, false, "subnets out of addresses"),
    row("InvalidRuntimeException", 502, RP, false, "function configuration"),
    row("InvalidSecurityGroupIDException", 502, RP, false, "function configuration"),
    row("InvalidSubnetIDException", 502, RP, false, "function configuration"),
    row("InvalidZipFileException", 502, RP, false, "function configuration"),
    row("KMSAccessDeniedException", 502, RP, false, "function configuration (KMS)"),
    row("KMSDisabledException", 502, RP, false, "function configuration (KMS)"),
    row("KMSInvalidStateException", 502, RP, false, "function configuration (KMS)"),
    row("KMSNotFoundException", 502, RP, false, "function configuration (KMS)"),
    row("UnrecognizedClientException", 403, C, false, "credentials rejected"),
    row("InvalidSignatureException", 403, C, false, "credentials rejected"),
    row("IncompleteSignatureException", 403, C, false, "credentials rejected"),
    row("MissingAuthenticationTokenException", 403, C, false, "credentials rejected"),
    row("InvalidClientTokenId", 403, C, false, "credentials rejected"),
    row("SignatureDoesNotMatch", 403, C, false, "credentials rejected"),
    row("ExpiredTokenException", 403, C, false, "credentials expired"),
    row("ExpiredToken", 403, C, false, "credentials expired"),
    row("AccessDeniedException", 403, C, false, "not allowed to invoke"),
];

/// The row of `code`, if the table has one.
pub fn row_for_code(code: &str) -> Option<&'static Row> {
    ROWS.iter().find(|r| r.code == code)
}

/// The row of `code`, found at compile time (a missing row fails the build).
const fn must(code: &str) -> &'static Row {
    let mut i = 0;
    while i < ROWS.len() {
        if const_eq(ROWS[i].code, code) {
            return &ROWS[i];
        }
        i += 1;
    }
    panic!("an InvokeError variant has no row in the classification table")
}

const fn const_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// The row of a modelled `InvokeError` variant; `None` for codes the SDK does not model.
#[deny(clippy::wildcard_enum_match_arm)]
#[allow(deprecated)] // `Unhandled` is named so the match stays complete.
pub fn modelled(e: &InvokeError) -> Option<&'static Row> {
    use InvokeError as E;
    Some(match e {
        E::CodeArtifactUserDeletedException(_) => {
            const { must("CodeArtifactUserDeletedException") }
        }
        E::CodeArtifactUserFailedException(_) => const { must("CodeArtifactUserFailedException") },
        E::CodeArtifactUserPendingException(_) => {
            const { must("CodeArtifactUserPendingException") }
        }
        E::DurableExecutionAlreadyStartedException(_) => {
            const { must("DurableExecutionAlreadyStartedException") }
        }
        E::Ec2AccessDeniedException(_) => const { must("EC2AccessDeniedException") },
        E::Ec2ThrottledException(_) => const { must("EC2ThrottledException") },
        E::Ec2UnexpectedException(_) => const { must("EC2UnexpectedException") },
        E::EfsioException(_) => const { must("EFSIOException") },
        E::EfsMountConnectivityException(_) => const { must("EFSMountConnectivityException") },
        E::EfsMountFailureException(_) => const { must("EFSMountFailureException") },
        E::EfsMountTimeoutException(_) => const { must("EFSMountTimeoutException") },
        E::EniLimitReachedException(_) => const { must("ENILimitReachedException") },
        E::EniNotReadyException(_) => const { must("ENINotReadyException") },
        E::InvalidParameterValueException(_) => const { must("InvalidParameterValueException") },
        E::InvalidRequestContentException(_) => const { must("InvalidRequestContentException") },
        E::InvalidRuntimeException(_) => const { must("InvalidRuntimeException") },
        E::InvalidSecurityGroupIdException(_) => const { must("InvalidSecurityGroupIDException") },
        E::InvalidSubnetIdException(_) => const { must("InvalidSubnetIDException") },
        E::InvalidZipFileException(_) => const { must("InvalidZipFileException") },
        E::KmsAccessDeniedException(_) => const { must("KMSAccessDeniedException") },
        E::KmsDisabledException(_) => const { must("KMSDisabledException") },
        E::KmsInvalidStateException(_) => const { must("KMSInvalidStateException") },
        E::KmsNotFoundException(_) => const { must("KMSNotFoundException") },
        E::ModeNotSupportedException(_) => const { must("ModeNotSupportedException") },
        E::NoPublishedVersionException(_) => const { must("NoPublishedVersionException") },
        E::RecursiveInvocationException(_) => const { must("RecursiveInvocationException") },
        E::RequestTooLargeException(_) => const { must("RequestTooLargeException") },
        E::ResourceConflictException(_) => const { must("ResourceConflictException") },
        E::ResourceNotFoundException(_) => const { must("ResourceNotFoundException") },
        E::ResourceNotReadyException(_) => const { must("ResourceNotReadyException") },
        E::S3FilesMountConnectivityException(_) => {
            const { must("S3FilesMountConnectivityException") }
        }
        E::S3FilesMountFailureException(_) => const { must("S3FilesMountFailureException") },
        E::S3FilesMountTimeoutException(_) => const { must("S3FilesMountTimeoutException") },
        E::SerializedRequestEntityTooLargeException(_) => {
            const { must("SerializedRequestEntityTooLargeException") }
        }
        E::ServiceException(_) => const { must("ServiceException") },
        E::ServiceQuotaExceededException(_) => const { must("ServiceQuotaExceededException") },
        E::SnapStartException(_) => const { must("SnapStartException") },
        E::SnapStartNotReadyException(_) => const { must("SnapStartNotReadyException") },
        E::SnapStartRegenerationFailureException(_) => {
            const { must("SnapStartRegenerationFailureException") }
        }
        E::SnapStartTimeoutException(_) => const { must("SnapStartTimeoutException") },
        E::SubnetIpAddressLimitReachedException(_) => {
            const { must("SubnetIPAddressLimitReachedException") }
        }
        E::TooManyRequestsException(_) => const { must("TooManyRequestsException") },
        E::UnsupportedMediaTypeException(_) => const { must("UnsupportedMediaTypeException") },
        E::Unhandled(_) => return None,
        // `InvokeError` is non-exhaustive: only variants added after this list reach here, and
        // clippy's `wildcard_enum_match_arm` (denied above) reports them.
        _ => return None,
    })
}

/// Codes the table has no row for fall back on the status: 413/415 `invalidRequest`; 401/403
/// `connection`; 408/429 and 5xx retryable `requestProcessing`; other statuses final
/// `requestProcessing`.
pub fn by_status(status: u16) -> (ErrorType, bool) {
    match status {
        413 | 415 => (IR, false),
        401 | 403 => (C, false),
        408 | 429 => (RP, true),
        s if s >= 500 => (RP, true),
        _ => (RP, false),
    }
}

/// The README's table of error codes (between the `classification-table` markers).
pub fn markdown() -> String {
    let mut out =
        String::from("| code | HTTP | error type | retried by default |\n|---|---|---|---|\n");
    for r in ROWS {
        out.push_str(&format!(
            "| `{}` | {} | {} | {} ({}) |\n",
            r.code,
            r.status,
            r.error_type.as_str(),
            if r.retryable { "yes" } else { "no" },
            r.why
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique() {
        for (i, r) in ROWS.iter().enumerate() {
            assert!(
                ROWS[i + 1..].iter().all(|o| o.code != r.code),
                "{} twice",
                r.code
            );
        }
    }

    #[test]
    fn the_readme_shows_this_table() {
        let readme = include_str!("../../../README.md");
        let start = "<!-- classification-table:start -->\n";
        let end = "<!-- classification-table:end -->";
        let from = readme.find(start).expect("README has the table markers") + start.len();
        let to = readme[from..].find(end).expect("end marker") + from;
        assert_eq!(
            &readme[from..to],
            markdown(),
            "README's classification table is stale; paste table::markdown()"
        );
    }
}
