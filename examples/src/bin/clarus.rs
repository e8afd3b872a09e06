//! `clarus`: a small command-line tool over the Clarus client.
//!
//! ```text
//! clarus stock --sku WIDGET-RED-500
//! clarus goods-out --reference SO-2026-008812
//! clarus subscribe --url https://sync.example.com/hooks/clarus
//! ```
//!
//! Connection settings come from the environment (see `ClarusConfig::from_env`):
//! `CLARUS_CLIENT_ID`, `CLARUS_CLIENT_SECRET`, `CLARUS_SUBDOMAIN` (required), `CLARUS_BASE_URL`,
//! `CLARUS_PATH_PREFIX`, `CLARUS_DELETE_CHANGE_TYPE`, `CLARUS_ALLOW_HTTP`, `CLARUS_TOKEN_AUTH`;
//! `subscribe` also reads `CLARUS_WEBHOOK_SECRET`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use clarus_client::graphql::{
    Filter, GoodsOutLineNode, ListQuery, PackageNode, ShipmentNode, StockBalanceNode, StockNode,
};
use clarus_client::webhook::{SubscriptionOutcome, WebhookSecret, WebhookTarget};
use clarus_client::{ClarusClient, ClarusConfig, Secret};
use futures_util::TryStreamExt;
use sync_engine::clarus::SYNC_SUBSCRIPTIONS;

#[derive(Parser)]
#[command(
    name = "clarus",
    about = "Query Clarus WMS and manage its webhook subscriptions"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Stock balances and stock records of one SKU.
    Stock {
        /// Product code (SKU).
        #[arg(long)]
        sku: String,
    },
    /// A goods out by reference, with its lines, shipments and tracking numbers.
    GoodsOut {
        /// Order reference.
        #[arg(long)]
        reference: String,
    },
    /// Creates the sync's webhook automations (idempotent).
    Subscribe {
        /// Base URL of the webhook receiver; `/{resource}/{event}` is appended.
        #[arg(long)]
        url: clarus_client::HttpUrl,
        /// Prefix of the automation names.
        #[arg(long, default_value = "netsuite-sync")]
        prefix: String,
        /// HTTP method Clarus uses to call the receiver.
        #[arg(long, default_value = "POST")]
        method: String,
    },
}

fn show<T: std::fmt::Display>(value: &Option<T>) -> String {
    value
        .as_ref()
        .map_or_else(|| "-".to_owned(), ToString::to_string)
}

async fn run(cli: Cli) -> Result<(), Box<dyn std::error::Error>> {
    let client = ClarusClient::new(ClarusConfig::from_env()?)?;
    match cli.command {
        Command::Stock { sku } => {
            let filter = Filter::new().eq("product_code", sku.as_str());
            let balances: Vec<StockBalanceNode> = client
                .list_all(ListQuery::new(filter.clone(), 100))
                .try_collect()
                .await?;
            println!("balances for {sku}:");
            for b in &balances {
                println!(
                    "  account {:<10} warehouse {:<6} available {:>10} allocated {:>10} picked {:>10}",
                    show(&b.account.as_ref().and_then(|a| a.code.clone())),
                    show(&b.warehouse.as_ref().map(|w| w.id)),
                    show(&b.available),
                    show(&b.allocated),
                    show(&b.picked),
                );
            }
            let stocks: Vec<StockNode> = client
                .list_all(ListQuery::new(filter, 100))
                .try_collect()
                .await?;
            println!("stock records:");
            for s in &stocks {
                println!(
                    "  #{:<8} {:<10} qty {:>10} at {:<20} su {}",
                    s.id,
                    show(&s.status),
                    show(&s.quantity),
                    show(&s.location.as_ref().and_then(|l| l.code.clone())),
                    show(&s.storage_unit.as_ref().and_then(|u| u.reference.clone())),
                );
            }
            if balances.is_empty() && stocks.is_empty() {
                println!("  (no stock found)");
            }
        }
        Command::GoodsOut { reference } => {
            let orders = client.find_goods_outs_by_reference(&reference).await?;
            if orders.is_empty() {
                println!("no goods out with reference {reference}");
            }
            for order in orders {
                println!(
                    "goods out #{} {} status {} dispatch {}",
                    order.id,
                    show(&order.reference),
                    show(&order.goods_out_status.as_ref().and_then(|s| s.code.clone())),
                    show(
                        &order
                            .expected_date_of_dispatch
                            .as_ref()
                            .map(|d| d.0.clone())
                    ),
                );
                let by_order = Filter::new().eq("goods_out_id", order.id);
                let lines: Vec<GoodsOutLineNode> = client
                    .list_all(ListQuery::new(by_order.clone(), 100))
                    .try_collect()
                    .await?;
                for l in &lines {
                    println!(
                        "  line #{:<8} {:<20} ordered {:>8} picked {:>8} dispatched {:>8} {}",
                        l.id,
                        show(&l.product.as_ref().and_then(|p| p.code.clone())),
                        show(&l.order_quantity),
                        show(&l.pick_quantity),
                        show(&l.dispatch_quantity),
                        show(&l.short_status),
                    );
                }
                let shipments: Vec<ShipmentNode> = client
                    .list_all(ListQuery::new(by_order, 50))
                    .try_collect()
                    .await?;
                for s in &shipments {
                    println!(
                        "  shipment #{} {} {}",
                        s.id,
                        show(&s.reference),
                        show(&s.status)
                    );
                    let packages: Vec<PackageNode> = client
                        .list_all(ListQuery::new(Filter::new().eq("shipment_id", s.id), 50))
                        .try_collect()
                        .await?;
                    for p in &packages {
                        println!(
                            "    package #{} tracking {}",
                            p.id,
                            show(&p.tracking_number)
                        );
                    }
                }
            }
        }
        Command::Subscribe {
            url,
            prefix,
            method,
        } => {
            let secret = std::env::var("CLARUS_WEBHOOK_SECRET")
                .ok()
                .filter(|s| !s.is_empty())
                .map(|s| WebhookSecret::new(Secret::new(s)));
            if secret.is_none() {
                eprintln!(
                    "warning: CLARUS_WEBHOOK_SECRET is not set; deliveries cannot be verified"
                );
            }
            let mut target = WebhookTarget::new(url, secret, &prefix);
            target.method = method;
            let outcomes = client
                .ensure_webhook_automations(&target, SYNC_SUBSCRIPTIONS)
                .await?;
            for ((resource, event), outcome) in SYNC_SUBSCRIPTIONS.iter().zip(outcomes) {
                let what = match outcome {
                    SubscriptionOutcome::Created(id) => format!("created #{id}"),
                    SubscriptionOutcome::Existing(id) => format!("exists #{id}"),
                    SubscriptionOutcome::Enabled(id) => format!("enabled #{id}"),
                    SubscriptionOutcome::Retargeted(id) => format!("pointed here #{id}"),
                };
                println!("{resource}.{event}: {what}");
            }
        }
    }
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    match run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
