//! A plain HTTP client of the NetSuite simulator: a token from the client-credentials grant, then
//! REST record calls and SuiteQL under `/services/rest`.

use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use sim::netsuite::RunningNetSuite;

/// A client holding a token of the simulator.
pub struct Client {
    http: reqwest::Client,
    /// The simulator's `/services/rest` URL.
    pub base: String,
    token: String,
}

impl Client {
    /// Takes a token with the client-credentials grant, checking the token answer's shape.
    pub async fn connect(sim: &RunningNetSuite) -> Client {
        let http = reqwest::Client::new();
        let base = format!("{}/services/rest", sim.base_url());
        let response = http
            .post(format!("{base}/auth/oauth2/v1/token"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("grant_type=client_credentials&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=aaa.bbb.ccc")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["expires_in"], json!("3600"));
        assert_eq!(body["token_type"], json!("bearer"));
        Client {
            http,
            base,
            token: body["access_token"].as_str().unwrap().to_string(),
        }
    }

    /// An authorised request to `path` under `/services/rest`.
    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token)
    }

    /// Sends an authorised request; an empty answer reads as `null`.
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, HeaderMap, Value) {
        let mut request = self.request(method, path);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap()
        };
        (status, headers, value)
    }

    /// `GET`s `path`.
    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        let (s, _, v) = self.send(reqwest::Method::GET, path, None).await;
        (s, v)
    }

    /// `POST`s a JSON body, answering the headers too.
    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, HeaderMap, Value) {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }

    /// Runs a SuiteQL query for its first page of up to 1000 rows, checking that it was answered.
    pub async fn query(&self, query: &str) -> Value {
        let (status, rows) = self.suiteql(query, 1000, 0).await;
        assert_eq!(status, StatusCode::OK, "{query}: {rows}");
        rows
    }

    /// Runs a SuiteQL query for one page.
    pub async fn suiteql(&self, query: &str, limit: usize, offset: usize) -> (StatusCode, Value) {
        let response = self
            .request(
                reqwest::Method::POST,
                &format!("/query/v1/suiteql?limit={limit}&offset={offset}"),
            )
            .header("Prefer", "transient")
            .json(&json!({"q": query}))
            .send()
            .await
            .unwrap();
        (response.status(), response.json().await.unwrap())
    }
}
