//! The provider's side of dubbo2, on the multiplexed connection engine
//! ([`mux::server`](crate::protocol::mux::server)): calls, heartbeats, refusals with Dubbo's
//! status codes, and the readonly event on shutdown.

use std::future::Future;

use bytes::BytesMut;
use bytestring::ByteString;
use futures_util::FutureExt;
use rpc_codec::dubbo::{
    self, status, DubboCodec, DubboFrame, DubboHeader, DubboInbound, DubboRequest, RequestCache, FLAG_EVENT,
    FLAG_REQUEST, HESSIAN2_SERIALIZATION,
};
use tokio::io::{AsyncRead, AsyncWrite};
use tracing::Instrument;

use super::call::{error_frame, heartbeat_reply, reply_frame, request_from_dubbo, version_of};
use crate::protocol::mux::{self, Handled, MuxServer, ReplyQueue};
use crate::protocol::{Annotator, ConnectionContext};
use crate::provider::call::call;
use crate::provider::ServiceStack;
use crate::{MethodKind, Request};

/// Serves one accepted dubbo2 connection (see [`mux::server::serve`]).
pub(crate) async fn serve<S, R, W>(read: R, write: W, context: ConnectionContext<S>)
where
    S: ServiceStack,
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let ConnectionContext { service, router, config, lifecycle, info } = context;
    let server = DubboServer {
        service,
        annotator: Annotator::new(router, info),
        codec: DubboCodec::new(config.dubbo.payload),
        write_queue: config.dubbo.write_queue,
        checked: None,
        requests: RequestCache::default(),
    };
    mux::server::serve(server, read, write, &config, &lifecycle).await
}

struct DubboServer<S> {
    service: S,
    annotator: Annotator,
    codec: DubboCodec,
    write_queue: usize,
    /// The last call address found hosted (path, version, group, method, arity): a
    /// connection mostly calls one method, which then needs no lookup.
    checked: Option<(ByteString, ByteString, ByteString, ByteString, usize)>,
    /// The last request's head and attachments, which the next call mostly repeats.
    requests: RequestCache,
}

impl<S> MuxServer for DubboServer<S>
where
    S: ServiceStack,
{
    type Frame = DubboFrame;
    type Codec = DubboCodec;

    fn codec(&self) -> DubboCodec {
        self.codec.clone()
    }

    fn write_queue(&self) -> usize {
        self.write_queue
    }

    /// Dubbo's readonly event: a oneway event request whose body is the string `"R"`;
    /// consumers stop sending new calls here.
    fn go_away(&self) -> Option<DubboFrame> {
        let mut body = BytesMut::new();
        dubbo::encode_event(Some("R"), &mut body);
        let header =
            DubboHeader { flags: FLAG_REQUEST | FLAG_EVENT | HESSIAN2_SERIALIZATION, status: 0, id: 0, body_len: 0 };
        Some(DubboFrame::new(header, body.freeze()))
    }

    fn on_inbound(
        &mut self,
        inbound: DubboInbound,
        going_away: bool,
        _replies: &mut ReplyQueue<DubboFrame>,
    ) -> Handled<DubboFrame, impl Future<Output = Option<DubboFrame>> + Send + 'static + use<S>> {
        let frame = match inbound {
            DubboInbound::TooLarge { header, payload } => {
                if !header.is_twoway() {
                    return Handled::Done;
                }
                let message = format!("Data length too large: {}, max payload: {payload}", header.body_len);
                return Handled::Reply(error_frame(header.id, status::BAD_REQUEST, &message));
            }
            DubboInbound::Frame(frame) => frame,
        };
        let header = frame.header;
        if header.is_event() {
            // A heartbeat wants its echo; readonly and writeable events from a consumer, and
            // events answering ours, need nothing.
            let heartbeat = &frame.body[..] == b"N" || frame.body.is_empty();
            return match header.is_twoway() && heartbeat {
                true => Handled::Reply(heartbeat_reply(header.id, header.serialization())),
                false => Handled::Done,
            };
        }
        if !header.is_request() {
            tracing::debug!(id = header.id, "ignoring a dubbo response sent to a provider");
            return Handled::Done;
        }
        let twoway = header.is_twoway();
        let refuse = |code, message: &str| match twoway {
            true => Handled::Reply(error_frame(header.id, code, message)),
            false => Handled::Done,
        };
        if header.serialization() != HESSIAN2_SERIALIZATION {
            let message = format!(
                "Unexpected serialization id:{} received from network, only hessian2 (2) is served",
                header.serialization()
            );
            return refuse(status::BAD_REQUEST, &message);
        }
        let request = match DubboRequest::decode_cached(&frame.body, &mut self.requests) {
            Ok(request) => request,
            Err(e) => return refuse(status::BAD_REQUEST, &format!("Fail to decode request due to: {e}")),
        };
        if going_away {
            return refuse(status::SERVER_THREADPOOL_EXHAUSTED_ERROR, "provider is shutting down; request not run");
        }
        if let Err((code, message)) = self.check(&request) {
            return refuse(code, &message);
        }
        if &*request.method == "$echo" {
            // Dubbo's echo test: the argument comes back, the service is not called.
            let reply =
                dubbo::DubboResponse { result: dubbo::DubboResult::Value(request.arguments), attachments: vec![] };
            let mut body = BytesMut::new();
            reply.encode(dubbo::supports_response_attachments(&request.dubbo_version), &mut body);
            let header = DubboHeader { flags: HESSIAN2_SERIALIZATION, status: status::OK, id: header.id, body_len: 0 };
            return refuse_or(twoway, DubboFrame::new(header, body.freeze()));
        }
        let attachments = dubbo::supports_response_attachments(&request.dubbo_version);
        let mut request = request_from_dubbo(request, !twoway);
        self.annotator.annotate(&mut request);
        Handled::Call(dispatch(self.service.clone(), request, header.id, attachments, self.codec.payload()))
    }

    fn on_close(&mut self) {}
}

impl<S> DubboServer<S> {
    /// Whether the call names a hosted service and one of its unary methods with as many
    /// parameters; else Dubbo's status and message for it.
    fn check(&mut self, request: &DubboRequest) -> Result<(), (u8, String)> {
        let group = request.attachment("group").unwrap_or_default();
        let version = version_of(request.version.as_deref());
        let arity = dubbo::parameter_count(&request.parameter_types).unwrap_or(usize::MAX);
        if let Some((path, checked_version, checked_group, method, checked_arity)) = &self.checked {
            if (&**path, &**checked_version, &**checked_group, &**method, *checked_arity)
                == (&*request.path, version, group, &*request.method, arity)
            {
                return Ok(());
            }
        }
        let Some(service) = self.annotator.hosted().descriptor(&request.path, version, group) else {
            let key = match group {
                "" => format!("{}:{version}", &*request.path),
                group => format!("{group}/{}:{version}", &*request.path),
            };
            return Err((
                status::SERVICE_ERROR,
                format!("Not found exported service: {key}, may be version or group mismatch"),
            ));
        };
        let found = service
            .methods
            .iter()
            .any(|m| m.name == &*request.method && m.arguments.len() == arity && m.kind == MethodKind::Unary);
        if found {
            // Copies: a slice of the frame would pin the connection's read buffer.
            let (path, method) = (ByteString::from(&*request.path), ByteString::from(&*request.method));
            self.checked = Some((path, ByteString::from(version), ByteString::from(group), method, arity));
        }
        if found || (&*request.method == "$echo" && arity == 1) {
            return Ok(());
        }
        Err((
            status::BAD_REQUEST,
            format!(
                "Fail to decode request due to: java.lang.IllegalArgumentException: Service not found:{}, {}",
                &*request.path, &*request.method
            ),
        ))
    }
}

fn refuse_or<C>(twoway: bool, frame: DubboFrame) -> Handled<DubboFrame, C> {
    if twoway {
        Handled::Reply(frame)
    } else {
        Handled::Done
    }
}

/// Runs one call through the server's service stack (the neutral [`call`]: deadline, panics);
/// its output is the reply (none for a oneway call).
fn dispatch<S>(
    service: S,
    request: Request,
    id: i64,
    attachments: bool,
    payload: usize,
) -> impl Future<Output = Option<rpc_codec::dubbo::DubboFrame>> + Send
where
    S: ServiceStack,
{
    let oneway = request.oneway;
    let span = tracing::debug_span!(
        "rpc.server.call",
        protocol = "dubbo",
        service = %request.service(),
        method = %request.method(),
        request_id = id,
    );
    call(service, request).instrument(span.clone()).map(move |result| {
        if let Err(status) = &result {
            span.in_scope(|| tracing::debug!(code = %status.code(), message = status.message(), "call failed"));
        }
        (!oneway).then(|| reply_frame(id, result, attachments, payload))
    })
}
