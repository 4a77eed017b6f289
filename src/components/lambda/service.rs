//! The LambdaConnector as a driver [`Service`]: a payload per message or V2 batch, one Lambda
//! invocation per call, the reply judged, and each input message's outcome shaped.

use bytes::Bytes;
use serde_json::Value;

use std::borrow::Cow;

use super::batch::{self, Entry};
use super::call::{self, Call};
use super::config::{InvocationKind, LambdaConfig, OutputMode};
use super::error::LambdaError;
use super::invoke::{Invoker, Reply};
use super::mapping;
use super::payload::{BatchPosition, Success, out_message, request_payload, too_large};
use super::stream;
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
        /// Its own call settings (forwarded properties, route), if any.
        call: Option<Call>,
    },
    /// A V2 batch and its JSON-array payload.
    Batch {
        /// Its messages, in input order.
        entries: Vec<Entry>,
        /// Records in the payload.
        records: usize,
        /// What is sent.
        payload: Bytes,
        /// The batch's call settings (its records' shared route), if any.
        call: Option<Call>,
    },
}

impl Request {
    fn payload(&self) -> &Bytes {
        match self {
            Request::Message { payload, .. } | Request::Batch { payload, .. } => payload,
        }
    }

    fn call(&self) -> Option<Call> {
        match self {
            Request::Message { call, .. } | Request::Batch { call, .. } => call.clone(),
        }
    }
}

/// What one call answered: a buffered `Invoke` reply, or a response stream read to its end.
#[derive(Debug)]
pub enum Answer {
    /// `Invoke`.
    Buffered(Reply),
    /// `InvokeWithResponseStream` (`invocationType: ResponseStream`).
    Streamed(stream::Reply),
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

    /// The invoker of a request that was built (build refuses every unit when there is none),
    /// with the request's own call settings.
    fn invoker(&self, request: &Request) -> Cow<'_, Invoker> {
        match &self.invoker {
            Ok(invoker) => invoker.with_call(request.call()),
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
        let built = payload
            .and_then(|p| config.check_merge(&input).map(|()| p))
            .and_then(|p| Ok((p, call::for_message(config, &input)?)));
        match built {
            Ok((payload, call)) => Ok(Request::Message {
                input,
                payload,
                call,
            }),
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
        let call = batch::call(&entries);
        Ok(Request::Batch {
            entries,
            records,
            payload,
            call,
        })
    }

    /// Each batch message's outcome, in input order.
    fn finish_batch(
        &self,
        invoker: &Invoker,
        entries: Vec<Entry>,
        records: usize,
        result: Result<Success, FinalFailure>,
    ) -> Vec<Outcome> {
        let batch_id = crate::message::new_id();
        // What each record gets from the response (`batch.responseMapping`), by its message id.
        let shares = match &result {
            Ok(ok) => mapping::shares(
                self.config.batch.response_mapping,
                ok,
                &batch::ids(&entries),
            ),
            Err(_) => Vec::new(),
        };
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
                    Ok(ok) => mapping::success(ok, &shares[position.index])
                        .and_then(|mine| {
                            out_message(
                                &entry.message,
                                &mine,
                                &self.config,
                                record,
                                Some(&position),
                            )
                        })
                        .map_err(|f| invoker.after_call(f, ok.attempts)),
                    Err(fin) => Err(fin.clone()),
                };
                let outcome = outcome.map_err(|mut fin| {
                    fin.failure = fin
                        .failure
                        .with_request_context("batchId", position.batch_id.clone())
                        .with_request_context("batchSize", position.size)
                        .with_request_context("batchIndex", position.index);
                    fin
                });
                (entry.message, outcome)
            })
            .collect()
    }
}

impl Service for LambdaService {
    type Unit = Unit;
    type Request = Request;
    type Reply = Answer;
    type Response = Success;

    fn build(&self, unit: Unit) -> Result<Request, Vec<Outcome>> {
        match unit {
            Unit::Message(input) => self.build_message(input),
            Unit::Batch(entries) => self.build_batch(entries),
        }
    }

    async fn call(&self, request: &Request, _attempt: u32) -> Answer {
        let invoker = self.invoker(request);
        match request {
            // Streaming never batches (`stream::check`).
            Request::Message { input, payload, .. }
                if self.config.invocation_type == InvocationKind::ResponseStream =>
            {
                let reader = stream::Reader {
                    invoker: &invoker,
                    config: &self.config,
                    emitter: &self.emitter,
                    input,
                };
                Answer::Streamed(reader.call(payload).await)
            }
            _ => Answer::Buffered(invoker.call(request.payload(), &self.emitter).await),
        }
    }

    fn classify(&self, request: &Request, reply: Answer, attempt: u32) -> Result<Success, Failure> {
        let invoker = self.invoker(request);
        match reply {
            Answer::Buffered(reply) => invoker.judge(reply, &self.emitter, attempt),
            Answer::Streamed(reply) => {
                stream::judge(&invoker, &self.config, reply, &self.emitter, attempt)
            }
        }
    }

    fn finish(&self, request: Request, result: Result<Success, FinalFailure>) -> Vec<Outcome> {
        let invoker = self.invoker(&request).into_owned();
        match request {
            Request::Message { input, payload, .. } => {
                let outcome = result.and_then(|ok| {
                    if let Some(streamed) = &ok.stream {
                        return stream::end_message(&input, &ok, streamed, &self.config)
                            .map_err(|f| invoker.after_call(f, ok.attempts));
                    }
                    // Only a success record shows the request payload.
                    let request_value = match self.config.output_mode {
                        OutputMode::Record => {
                            serde_json::from_slice(&payload).unwrap_or(Value::Null)
                        }
                        OutputMode::Payload | OutputMode::Merge => Value::Null,
                    };
                    out_message(&input, &ok, &self.config, request_value, None)
                        .map_err(|f| invoker.after_call(f, ok.attempts))
                });
                vec![(input, outcome)]
            }
            Request::Batch {
                entries, records, ..
            } => self.finish_batch(&invoker, entries, records, result),
        }
    }
}
