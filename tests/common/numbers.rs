//! A streaming service over prost messages: each streaming kind once, plus an endless
//! stream whose drop the tests watch.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use futures_util::StreamExt;
use rpc::{Status, Streaming};

#[derive(Clone, PartialEq, prost::Message)]
pub struct Number {
    #[prost(uint64, tag = "1")]
    pub value: u64,
    /// Ballast, to make buffering visible in memory.
    #[prost(bytes = "vec", tag = "2")]
    pub padding: Vec<u8>,
}

/// The value `Sum` and `Double` refuse.
pub const POISON: u64 = 1 << 40;

impl Number {
    pub fn new(value: u64) -> Number {
        Number { value, padding: Vec::new() }
    }
}

#[rpc::service(name = "test.Numbers", serialization = "protobuf")]
pub trait Numbers {
    /// Server streaming: 0, 1, … up to (not including) `upto.value`, made as they are read.
    #[rpc(name = "Count")]
    async fn count(&self, upto: Number) -> Result<Streaming<Number>, Status>;
    /// Client streaming: the sum of the values; a value of [`POISON`] fails the call.
    #[rpc(name = "Sum")]
    async fn sum(&self, numbers: Streaming<Number>) -> Result<Number, Status>;
    /// Bidirectional: each number back, value doubled, padding kept; [`POISON`] ends
    /// the stream with OUT_OF_RANGE.
    #[rpc(name = "Double")]
    async fn double(&self, numbers: Streaming<Number>) -> Result<Streaming<Number>, Status>;
    /// Server streaming without end; the provider notices when the caller goes away.
    #[rpc(name = "Forever")]
    async fn forever(&self, start: Number) -> Result<Streaming<Number>, Status>;
}

/// What the provider did, for the tests to watch.
#[derive(Clone, Default)]
pub struct NumbersImpl {
    /// Messages `Count` and `Forever` have produced.
    pub produced: Arc<AtomicU64>,
    /// Set when a `Forever` stream is dropped (its caller cancelled).
    pub forever_dropped: Arc<AtomicBool>,
}

/// Flags its drop.
struct DropFlag(Arc<AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

impl Numbers for NumbersImpl {
    async fn count(&self, upto: Number) -> Result<Streaming<Number>, Status> {
        let produced = self.produced.clone();
        let numbers = futures_util::stream::iter(0..upto.value).map(move |value| {
            produced.fetch_add(1, Ordering::Relaxed);
            Ok(Number::new(value))
        });
        Ok(Streaming::new(numbers))
    }

    async fn sum(&self, mut numbers: Streaming<Number>) -> Result<Number, Status> {
        let mut sum = 0;
        while let Some(number) = numbers.next().await {
            let number = number?;
            if number.value == POISON {
                return Err(Status::out_of_range("poison is not summed"));
            }
            sum += number.value;
        }
        Ok(Number::new(sum))
    }

    async fn double(&self, numbers: Streaming<Number>) -> Result<Streaming<Number>, Status> {
        let doubled = numbers.map(|number| {
            let number = number?;
            if number.value == POISON {
                return Err(Status::out_of_range("poison is not doubled"));
            }
            Ok(Number { value: number.value * 2, padding: number.padding })
        });
        Ok(Streaming::new(doubled))
    }

    async fn forever(&self, start: Number) -> Result<Streaming<Number>, Status> {
        let (produced, flag) = (self.produced.clone(), DropFlag(self.forever_dropped.clone()));
        let numbers = futures_util::stream::iter(start.value..).map(move |value| {
            let _alive = &flag;
            produced.fetch_add(1, Ordering::Relaxed);
            Ok(Number::new(value))
        });
        Ok(Streaming::new(numbers))
    }
}
