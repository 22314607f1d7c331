use std::future::Future;
use std::pin::Pin;

/// A boxed, `Send` future owning what it needs: the easy `Future` type for a layer.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;
