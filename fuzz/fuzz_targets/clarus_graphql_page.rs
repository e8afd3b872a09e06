//! Clarus GraphQL list pages: `decode_page` for every documented node type, plus the datetime
//! parser on the text.
#![no_main]

use clarus_client::graphql::{
    AutomationNode, ClarusDateTime, GoodsInReceiptNode, GoodsOutLineNode, GoodsOutNode,
    PackageNode, ProductNode, ProductStorageUnitNode, ShipmentNode, StockBalanceNode, StockNode,
    TransactionNode, decode_page,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(body) = std::str::from_utf8(data) else {
        return;
    };
    let _ = decode_page::<StockNode>(body);
    let _ = decode_page::<StockBalanceNode>(body);
    let _ = decode_page::<GoodsOutNode>(body);
    let _ = decode_page::<GoodsOutLineNode>(body);
    let _ = decode_page::<GoodsInReceiptNode>(body);
    let _ = decode_page::<ShipmentNode>(body);
    let _ = decode_page::<PackageNode>(body);
    let _ = decode_page::<ProductNode>(body);
    let _ = decode_page::<ProductStorageUnitNode>(body);
    let _ = decode_page::<TransactionNode>(body);
    let _ = decode_page::<AutomationNode>(body);
    if body.len() < 64 {
        let _ = ClarusDateTime(body.to_owned()).timestamp();
    }
});
