//! The GraphQL field check: the tenant offers every field the engine reads, found by
//! introspection (the engine's own `clarus-schema` check) or, where the tenant refuses it, by
//! reading one node with each of the engine's selections.

use clarus_client::ClarusClient;
use clarus_client::ClarusError;
use clarus_client::graphql::documented::DocumentedSchema;
use clarus_client::graphql::{Filter, ListQuery, Node};
use serde_json::json;
use sync_engine::clarus::{ClarusSchemaCheck, SchemaReport};

use super::nodes::{
    EngineGoodsIn, EngineGoodsOut, EngineGoodsOutLine, EnginePackage, EngineProduct,
    EngineShipment, EngineStock, EngineStockBalance, EngineTransaction,
};
use super::{SCHEMA, client, error_line};
use crate::doctor::{Check, Context, one_line, some_of};

/// `Field 'x' doesn't exist on type 'Y'` (graphql-ruby's wording) as `Y.x`.
fn missing_field(message: &str) -> Option<String> {
    let rest = message.strip_prefix("Field '")?;
    let (field, rest) = rest.split_once('\'')?;
    let rest = rest.strip_prefix(" doesn't exist on type '")?;
    let (type_name, _) = rest.split_once('\'')?;
    Some(format!("{type_name}.{field}"))
}

/// Reads one node of `N` with the engine's selection: the root's type name, and the fields the
/// tenant does not offer (or another failure).
async fn probe<N: Node>(client: &ClarusClient) -> (String, Result<(), Vec<String>>) {
    let type_name = DocumentedSchema::get()
        .root(N::ROOT)
        .map_or_else(|| N::ROOT.to_owned(), |r| r.type_name.clone());
    let answer = client
        .list_page::<N>(&ListQuery::new(Filter::new(), 1), None)
        .await;
    let outcome = match answer {
        Ok(_) => Ok(()),
        Err(ClarusError::GraphQl { errors, .. }) => {
            let missing: Vec<String> = errors
                .iter()
                .filter_map(|e| missing_field(&e.message))
                .collect();
            if missing.is_empty() {
                Err(vec![format!(
                    "{} ({type_name}): {}",
                    N::ROOT,
                    one_line(
                        &errors
                            .iter()
                            .map(|e| e.message.as_str())
                            .collect::<Vec<_>>()
                            .join("; ")
                    )
                )])
            } else {
                Err(missing)
            }
        }
        Err(e) => Err(vec![format!(
            "{} ({type_name}): {}",
            N::ROOT,
            error_line(&e)
        )]),
    };
    (type_name, outcome)
}

/// What to do when the tenant lacks a field the engine reads.
const SCHEMA_HINT: &str = "the engine's reads of these types would be refused: ask Clarus to offer the documented fields to this tenant and API user";

pub async fn schema(ctx: &Context<'_>) -> Vec<Check> {
    let client = match client(ctx, SCHEMA) {
        Ok(c) => c,
        Err(check) => return vec![check],
    };
    // The engine's own check (its `clarus-schema` job), which only reads.
    match ClarusSchemaCheck::new(client.clone()).report().await {
        Ok(report) => vec![schema_report(&report)],
        Err(e) => vec![schema_by_reads(client, &one_line(&e.to_string())).await],
    }
}

/// The check from an introspection of the tenant.
fn schema_report(report: &SchemaReport) -> Check {
    let extras: Vec<String> = report
        .extras
        .iter()
        .filter(|(_, fields)| !fields.is_empty())
        .map(|(type_name, fields)| {
            format!("{type_name} +{} ({})", fields.len(), some_of(fields, 3))
        })
        .collect();
    let data = json!({
        "checked": report.checked,
        "missing": report.missing.iter().map(|m| json!({"field": m.path(), "flow": m.flow()})).collect::<Vec<_>>(),
        "extras": report.extras,
    });
    let beyond = if extras.is_empty() {
        "nothing beyond the documentation".to_owned()
    } else {
        format!("beyond the documentation: {}", some_of(&extras, 4))
    };
    if report.is_complete() {
        Check::pass(
            SCHEMA,
            format!(
                "the tenant offers every field the engine reads ({} fields looked up by introspection); {beyond}",
                report.checked
            ),
        )
    } else {
        let missing: Vec<String> = report
            .missing_by_field()
            .into_iter()
            .map(|(path, flows)| {
                format!("{path} ({})", flows.into_iter().collect::<Vec<_>>().join(", "))
            })
            .collect();
        Check::fail(SCHEMA, format!("not offered: {}", some_of(&missing, 8)), SCHEMA_HINT)
    }
    .with_data(data)
}

/// The check by reading one node with each of the engine's selections, for a tenant that does
/// not answer introspection.
async fn schema_by_reads(client: &ClarusClient, introspection: &str) -> Check {
    let probes = vec![
        probe::<EngineGoodsOut>(client).await,
        probe::<EngineGoodsOutLine>(client).await,
        probe::<EngineShipment>(client).await,
        probe::<EnginePackage>(client).await,
        probe::<EngineGoodsIn>(client).await,
        probe::<EngineStock>(client).await,
        probe::<EngineStockBalance>(client).await,
        probe::<EngineTransaction>(client).await,
        probe::<EngineProduct>(client).await,
    ];
    let types: Vec<&str> = probes.iter().map(|(t, _)| t.as_str()).collect();
    let missing: Vec<String> = probes
        .iter()
        .filter_map(|(_, o)| o.as_ref().err())
        .flatten()
        .cloned()
        .collect();
    let data = json!({"types": types, "missing": missing, "introspection": introspection});
    if missing.is_empty() {
        Check::pass(
            SCHEMA,
            format!(
                "every read of the engine answered with its fields ({}); fields beyond the documentation are not listed (no introspection: {introspection})",
                types.join(", ")
            ),
        )
    } else {
        Check::fail(SCHEMA, format!("not offered: {}", some_of(&missing, 8)), SCHEMA_HINT)
    }
    .with_data(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The probes read exactly what the engine reads.
    #[test]
    fn the_probes_are_the_engines_reads() {
        let probes = [
            (EngineGoodsOut::ROOT, EngineGoodsOut::FIELDS),
            (EngineGoodsOutLine::ROOT, EngineGoodsOutLine::FIELDS),
            (EngineShipment::ROOT, EngineShipment::FIELDS),
            (EnginePackage::ROOT, EnginePackage::FIELDS),
            (EngineGoodsIn::ROOT, EngineGoodsIn::FIELDS),
            (EngineStock::ROOT, EngineStock::FIELDS),
            (EngineTransaction::ROOT, EngineTransaction::FIELDS),
            (EngineStockBalance::ROOT, EngineStockBalance::FIELDS),
            (EngineProduct::ROOT, EngineProduct::FIELDS),
        ];
        let mut probes = probes.to_vec();
        let mut engine = sync_engine::clarus::engine_reads();
        probes.sort_unstable();
        engine.sort_unstable();
        assert_eq!(probes, engine);
    }

    #[test]
    fn missing_fields_are_read_from_graphql_ruby_errors() {
        assert_eq!(
            missing_field("Field 'carrier' doesn't exist on type 'GoodsOut'").as_deref(),
            Some("GoodsOut.carrier")
        );
        assert_eq!(missing_field("Parse error"), None);
    }
}
