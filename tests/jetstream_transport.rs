//! The JetStream edge transport against a real `nats-server -js` (design §10): work-queue
//! sharing between workers, redelivery of what a dead worker held, deduplicated publishes,
//! per-key order on keyed edges, dead letters for poison, push-back from a full stream, source
//! leases that fail over, deployments in a key-value bucket, and a server restart that loses
//! nothing.

#[allow(unused_imports)]
mod support;

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use lambdaflow::Message;
use lambdaflow::runtime::transport::jetstream::{
    self as js, Bus, BusOptions, Delivery, EdgeConsumer, EdgeRef, Lease, deploy, lease,
};
use serde_json::{Value, json};
use support::nats::NatsServer;

const WAIT: Duration = support::PATIENCE;

fn edge(id: &str) -> EdgeRef {
    EdgeRef {
        id: id.into(),
        partition_key: None,
    }
}

fn numbered(n: u64) -> Message {
    Message::new(format!("{{\"n\":{n}}}")).with_property("n", n)
}

fn n_of(m: &Message) -> u64 {
    m.properties["n"].as_u64().unwrap()
}

async fn bus(server: &NatsServer, flow: &str, options: BusOptions) -> Bus {
    let client = js::connect(&server.url()).await.expect("connect");
    Bus::open(client, flow, options)
        .await
        .expect("open the flow's streams")
}

async fn next(consumer: &mut EdgeConsumer) -> Delivery {
    tokio::time::timeout(WAIT, consumer.next())
        .await
        .expect("a delivery within the deadline")
        .expect("the consumer is open")
        .expect("a delivery")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_share_an_edge_and_what_a_dead_worker_held_is_delivered_again() {
    let server = NatsServer::start();
    let options = BusOptions {
        ack_wait: Duration::from_secs(1),
        ..BusOptions::default()
    };
    let publisher = bus(&server, "share", options.clone()).await;
    for n in 0..50 {
        assert!(!publisher.publish(&edge("e1"), &numbered(n)).await.unwrap());
    }
    // Worker A takes one message and dies without acknowledging it.
    let a = bus(&server, "share", options.clone()).await;
    let mut a_in = a.consume(&edge("e1"), 1).await.unwrap();
    let held = next(&mut a_in).await;
    assert_eq!(held.delivered, 1);
    let held_n = n_of(&held.message);
    drop(a_in);
    drop(a);
    // Worker B gets every message once, the dead worker's one again (a second delivery).
    let b = bus(&server, "share", options).await;
    let mut b_in = b.consume(&edge("e1"), 8).await.unwrap();
    let mut seen = BTreeMap::new();
    while seen.len() < 50 {
        let d = next(&mut b_in).await;
        assert!(
            seen.insert(n_of(&d.message), d.delivered).is_none(),
            "an acknowledged message came again"
        );
        d.ack().await.unwrap();
    }
    assert_eq!(
        seen.keys().copied().collect::<Vec<_>>(),
        (0..50).collect::<Vec<_>>()
    );
    assert_eq!(
        seen[&held_n], 2,
        "the dead worker's message, delivered again"
    );
    assert_eq!(seen.values().filter(|&&d| d > 1).count(), 1);
    support::wait_until_async(|| async { b.pending().await.unwrap() == 0 }).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_republished_message_is_dropped_as_a_duplicate_and_a_nak_redelivers() {
    let server = NatsServer::start();
    let b = bus(&server, "dedup", BusOptions::default()).await;
    let m = numbered(7);
    assert!(!b.publish(&edge("e1"), &m).await.unwrap());
    assert!(
        b.publish(&edge("e1"), &m).await.unwrap(),
        "same id, same edge"
    );
    assert!(
        !b.publish(&edge("e2"), &m).await.unwrap(),
        "the same message on another edge is another delivery"
    );
    let mut input = b.consume(&edge("e1"), 4).await.unwrap();
    let first = next(&mut input).await;
    assert_eq!(first.message.id, m.id, "the message id travels with it");
    first.nak(Some(Duration::from_millis(50))).await.unwrap();
    let again = next(&mut input).await;
    assert_eq!(
        (again.message.id.as_str(), again.delivered),
        (m.id.as_str(), 2)
    );
    again.ack().await.unwrap();
    // Only e2's copy is left in the stream.
    support::wait_until_async(|| async { b.pending().await.unwrap() == 1 }).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyed_edges_keep_per_key_order_across_two_workers() {
    let server = NatsServer::start();
    let keyed = EdgeRef {
        id: "orders".into(),
        partition_key: Some("customer".into()),
    };
    let publisher = bus(&server, "keyed", BusOptions::default()).await;
    let keys = ["alice", "bob", "carol", "dave"];
    for n in 0..200u64 {
        let m = numbered(n).with_property("customer", keys[(n % 4) as usize]);
        publisher.publish(&keyed, &m).await.unwrap();
    }
    // Two workers take turns as they like; each handles a message slowly half of the time.
    let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::<(String, u64)>::new()));
    let mut workers = Vec::new();
    for w in 0..2u64 {
        let b = bus(&server, "keyed", BusOptions::default()).await;
        let (keyed, log) = (keyed.clone(), log.clone());
        workers.push(tokio::spawn(async move {
            let mut input = b.consume(&keyed, 8).await.unwrap();
            loop {
                let Ok(Some(d)) = tokio::time::timeout(Duration::from_secs(2), input.next()).await
                else {
                    return;
                };
                let d = d.unwrap();
                if (n_of(&d.message) + w).is_multiple_of(2) {
                    tokio::task::yield_now().await;
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
                let key = d.message.properties["customer"]
                    .as_str()
                    .unwrap()
                    .to_owned();
                log.lock().unwrap().push((key, n_of(&d.message)));
                d.ack().await.unwrap();
            }
        }));
    }
    support::wait_until_async(|| async { log.lock().unwrap().len() == 200 }).await;
    let log = log.lock().unwrap().clone();
    for key in keys {
        let order: Vec<u64> = log
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, n)| *n)
            .collect();
        let mut sorted = order.clone();
        sorted.sort_unstable();
        assert_eq!(order, sorted, "messages of {key} handled out of order");
        assert_eq!(order.len(), 50);
    }
    for w in workers {
        w.await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poison_goes_to_the_dead_letters_with_a_record_never_round_and_round() {
    let server = NatsServer::start();
    let options = BusOptions {
        poison_after: 2,
        ..BusOptions::default()
    };
    let b = bus(&server, "poison", options).await;
    // Not a lambdaflow message at all.
    let context = b.context().clone();
    context
        .publish("lf.poison.e1", "not json".into())
        .await
        .unwrap()
        .await
        .unwrap();
    // A message that no worker can finish: naked on every delivery.
    let stuck = numbered(1);
    b.publish(&edge("e1"), &stuck).await.unwrap();
    let healthy = numbered(2);
    b.publish(&edge("e1"), &healthy).await.unwrap();

    let mut dead = b
        .client()
        .subscribe("lfdlq.poison.e1")
        .await
        .expect("subscribe to the dead letters");
    // A worker that naks the stuck message and handles the rest, until stopped.
    let handled = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let worker = {
        let (b, handled) = (b.clone(), handled.clone());
        tokio::spawn(async move {
            let mut input = b.consume(&edge("e1"), 4).await.unwrap();
            while let Some(d) = input.next().await {
                let d = d.unwrap();
                let n = n_of(&d.message);
                if n == 1 {
                    d.nak(None).await.unwrap();
                } else {
                    handled.lock().unwrap().push(n);
                    d.ack().await.unwrap();
                }
            }
        })
    };
    let mut records = Vec::new();
    while records.len() < 2 {
        let m = tokio::time::timeout(WAIT, futures::StreamExt::next(&mut dead))
            .await
            .expect("a dead letter within the deadline")
            .unwrap();
        records.push(serde_json::from_slice::<Value>(&m.payload).unwrap());
    }
    records.sort_by_key(|r| r["deliveries"].as_i64());
    assert_eq!(records[0]["condition"], "Poison");
    assert_eq!(records[0]["payload"], json!({"text": "not json"}));
    assert_eq!(records[0]["edge"], "e1");
    assert_eq!(records[1]["deliveries"], 3, "poison after two deliveries");
    let payload: Value =
        serde_json::from_str(records[1]["payload"]["text"].as_str().unwrap()).unwrap();
    assert_eq!(payload["id"], stuck.id.as_str());
    support::wait_until_async(|| async { b.pending().await.unwrap() == 0 }).await;
    worker.abort();
    assert_eq!(
        *handled.lock().unwrap(),
        vec![2],
        "the healthy message went through, once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_stream_pushes_the_publisher_back_instead_of_dropping() {
    let server = NatsServer::start();
    let options = BusOptions {
        max_messages: 3,
        ..BusOptions::default()
    };
    let b = bus(&server, "full", options).await;
    for n in 0..3 {
        b.publish(&edge("e1"), &numbered(n)).await.unwrap();
    }
    let publisher = {
        let b = b.clone();
        tokio::spawn(async move { b.publish(&edge("e1"), &numbered(3)).await })
    };
    // Held back while the stream is full …
    assert!(
        tokio::time::timeout(Duration::from_millis(300), async {
            while !publisher.is_finished() {
                tokio::task::yield_now().await;
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await
        .is_err(),
        "a publish into a full stream must wait"
    );
    // … and through once a consumer made room; nothing was dropped.
    let mut input = b.consume(&edge("e1"), 1).await.unwrap();
    let mut seen = Vec::new();
    while seen.len() < 4 {
        let d = next(&mut input).await;
        seen.push(n_of(&d.message));
        d.ack().await.unwrap();
    }
    assert_eq!(seen, vec![0, 1, 2, 3]);
    assert!(!publisher.await.unwrap().unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_source_lease_is_held_by_one_worker_and_fails_over_when_it_dies() {
    let server = NatsServer::start();
    let client = js::connect(&server.url()).await.unwrap();
    let context = async_nats::jetstream::new(client);
    let store = lease::bucket(&context, Duration::from_secs(2))
        .await
        .unwrap();
    let mut held = Lease::try_acquire(&store, "f", "feeder1", "worker-a")
        .await
        .unwrap()
        .expect("free at first");
    held.renew().await.unwrap();
    assert!(
        Lease::try_acquire(&store, "f", "feeder1", "worker-b")
            .await
            .unwrap()
            .is_none(),
        "one holder at a time"
    );
    assert_eq!(
        Lease::holder(&store, "f", "feeder1")
            .await
            .unwrap()
            .as_deref(),
        Some("worker-a")
    );
    // Worker A dies (stops renewing): B takes over once the lease expires.
    drop(held);
    let taken = tokio::time::timeout(
        WAIT,
        Lease::acquire(
            &store,
            "f",
            "feeder1",
            "worker-b",
            Duration::from_millis(100),
        ),
    )
    .await
    .expect("failed over within the deadline")
    .unwrap();
    assert_eq!(
        Lease::holder(&store, "f", "feeder1")
            .await
            .unwrap()
            .as_deref(),
        Some("worker-b")
    );
    // A clean stop hands the lease over at once.
    taken.release().await;
    assert!(
        Lease::try_acquire(&store, "f", "feeder1", "worker-c")
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deployments_are_revisioned_and_workers_see_the_next_one() {
    let server = NatsServer::start();
    let client = js::connect(&server.url()).await.unwrap();
    let context = async_nats::jetstream::new(client);
    let flows = deploy::Deployments::open(&context).await.unwrap();
    let r1 = flows
        .deploy("demo", &json!({"id": "demo", "v": 1}))
        .await
        .unwrap();
    assert_eq!(flows.get("demo").await.unwrap().unwrap().1["v"], 1);
    let watcher = {
        let flows = flows.clone();
        tokio::spawn(async move { flows.next_after("demo", r1).await })
    };
    let r2 = flows
        .deploy("demo", &json!({"id": "demo", "v": 2}))
        .await
        .unwrap();
    assert!(r2 > r1);
    let (rev, flow) = tokio::time::timeout(WAIT, watcher)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!((rev, flow["v"].as_u64()), (r2, Some(2)));

    let reports = deploy::WorkerReports::open(&context, Duration::from_secs(30))
        .await
        .unwrap();
    reports
        .report("demo", "w2", &json!({"received": 3}))
        .await
        .unwrap();
    reports
        .report("demo", "w1", &json!({"received": 5}))
        .await
        .unwrap();
    reports.report("other", "w9", &json!({})).await.unwrap();
    let live = reports.of_flow("demo").await.unwrap();
    assert_eq!(
        live.iter().map(|(w, _)| w.as_str()).collect::<Vec<_>>(),
        vec!["w1", "w2"]
    );
    reports.withdraw("demo", "w1").await;
    assert_eq!(reports.of_flow("demo").await.unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_restart_loses_nothing_that_was_published() {
    let mut server = NatsServer::start();
    {
        let b = bus(&server, "durable", BusOptions::default()).await;
        for n in 0..100 {
            b.publish(&edge("e1"), &numbered(n)).await.unwrap();
        }
    }
    server.restart();
    let b = bus(&server, "durable", BusOptions::default()).await;
    let mut input = b.consume(&edge("e1"), 16).await.unwrap();
    let mut seen = HashSet::new();
    while seen.len() < 100 {
        let d = next(&mut input).await;
        seen.insert(n_of(&d.message));
        d.ack().await.unwrap();
    }
    assert_eq!(seen, (0..100).collect());
}
