//! Any GraphQL query, answered with its `data` as JSON: for what has no typed node, such as
//! introspection (`__schema`, `__type`).

use serde::Deserialize;
use serde_json::{Value, json};

use crate::client::ClarusClient;
use crate::error::{Error, GraphQlError};

#[derive(Deserialize)]
struct Envelope {
    #[serde(default)]
    data: Option<Value>,
    #[serde(default)]
    errors: Vec<GraphQlError>,
}

/// Reads a GraphQL response body: its `data`, or [`Error::GraphQl`] when it carries
/// `errors` (whatever `data` holds beside them), or [`Error::Decode`] when it is no GraphQL
/// response or has no `data`.
fn decode_data(body: &str) -> Result<Value, Error> {
    let envelope: Envelope = serde_json::from_str(body).map_err(|e| Error::Decode {
        message: e.to_string(),
        raw_body: body.to_owned(),
    })?;
    if !envelope.errors.is_empty() {
        return Err(Error::GraphQl {
            errors: envelope.errors,
            raw_body: body.to_owned(),
        });
    }
    match envelope.data {
        Some(data) if !data.is_null() => Ok(data),
        _ => Err(Error::Decode {
            message: "response has no data".into(),
            raw_body: body.to_owned(),
        }),
    }
}

impl ClarusClient {
    /// Sends one GraphQL query with its variables (`Value::Null` for none) and answers the
    /// response's `data`. A response carrying `errors` is a [`Error::GraphQl`], as for the
    /// typed reads, even when it also carries partial `data`.
    ///
    /// ```no_run
    /// # async fn run(client: clarus_client::ClarusClient) -> Result<(), clarus_client::Error> {
    /// let data = client
    ///     .graphql_query(
    ///         "query($name: String!) { __type(name: $name) { name fields { name } } }",
    ///         serde_json::json!({ "name": "GoodsOut" }),
    ///     )
    ///     .await?;
    /// let fields = &data["__type"]["fields"];
    /// # Ok(()) }
    /// ```
    pub async fn graphql_query(&self, query: &str, variables: Value) -> Result<Value, Error> {
        let mut body = json!({ "query": query });
        if !variables.is_null() {
            body["variables"] = variables;
        }
        let text = self.graphql_raw(body).await?;
        decode_data(&text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_errors_and_garbage_are_told_apart() {
        assert_eq!(
            decode_data(r#"{"data":{"__type":null}}"#).unwrap(),
            json!({"__type": null})
        );
        let err = decode_data(
            r#"{"data":null,"errors":[{"message":"Field '__schema' doesn't exist on type 'Query'","extensions":{"code":"undefinedField"}}]}"#,
        )
        .unwrap_err();
        assert!(
            matches!(&err, Error::GraphQl { errors, .. } if errors[0].message.contains("__schema"))
        );
        assert!(matches!(
            decode_data(r#"{"data":{"a":1},"errors":[{"message":"partial"}]}"#),
            Err(Error::GraphQl { .. })
        ));
        assert!(matches!(
            decode_data(r#"{"data":null}"#),
            Err(Error::Decode { .. })
        ));
        assert!(matches!(decode_data("<html>"), Err(Error::Decode { .. })));
    }
}
