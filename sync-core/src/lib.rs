//! Pure rules of the Clarus WMS ⇄ NetSuite integration.
//!
//! `sync-core` holds the domain model (items, orders, despatches, receipts, stock movements and
//! positions), the mapping tables between the two systems, and the planner that turns what
//! happened (an [`Event`] with its [`SourceId`]) into what must happen ([`PlannedAction`]s for
//! Clarus and NetSuite, and [`Exception`]s with an owner). It does no I/O, runs no async code and
//! reads no clock: time is passed in, and what is already known is read through the
//! [`StateView`] trait, so every rule is a plain function.
//!
//! The engine's loop for one event is:
//!
//! 1. [`plan`] the event against its view of the ledger and the [`Mappings`];
//! 2. record the plan's [`StateChange`]s and actions together (the actions go to the outbox under
//!    their [`IdempotencyKey`]);
//! 3. run the actions, in order per document.
//!
//! Replaying an event, or planning a despatch that was already fulfilled, plans nothing.
//!
//! # Example: planning a despatch
//!
//! ```
//! use jiff::Timestamp;
//! use rust_decimal::Decimal;
//! use sync_core::*;
//!
//! // Mapping tables, normally loaded from configuration.
//! let mappings = Mappings::new(MappingTables {
//!     locations: vec![LocationMapping { location: "1".into(), warehouse: WarehouseId(10) }],
//!     ..MappingTables::default()
//! })
//! .unwrap();
//! let now: Timestamp = "2026-11-27T09:00:00Z".parse().unwrap();
//! let mut state = MemoryState::new();
//!
//! // NetSuite: item and sales order 501 (line numbers are NetSuite's, not 1..n).
//! let item = Item {
//!     netsuite_id: "77".into(),
//!     sku: "MUG-RED".into(),
//!     barcode: None,
//!     description: "Red mug".into(),
//!     tracking: Tracking::None,
//!     inactive: false,
//! };
//! let order = Order {
//!     order: OrderRef::sales("501"),
//!     tran_id: "SO1001".into(),
//!     status: OrderStatus::Open,
//!     location: "1".into(),
//!     ship_method: None,
//!     expected_date: None,
//!     lines: vec![OrderLine {
//!         line: LineNo(3),
//!         item: "77".into(),
//!         sku: "MUG-RED".into(),
//!         quantity: Decimal::from(5),
//!         quantity_done: Decimal::ZERO,
//!         closed: false,
//!     }],
//! };
//! for (id, payload) in [("77", Payload::Item(item)), ("501", Payload::Order(order))] {
//!     let event = Event {
//!         source: SourceId {
//!             system: System::NetSuite,
//!             resource: "record".into(),
//!             id: id.into(),
//!             event: "updated".into(),
//!             revision: Revision::Sequence(1),
//!         },
//!         occurred_at: now,
//!         payload,
//!     };
//!     let plan = plan(&state, &mappings, &event, now);
//!     state.apply(&plan);
//! }
//!
//! // Clarus: goods out 9 despatched 2 of line 3.
//! let despatch = Event {
//!     source: SourceId {
//!         system: System::Clarus,
//!         resource: "goods_out".into(),
//!         id: "9".into(),
//!         event: "completed".into(),
//!         revision: Revision::Sequence(1),
//!     },
//!     occurred_at: now,
//!     payload: Payload::Despatch(Despatch {
//!         tenant: "acme".into(),
//!         goods_out: GoodsOutId(9),
//!         despatch: "1".into(),
//!         order: "501".into(),
//!         warehouse: WarehouseId(10),
//!         carrier: None,
//!         service: None,
//!         despatched_at: now,
//!         lines: vec![DespatchLine {
//!             order_line: LineNo(3),
//!             sku: "MUG-RED".into(),
//!             requested: Decimal::from(2),
//!             quantity: Decimal::from(2),
//!             lots: vec![],
//!             serials: vec![],
//!         }],
//!         packages: vec![],
//!     }),
//! };
//! let first = plan(&state, &mappings, &despatch, now);
//! assert_eq!(first.actions.len(), 1);
//! assert_eq!(first.actions[0].key.as_str(), "CLR-DESP-acme-9-1");
//! assert!(matches!(first.actions[0].action, Action::FulfilSalesOrder(_)));
//! state.apply(&first);
//!
//! // The same webhook delivered again plans nothing.
//! assert!(plan(&state, &mappings, &despatch, now).is_empty());
//! ```

pub mod action;
pub mod action_type;
pub mod batching;
pub mod close;
pub mod cost;
pub mod despatch;
pub mod document;
pub mod drift;
pub mod drift_alerts;
pub mod event;
pub mod exception;
pub mod ids;
pub mod item;
pub mod key;
pub mod lifecycle;
pub mod mapping;
pub mod money;
pub mod order;
pub mod owner;
pub mod planner;
pub mod progress;
pub mod receipt;
pub mod source;
pub mod state;
pub mod stock;
pub mod stock_move;
pub mod stuck;
pub mod subject;

pub use action::{
    Action, Fulfilment, InventoryAdjustment, ItemReceipt, PlannedAction, PostedLine, ProductSpec,
    ReceivedLine, StockMove, WarehouseOrder, WarehouseOrderLine,
};
pub use action_type::ActionType;
pub use despatch::{Despatch, DespatchLine, LotQuantity, Package};
pub use document::DocumentRef;
pub use drift::{DriftCalculator, DriftClass, DriftReport, DriftRow, DriftSummary, Thresholds};
pub use event::{Event, Name, Payload, Revision, SourceId, System};
pub use exception::{Exception, ExceptionKind, Owner, Severity};
pub use ids::{
    Barcode, CarrierId, CarrierServiceId, DespatchId, GoodsInId, GoodsOutId, LineNo, LocationId,
    LotNumber, MovementId, NetSuiteId, ProductId, ReasonCodeId, ReceiptId, SerialNumber, Sku,
    Tenant, TrackingNumber, WarehouseId,
};
pub use item::{ClarusProduct, Item, Tracking};
pub use key::{IdempotencyKey, KeyBuilder, KeyError};
pub use lifecycle::{Flow, Stage};
pub use mapping::{
    AccountMapping, LocationMapping, MappingError, MappingTable, MappingTables, Mappings,
    ShipMethodMapping, StatusMapping, StockPlace,
};
pub use order::{CarrierService, Order, OrderKind, OrderLine, OrderRef, OrderStatus};
pub use planner::{Plan, plan, plan_order};
pub use progress::{GoodsOutMilestone, GoodsOutProgress};
pub use receipt::{Receipt, ReceiptLine, StockCondition};
pub use state::{KnownItem, LineQuantity, MemoryState, OrderState, StateChange, StateView};
pub use stock::{MovementKind, StockKey, StockMovement, StockRow, StockStatus};
