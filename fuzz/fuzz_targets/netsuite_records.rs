//! NetSuite typed records: `serde_json::from_slice` into every record type of
//! `netsuite_client::records`; what decodes must also serialise back.
#![no_main]

use libfuzzer_sys::fuzz_target;
use netsuite_client::records::*;

fn one<T: serde::de::DeserializeOwned + serde::Serialize>(bytes: &[u8]) {
    if let Ok(record) = serde_json::from_slice::<T>(bytes) {
        let _ = serde_json::to_vec(&record);
    }
}

fuzz_target!(|data: &[u8]| {
    one::<SalesOrder>(data);
    one::<ItemFulfillment>(data);
    one::<ItemReceipt>(data);
    one::<PurchaseOrder>(data);
    one::<ReturnAuthorization>(data);
    one::<TransferOrder>(data);
    one::<InventoryAdjustment>(data);
    one::<InventoryTransfer>(data);
    one::<InventoryItem>(data);
    one::<LotNumberedInventoryItem>(data);
    one::<SerializedInventoryItem>(data);
    one::<InventoryNumber>(data);
    one::<InventoryStatus>(data);
    one::<Location>(data);
    one::<Bin>(data);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = netsuite_client::decimal::parse_decimal_str(text);
        let _ = netsuite_client::suiteql::lenient::parse_date(text);
    }
});
