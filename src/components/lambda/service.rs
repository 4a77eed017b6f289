//! The LambdaConnector as a driver [`Service`]: a payload per message or V2 batch, one Lambda
//! invocation per call, the reply judged, and each input message's outcome shaped.

use bytes::Bytes;
use serde_json::Value;

use super::batch::{self, Entry};
use super::config::{LambdaConfig, OutputMode};
use super::error::LambdaError;
use super::invoke::{Invoker, Reply};
use super::payload::{BatchPosition, Success, out_message, request_payload, too_large};
use crate::message::Message;
use crate::runtime::driver::{Outcome, Service};
use crate::runtime::{Condition, Emitter, Failure, FinalFailure};

/// What one invocation carries.
#[derive(Debug)]
pub enum Unit {
    /// One message (`payloadFormat` message or s3).
    Message(Message),
    /// A V2 batch, in input order (entries without a record are refused, not sent).
    Batch(Vec<Entry>),
}

impl From<Message> for Unit {
    fn from(message: Message) -> Self {
        Unit::Message(message)
    }
}

/// A built invocation.
#[derive(Debug)]
pub enum Request {
    /// One message and its payload.
    Message {
        /// The input message.
        input: Message,
        /// What is sent.
        payload: Bytes,
    },
    /// A V2 batch and its JSON-array payload.
    Batch {
        /// Its messages, in input order.
        entries: Vec<Entry>,
        /// Records in the payload.
        records: usize,
        /// What is sent.
        payload: Bytes,
    },
}

impl Request {
    fn payload(&self) -> &Bytes {
        match self {
            Request::Message { payload, .. } | Request::Batch { payload, .. } => payload,
        }
    }
}

/// Builds, invokes and judges for one node.
pub struct LambdaService {
    config: LambdaConfig,
    /// The invoker, or why there is none (no region, bad endpoint…): then every unit is
    /// refused in [`Service::build`] and no call is made.
    invoker: Result<Invoker, LambdaError>,
    emitter: Emitter,
}

impl LambdaService {
    /// The service of a node with `config`, calling through `invoker`.
    pub fn new(
        config: LambdaConfig,
        invoker: Result<Invoker, LambdaError>,
        emitter: Emitter,
    ) -> Self {
        LambdaService {
            config,
            invoker,
            emitter,
        }
    }

    /// The invoker of a unit that was built (build refuses every unit when there is none).
    fn invoker(&self) -> &Invoker {
        match &self.invoker {
            Ok(invoker) => invoker,
            Err(_) => unreachable!("build refuses every unit without a client"),
        }
    }

    /// The final failure of a message refused before any call.
    fn refused(&self, failure: Failure) -> FinalFailure {
        match &self.invoker {
            Ok(invoker) => invoker.before_call(failure),
            Err(_) => FinalFailure {
                failure,
                attempts: 0,
                condition: Condition::Failure,
            },
        }
    }

    fn client_failure(&self, e: &LambdaError) -> FinalFailure {
        let failure = e
            .to_failure()
            .with_request_context("functionName", self.config.function_name.clone())
            .with_request_context(
                "invocationType",
                self.config.effective_invocation_type().as_str(),
            );
        FinalFailure {
            failure,
            attempts: 0,
            condition: Condition::Failure,
        }
    }

    fn build_message(&self, input: Message) -> Result<Request, Vec<Outcome>> {
        if let Err(e) = &self.invoker {
            return Err(vec![(input, Err(self.client_failure(e)))]);
        }
        let config = &self.config;
        let limit = config.request_limit();
        let payload = request_payload(&input, config.payload_is_json).and_then(|p| {
            if p.len() as u64 > limit {
                Err(too_large(
                    p.len(),
                    limit,
                    config.effective_invocation_type().as_str(),
                ))
            } else {
                Ok(p)
            }
        });
        match payload {
            Ok(payload) => Ok(Request::Message { input, payload }),
            Err(f) => Err(vec![(input, Err(self.refused(f)))]),
        }
    }

    fn build_batch(&self, entries: Vec<Entry>) -> Result<Request, Vec<Outcome>> {
        if let Err(e) = &self.invoker {
            let fin = self.client_failure(e);
            return Err(entries
                .into_iter()
                .map(|e| (e.message, Err(fin.clone())))
                .collect());
        }
        let records = entries.iter().filter(|e| e.record.is_ok()).count();
        if records == 0 {
            // Every message was refused before any call: nothing to send.
            return Err(entries
                .into_iter()
                .filter_map(|e| match e.record {
                    Err(f) => Some((e.message, Err(self.refused(f)))),
                    Ok(_) => None,
                })
                .collect());
        }
        let payload = batch::payload(&entries);
        Ok(Request::Batch {
            entries,
            records,
            payload,
        })
    }

    /// Each batch message's outcome, in input order.
    fn finish_batch(
        &self,
        entries: Vec<Entry>,
        records: usize,
        result: Result<Success, FinalFailure>,
    ) -> Vec<Outcome> {
        let batch_id = crate::message::new_id();
        let mut index = 0;
        entries
            .into_iter()
            .map(|entry| {
                let (record, _) = match entry.record {
                    Ok(r) => r,
                    Err(f) => return (entry.message, Err(self.refused(f))),
                };
                let position = BatchPosition {
                    batch_id: batch_id.clone(),
                    size: records,
                    index,
                };
                index += 1;
                let outcome = match &result {
                    Ok(ok) => Ok(out_message(
                        &entry.message,
                        ok,
                        self.config.output_mode,
                        record,
                        Some(&position),
                    )),
                    Err(fin) => {
                        let mut fin = fin.clone();
                        fin.failure = fin
                            .failure
                            .with_request_context("batchId", position.batch_id.clone())
                            .with_request_context("batchSize", position.size)
                            .with_request_context("batchIndex", position.index);
                        Err(fin)
                    }
                };
                (entry.message, outcome)
            })
            .collect()
    }
}

impl Service for LambdaService {
    type Unit = Unit;
    type Request = Request;
    type Reply = Reply;
    type Response = Success;

    fn build(&self, unit: Unit) -> Result<Request, Vec<Outcome>> {
        match unit {
            Unit::Message(input) => self.build_message(input),
            Unit::Batch(entries) => self.build_batch(entries),
        }
    }

    async fn call(&self, request: &Request, _attempt: u32) -> Reply {
        self.invoker().call(request.payload(), &self.emitter).await
    }

    fn classify(&self, _request: &Request, reply: Reply, attempt: u32) -> Result<Success, Failure> {
        self.invoker().judge(reply, &self.emitter, attempt)
    }

    fn finish(&self, request: Request, result: Result<Success, FinalFailure>) -> Vec<Outcome> {
        match request {
            Request::Message { input, payload } => {
                let outcome = result.map(|ok| {
                    // Only a success record shows the request payload.
                    let request_value = match self.config.output_mode {
                        OutputMode::Record => {
                            serde_json::from_slice(&payload).unwrap_or(Value::Null)
                        }
                        OutputMode::Payload => Value::Null,
                    };
                    out_message(&input, &ok, self.config.output_mode, request_value, None)
                });
                vec![(input, outcome)]
            }
            Request::Batch {
                entries, records, ..
            } => self.finish_batch(entries, records, result),
        }
    }
}
