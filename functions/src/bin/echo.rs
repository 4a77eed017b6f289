//! Lambda entry point of the `echo` demo function; see [`lambdaflow_functions::echo`].

use lambda_runtime::{Error, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    run(service_fn(lambdaflow_functions::echo::handler)).await
}
