//! Lambda entry point of the `uppercase` demo function; see [`lambdaflow_functions::uppercase`].

use lambda_runtime::{Error, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    run(service_fn(lambdaflow_functions::uppercase::handler)).await
}
