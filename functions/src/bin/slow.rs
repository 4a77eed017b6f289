//! Lambda entry point of the `slow` demo function; see [`lambdaflow_functions::slow`].

use lambda_runtime::{Error, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    run(service_fn(lambdaflow_functions::slow::handler)).await
}
