//! Retrying on the wire: reads and idempotent writes are sent again on 429/5xx (honouring
//! `Retry-After`), creates never once they may have run, and the attempt limit holds.

use std::time::{Duration, Instant};

use crate::support::*;
use clarus_client::retry::RetryPolicy;
use clarus_client::{ClarusClient, ClarusId, Error};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const QUERY: &str = "query { goodsOuts { all(first: 1) { edges { node { id } } } } }";

/// A client that retries quickly when the server asks for no particular wait.
fn quick_client(server: &MockServer, max_attempts: u32) -> ClarusClient {
    let policy = RetryPolicy {
        max_attempts,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
        max_retry_after: Duration::from_secs(5),
    };
    ClarusClient::new(config(server).retry_policy(policy).build().unwrap()).unwrap()
}

async fn mount_once(server: &MockServer, verb: &str, route: &str, response: ResponseTemplate) {
    Mock::given(method(verb))
        .and(path(route))
        .respond_with(response)
        .up_to_n_times(1)
        .with_priority(1)
        .mount(server)
        .await;
}

async fn mount(server: &MockServer, verb: &str, route: &str, response: ResponseTemplate) {
    Mock::given(method(verb))
        .and(path(route))
        .respond_with(response)
        .with_priority(2)
        .mount(server)
        .await;
}

/// A server whose GraphQL endpoint always answers `response`.
async fn graphql_answering(response: ResponseTemplate) -> MockServer {
    let server = server().await;
    mount(&server, "POST", "/graphql", response).await;
    server
}

/// Deletes product 5 with a client making up to four attempts.
async fn delete_product_5(server: &MockServer) -> Result<(), Error> {
    quick_client(server, 4)
        .delete_product(ClarusId::new(5))
        .await
}

/// The error `client` gets for [`QUERY`].
async fn query_error(client: &ClarusClient) -> Error {
    client
        .graphql_query(QUERY, serde_json::Value::Null)
        .await
        .unwrap_err()
}

#[tokio::test]
async fn a_read_answered_429_with_retry_after_succeeds_after_one_retry() {
    let server = server().await;
    mount_once(
        &server,
        "POST",
        "/graphql",
        ResponseTemplate::new(429)
            .insert_header("Retry-After", "1")
            .set_body_string("slow down"),
    )
    .await;
    mount(
        &server,
        "POST",
        "/graphql",
        ResponseTemplate::new(200).set_body_json(json!({"data": {"goodsOuts": null}})),
    )
    .await;
    let started = Instant::now();
    let data = client(&server)
        .graphql_query(QUERY, serde_json::Value::Null)
        .await
        .unwrap();
    assert_eq!(data, json!({"goodsOuts": null}));
    let requests = api_requests(&server).await;
    assert_eq!(requests.len(), 2, "one retry");
    requests.iter().for_each(assert_standard_headers);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After: 1 was honoured ({:?})",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_create_answered_503_is_not_retried_and_comes_back_classified() {
    let server = server().await;
    mount(
        &server,
        "POST",
        "/api/products",
        ResponseTemplate::new(503)
            .insert_header("Retry-After", "0")
            .set_body_string("upstream down"),
    )
    .await;
    let product = clarus_client::rest::products::Product::new("Mug", ClarusId::new(1));
    let err = quick_client(&server, 4)
        .create_product(&product)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(503));
    assert!(err.is_transient());
    assert!(!err.is_connect_failure());
    assert!(!err.is_rate_limited());
    assert_eq!(err.raw_body(), Some("upstream down"));
    assert_eq!(
        api_requests(&server).await.len(),
        1,
        "creates are not resent"
    );
}

#[tokio::test]
async fn a_create_answered_429_did_not_run_and_is_sent_again() {
    let server = server().await;
    mount_once(&server, "POST", "/api/products", ResponseTemplate::new(429)).await;
    mount(
        &server,
        "POST",
        "/api/products",
        data_response(77, "products"),
    )
    .await;
    let product = clarus_client::rest::products::Product::new("Mug", ClarusId::new(1));
    let record = quick_client(&server, 4)
        .create_product(&product)
        .await
        .unwrap();
    assert_eq!(record.id, ClarusId::new(77));
    assert_eq!(api_requests(&server).await.len(), 2);
}

#[tokio::test]
async fn a_read_failing_every_time_stops_at_the_attempt_limit() {
    let server = graphql_answering(ResponseTemplate::new(502).set_body_string("bad gateway")).await;
    let err = query_error(&quick_client(&server, 3)).await;
    assert!(matches!(err, Error::UnexpectedStatus { status: 502, .. }));
    assert!(err.is_transient());
    assert_eq!(api_requests(&server).await.len(), 3);
}

#[tokio::test]
async fn max_attempts_of_one_turns_retrying_off() {
    let server = graphql_answering(ResponseTemplate::new(503)).await;
    let client = ClarusClient::new(config(&server).max_attempts(1).build().unwrap()).unwrap();
    let err = query_error(&client).await;
    assert_eq!(err.status(), Some(503));
    assert_eq!(api_requests(&server).await.len(), 1);
}

#[tokio::test]
async fn a_retry_after_beyond_the_limit_is_returned_to_the_caller() {
    let server =
        graphql_answering(ResponseTemplate::new(429).insert_header("Retry-After", "120")).await;
    let err = query_error(&quick_client(&server, 4)).await;
    assert!(err.is_rate_limited());
    assert_eq!(api_requests(&server).await.len(), 1);
}

#[tokio::test]
async fn a_delete_is_idempotent_and_retried() {
    let server = server().await;
    mount_once(
        &server,
        "DELETE",
        "/api/products/5",
        ResponseTemplate::new(500),
    )
    .await;
    mount(
        &server,
        "DELETE",
        "/api/products/5",
        ResponseTemplate::new(204),
    )
    .await;
    delete_product_5(&server).await.unwrap();
    assert_eq!(api_requests(&server).await.len(), 2);
}

#[tokio::test]
async fn a_graphql_mutation_is_not_repeated() {
    let server = graphql_answering(ResponseTemplate::new(500)).await;
    let err = quick_client(&server, 4)
        .graphql_query("mutation { touch { id } }", serde_json::Value::Null)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(500));
    assert_eq!(api_requests(&server).await.len(), 1);
}

#[tokio::test]
async fn refused_requests_are_not_retried() {
    let server = server().await;
    mount(
        &server,
        "DELETE",
        "/api/products/5",
        ResponseTemplate::new(404).set_body_json(
            json!({"errors":[{"code":1,"symbol":"not_found","details":"Product not found"}]}),
        ),
    )
    .await;
    let err = delete_product_5(&server).await.unwrap_err();
    assert!(err.is_not_found());
    assert!(!err.is_transient());
    assert_eq!(api_requests(&server).await.len(), 1);
}
