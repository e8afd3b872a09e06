//! [`RowStream::fetch_all`](super::RowStream::fetch_all) against a mock SuiteQL endpoint.

use std::sync::Arc;

use futures_util::StreamExt;
use serde_json::json;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::{StreamOptions, Text};
use crate::NetSuiteClient;
use crate::auth::{AuthError, AuthScheme, Authenticator};
use crate::error::Error;

struct NoAuth;

#[async_trait::async_trait]
impl Authenticator for NoAuth {
    async fn authorize(&self, _request: &mut reqwest::Request) -> Result<(), AuthError> {
        Ok(())
    }

    fn scheme(&self) -> AuthScheme {
        AuthScheme::StaticBearer
    }
}

#[derive(Debug, serde::Deserialize, PartialEq)]
struct Row {
    id: Text,
    itemid: String,
}

/// Five rows in pages of two, `totalResults` saying `total`; `fail_at` answers that offset with
/// a 400 instead.
async fn server(fail_at: Option<u64>, total: u64) -> MockServer {
    let server = MockServer::start().await;
    for offset in [0u64, 2, 4] {
        let response = if fail_at == Some(offset) {
            ResponseTemplate::new(400).set_body_json(json!({
                "title": "Bad Request", "status": 400,
                "o:errorDetails": [{"detail": "Invalid search query.", "o:errorCode": "INVALID_PARAMETER"}]
            }))
        } else {
            let items: Vec<_> = (offset..(offset + 2).min(5))
                .map(|i| json!({"links": [], "id": (i + 1).to_string(), "itemid": format!("SKU-{}", i + 1)}))
                .collect();
            ResponseTemplate::new(200).set_body_json(json!({
                "links": [], "count": items.len(), "hasMore": offset + 2 < 5,
                "items": items, "offset": offset, "totalResults": total
            }))
        };
        Mock::given(method("POST"))
            .and(path("/services/rest/query/v1/suiteql"))
            .and(query_param("offset", offset.to_string()))
            .respond_with(response)
            .mount(&server)
            .await;
    }
    server
}

fn client(server: &MockServer) -> NetSuiteClient {
    NetSuiteClient::builder(Arc::new(NoAuth))
        .base_url(format!("{}/services/rest", server.uri()))
        .allow_insecure_http(true)
        .concurrency_limit(4)
        .build()
        .unwrap()
}

const OPTIONS: StreamOptions = StreamOptions {
    page_size: 2,
    prefetch: 2,
};

fn expected(from: u64) -> Vec<Row> {
    (from..5)
        .map(|i| Row {
            id: Text::from((i + 1).to_string()),
            itemid: format!("SKU-{}", i + 1),
        })
        .collect()
}

/// Every row of the five through `fetch_all`, from [`server`]`(fail_at, total)`.
async fn fetch_all(fail_at: Option<u64>, total: u64) -> Result<Vec<Row>, Error> {
    let server = server(fail_at, total).await;
    client(&server)
        .suiteql("SELECT id, itemid FROM item ORDER BY id", OPTIONS)
        .fetch_all()
        .await
}

#[tokio::test]
async fn fetch_all_keeps_every_row_in_order_in_a_vector_sized_from_total_results() {
    let rows = fetch_all(None, 5).await.unwrap();
    assert_eq!(rows, expected(0));
    // Reserved once for totalResults; growing page by page would have doubled 4 to 8.
    assert_eq!(rows.capacity(), 5);
}

#[tokio::test]
async fn fetch_all_after_reading_some_rows_returns_the_rest() {
    let server = server(None, 5).await;
    let mut stream =
        client(&server).suiteql::<Row>("SELECT id, itemid FROM item ORDER BY id", OPTIONS);
    let first = stream.next().await.unwrap().unwrap();
    assert_eq!(first.itemid, "SKU-1");
    assert_eq!(stream.fetch_all().await.unwrap(), expected(1));
}

#[tokio::test]
async fn fetch_all_returns_the_first_error() {
    let err = fetch_all(Some(2), 5).await.unwrap_err();
    match err {
        Error::Api(api) => assert_eq!(api.status, 400),
        other => panic!("expected the 400, got {other:?}"),
    }
}

#[tokio::test]
async fn fetch_all_gives_back_room_reserved_for_rows_that_never_came() {
    // totalResults says 40 (rows deleted while paging): room for 40 is reserved, 5 arrive.
    let rows = fetch_all(None, 40).await.unwrap();
    assert_eq!(rows, expected(0));
    assert_eq!(rows.capacity(), 5);
}
