//! dubbo2's frame decoder and the Hessian2 bodies of calls, results, errors and events.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use rpc_codec::dubbo::{
    decode_error_message, decode_exception, DubboCodec, DubboInbound, DubboRequest, DubboResponse, RequestCache,
};
use tokio_util::codec::Decoder;

fuzz_target!(|data: &[u8]| {
    let mut codec = DubboCodec::new(64 * 1024);
    let mut buffer = BytesMut::from(data);
    let mut cache = RequestCache::default();
    while let Ok(Some(inbound)) = codec.decode(&mut buffer) {
        let DubboInbound::Frame(frame) = inbound else { continue };
        if frame.header.is_request() {
            let _ = DubboRequest::decode(&frame.body);
            let _ = DubboRequest::decode_cached(&frame.body, &mut cache);
        } else {
            let _ = DubboResponse::decode(&frame.body);
            let _ = decode_exception(&frame.body);
            let _ = decode_error_message(&frame.body);
        }
    }
    // The body decoders on raw bytes, too: most inputs never make a whole frame.
    let body = bytes::Bytes::copy_from_slice(data);
    let _ = DubboRequest::decode(&body);
    let _ = DubboResponse::decode(&body);
    let _ = decode_exception(data);
});
