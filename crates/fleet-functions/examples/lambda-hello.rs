//! The cold-start baseline of `fleet-bench`: the smallest `lambda_runtime` function (it answers
//! every event with itself), built exactly as the function binaries are (same crate, same release
//! profile, same dependency features, same single-threaded Tokio runtime, so that the functions' choice
//! of runtime does not flatter their ratio). Not deployed: it is an example, not a binary.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| async move {
        Ok::<Value, Error>(event.payload)
    }))
    .await
}
