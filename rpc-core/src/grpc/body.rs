use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::HeaderMap;
use http_body::{Body, Frame, SizeHint};

/// The body of a unary gRPC message exchange: at most one DATA chunk, then trailers if any.
/// (Requests have no trailers; replies end with `grpc-status`; a trailers-only error has
/// neither and ends with its headers.)
#[derive(Debug, Default)]
pub(crate) struct UnaryBody {
    data: Option<Bytes>,
    trailers: Option<HeaderMap>,
}

impl UnaryBody {
    pub(crate) fn new(data: Option<Bytes>, trailers: Option<HeaderMap>) -> UnaryBody {
        UnaryBody { data, trailers }
    }

    pub(crate) fn empty() -> UnaryBody {
        UnaryBody::default()
    }
}

impl Body for UnaryBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if let Some(data) = self.data.take() {
            return Poll::Ready(Some(Ok(Frame::data(data))));
        }
        Poll::Ready(self.trailers.take().map(|trailers| Ok(Frame::trailers(trailers))))
    }

    fn is_end_stream(&self) -> bool {
        self.data.is_none() && self.trailers.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.data.as_ref().map_or(0, |d| d.len() as u64))
    }
}
