//! Record operations as builders ending in `.send()`: get, create, update, upsert, delete, list.
//!
//! Paths are built only from validated pieces ([`RecordType`], [`RecordKey`]), so no caller value
//! can change the URL's path.

use std::marker::PhantomData;

use bytes::Bytes;
use http::Method;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::client::{NetSuiteClient, RequestSpec, last_segment};
pub(crate) use crate::client::{encode_body, record_path, strict_property_names};
use crate::error::Error;
use crate::ids::{ExternalId, IdempotencyKey, RecordId, RecordKey, RecordType};
use crate::jobs::AsyncJob;
use crate::records::{Link, Record};
use crate::retry::Idempotency;

/// Field names for `fields=` and `replace=`: letters, digits and `_` only.
pub(crate) fn field_list(names: &[&str]) -> Result<String, Error> {
    for n in names {
        if n.is_empty() || !n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(Error::InvalidRequest(format!("{n:?} is not a field name")));
        }
    }
    Ok(names.join(","))
}

/// The new record's id from the `Location` of a 204/201 answer.
pub(crate) fn id_from_location(resp: &crate::client::RawResponse) -> Result<RecordId, Error> {
    let loc = resp.location().ok_or_else(|| {
        Error::UnexpectedResponse(format!(
            "{} without a Location header; the record may exist: look it up by external id",
            resp.status
        ))
    })?;
    let seg = last_segment(loc)
        .ok_or_else(|| Error::UnexpectedResponse(format!("Location {loc:?} has no id")))?;
    RecordId::new(seg)
        .map_err(|_| Error::UnexpectedResponse(format!("Location {loc:?} does not end in an id")))
}

fn json_spec(method: Method, path: String, idempotency: Idempotency, body: Bytes) -> RequestSpec {
    let mut spec = RequestSpec::new(method, path, idempotency);
    spec.headers.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    strict_property_names(&mut spec);
    spec.body = Some(body);
    spec
}

/// `GET /record/v1/{type}/{id | eid:X}`.
#[must_use = "call .send()"]
#[derive(Debug)]
pub struct GetRecord<T> {
    client: NetSuiteClient,
    record_type: RecordType,
    key: RecordKey,
    expand: bool,
    fields: Option<Result<String, Error>>,
    _out: PhantomData<fn() -> T>,
}

impl<T: DeserializeOwned> GetRecord<T> {
    /// Inlines sublists and subrecords (`expandSubResources=true`).
    pub fn expand_sub_resources(mut self, expand: bool) -> Self {
        self.expand = expand;
        self
    }

    /// Returns only these fields and sublists (`fields=a,b`).
    pub fn fields(mut self, names: &[&str]) -> Self {
        self.fields = Some(field_list(names));
        self
    }

    /// Sends the request.
    pub async fn send(self) -> Result<T, Error> {
        let mut spec = RequestSpec::new(
            Method::GET,
            record_path(&self.record_type, Some(&self.key)),
            Idempotency::Read,
        );
        if self.expand {
            spec = spec.query("expandSubResources", "true");
        }
        if let Some(fields) = self.fields {
            spec = spec.query("fields", fields?);
        }
        self.client.execute(spec).await?.json("record")
    }
}

/// `POST /record/v1/{type}`: answers 204 (or 201) with the new id in `Location`.
#[must_use = "call .send() or .send_async(key)"]
#[derive(Debug)]
pub struct CreateRecord {
    client: NetSuiteClient,
    record_type: RecordType,
    body: Result<Bytes, Error>,
}

impl CreateRecord {
    /// Creates the record and returns its id.
    ///
    /// Not retried after it was sent: a 5xx or a dropped connection gives
    /// [`Error::OutcomeUnknown`]; look the record up by external id before trying again.
    pub async fn send(self) -> Result<RecordId, Error> {
        let spec = json_spec(
            Method::POST,
            record_path(&self.record_type, None),
            Idempotency::NonIdempotent,
            self.body?,
        );
        let resp = self.client.execute(spec).await?;
        id_from_location(&resp)
    }

    /// Submits the create asynchronously with an idempotency key (safe to retry).
    pub async fn send_async(self, key: &IdempotencyKey) -> Result<AsyncJob, Error> {
        let spec = json_spec(
            Method::POST,
            record_path(&self.record_type, None),
            Idempotency::AsyncWithKey,
            self.body?,
        );
        self.client.submit_async(spec, key).await
    }
}

/// `PATCH /record/v1/{type}/{id}`: omitted fields stay, `null` clears.
#[must_use = "call .send()"]
#[derive(Debug)]
pub struct UpdateRecord {
    client: NetSuiteClient,
    record_type: RecordType,
    key: RecordKey,
    body: Result<serde_json::Value, Error>,
    replace: Vec<String>,
}

impl UpdateRecord {
    /// Replaces these sublists (`replace=item`): lines not in the body are removed.
    pub fn replace(mut self, sublists: &[&str]) -> Self {
        self.replace.extend(sublists.iter().map(|s| s.to_string()));
        self
    }

    /// Sends the update.
    ///
    /// Retried after a 5xx only when repeating it cannot append lines twice: every sublist in the
    /// body is listed in [`UpdateRecord::replace`].
    pub async fn send(self) -> Result<(), Error> {
        let body = self.body?;
        let replace: Vec<&str> = self.replace.iter().map(String::as_str).collect();
        let appends = body.as_object().is_some_and(|o| {
            o.iter().any(|(k, v)| {
                v.get("items").is_some_and(|i| i.is_array()) && !replace.contains(&k.as_str())
            })
        });
        let idempotency = if appends {
            Idempotency::NonIdempotent
        } else {
            Idempotency::Idempotent
        };
        let mut spec = json_spec(
            Method::PATCH,
            record_path(&self.record_type, Some(&self.key)),
            idempotency,
            encode_body(&body)?,
        );
        if !replace.is_empty() {
            spec = spec.query("replace", field_list(&replace)?);
        }
        self.client.execute(spec).await?;
        Ok(())
    }
}

/// `PUT /record/v1/{type}/eid:{externalId}`: creates or replaces by external id (idempotent).
#[must_use = "call .send()"]
#[derive(Debug)]
pub struct UpsertRecord {
    client: NetSuiteClient,
    record_type: RecordType,
    external_id: ExternalId,
    body: Result<Bytes, Error>,
}

impl UpsertRecord {
    /// Sends the upsert. Returns the record's id when NetSuite gives one in `Location`.
    pub async fn send(self) -> Result<Option<RecordId>, Error> {
        let key = RecordKey::External(self.external_id);
        let spec = json_spec(
            Method::PUT,
            record_path(&self.record_type, Some(&key)),
            Idempotency::Idempotent,
            self.body?,
        );
        let resp = self.client.execute(spec).await?;
        Ok(id_from_location(&resp).ok())
    }
}

/// `DELETE /record/v1/{type}/{id | eid:X}`.
#[must_use = "call .send()"]
#[derive(Debug)]
pub struct DeleteRecord {
    client: NetSuiteClient,
    record_type: RecordType,
    key: RecordKey,
}

impl DeleteRecord {
    /// Deletes the record.
    pub async fn send(self) -> Result<(), Error> {
        let spec = RequestSpec::new(
            Method::DELETE,
            record_path(&self.record_type, Some(&self.key)),
            Idempotency::Idempotent,
        );
        self.client.execute(spec).await?;
        Ok(())
    }
}

/// `GET /record/v1/{type}?q=…&limit=&offset=`: ids and links of matching records.
#[must_use = "call .send()"]
#[derive(Debug)]
pub struct ListRecords {
    client: NetSuiteClient,
    record_type: RecordType,
    q: Option<String>,
    limit: Option<u32>,
    offset: Option<u64>,
}

/// One page of a record list.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    /// The entries.
    #[serde(default = "Vec::new")]
    pub items: Vec<T>,
    /// Entries on this page.
    #[serde(default)]
    pub count: u64,
    /// Whether another page follows.
    #[serde(default)]
    pub has_more: bool,
    /// Offset of this page.
    #[serde(default)]
    pub offset: u64,
    /// Total matching entries.
    #[serde(default)]
    pub total_results: u64,
}

/// An entry of a record list: the id and a link to the record.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ListedRecord {
    /// Internal id.
    pub id: RecordId,
    /// Links (the record's URL).
    #[serde(default)]
    pub links: Vec<Link>,
}

impl ListRecords {
    /// Filter, e.g. `externalId IS "RED|PO|1337"` or `lastModifiedDate ON_OR_AFTER "1/1/2026"`.
    pub fn query(mut self, q: impl Into<String>) -> Self {
        self.q = Some(q.into());
        self
    }

    /// Page size (1 to 1000).
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }

    /// Offset of the first entry (a multiple of the page size).
    pub fn offset(mut self, offset: u64) -> Self {
        self.offset = Some(offset);
        self
    }

    /// Fetches one page.
    pub async fn send(self) -> Result<Page<ListedRecord>, Error> {
        let mut spec = RequestSpec::new(
            Method::GET,
            record_path(&self.record_type, None),
            Idempotency::Read,
        );
        if let Some(q) = self.q {
            spec = spec.query("q", q);
        }
        if let Some(limit) = self.limit {
            if !(1..=1000).contains(&limit) {
                return Err(Error::InvalidRequest(format!(
                    "limit {limit} is outside 1..=1000"
                )));
            }
            spec = spec.query("limit", limit.to_string());
        }
        if let Some(offset) = self.offset {
            spec = spec.query("offset", offset.to_string());
        }
        self.client.execute(spec).await?.json("record list")
    }
}

impl NetSuiteClient {
    /// Reads a record by internal id or `eid:` external id.
    pub fn get<R: Record>(&self, key: impl Into<RecordKey>) -> GetRecord<R> {
        self.get_as(R::record_type(), key)
    }

    /// Reads a record of any type into any shape (e.g. `serde_json::Value`).
    pub fn get_as<T: DeserializeOwned>(
        &self,
        record_type: RecordType,
        key: impl Into<RecordKey>,
    ) -> GetRecord<T> {
        GetRecord {
            client: self.clone(),
            record_type,
            key: key.into(),
            expand: false,
            fields: None,
            _out: PhantomData,
        }
    }

    /// Creates a record.
    pub fn create<R: Record>(&self, record: &R) -> CreateRecord {
        self.create_as(R::record_type(), record)
    }

    /// Creates a record of any type from any serializable body.
    pub fn create_as<B: serde::Serialize + ?Sized>(
        &self,
        record_type: RecordType,
        body: &B,
    ) -> CreateRecord {
        CreateRecord {
            client: self.clone(),
            record_type,
            body: encode_body(body),
        }
    }

    /// Updates a record: only the fields present in `patch` change.
    pub fn update<R: Record>(&self, key: impl Into<RecordKey>, patch: &R) -> UpdateRecord {
        UpdateRecord {
            client: self.clone(),
            record_type: R::record_type(),
            key: key.into(),
            body: serde_json::to_value(patch)
                .map_err(|e| Error::InvalidRequest(format!("cannot encode body: {e}"))),
            replace: Vec::new(),
        }
    }

    /// Creates or replaces a record by external id (`PUT …/eid:X`).
    pub fn upsert<R: Record>(&self, external_id: ExternalId, record: &R) -> UpsertRecord {
        UpsertRecord {
            client: self.clone(),
            record_type: R::record_type(),
            external_id,
            body: encode_body(record),
        }
    }

    /// Deletes a record.
    pub fn delete<R: Record>(&self, key: impl Into<RecordKey>) -> DeleteRecord {
        self.delete_as(R::record_type(), key)
    }

    /// Deletes a record of any type.
    pub fn delete_as(&self, record_type: RecordType, key: impl Into<RecordKey>) -> DeleteRecord {
        DeleteRecord {
            client: self.clone(),
            record_type,
            key: key.into(),
        }
    }

    /// Lists records of a type (ids and links), filtered with `q`.
    pub fn list<R: Record>(&self) -> ListRecords {
        self.list_as(R::record_type())
    }

    /// Lists records of any type.
    pub fn list_as(&self, record_type: RecordType) -> ListRecords {
        ListRecords {
            client: self.clone(),
            record_type,
            q: None,
            limit: None,
            offset: None,
        }
    }
}
