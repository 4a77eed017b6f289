//! Lambda entry point of the `hello` demo function; see [`lambdaflow_functions::hello`].

use lambda_runtime::{Error, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    run(service_fn(lambdaflow_functions::hello::handler)).await
}
