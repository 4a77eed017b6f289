//! Lambda entry point of the `fail` demo function; see [`lambdaflow_functions::fail`].

use lambda_runtime::{Error, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    run(service_fn(lambdaflow_functions::fail::handler)).await
}
