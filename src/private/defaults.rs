//! The value a failsafe or failback cluster returns in place of an ignored error.

use std::marker::PhantomData;

use crate::Status;

/// Autoref probe for a result type's default value: `(&DefaultProbe::<T>::new()).value_or(s)`
/// is `Ok(T::default())` when `T: Default`, else `Err(s)`.
pub struct DefaultProbe<T>(PhantomData<fn() -> T>);

impl<T> DefaultProbe<T> {
    #[allow(clippy::new_without_default)]
    pub const fn new() -> Self {
        DefaultProbe(PhantomData)
    }
}

pub trait HasDefault<T> {
    fn value_or(&self, status: Status) -> Result<T, Status>;
}

impl<T: Default> HasDefault<T> for DefaultProbe<T> {
    fn value_or(&self, _: Status) -> Result<T, Status> {
        Ok(T::default())
    }
}

pub trait NoDefault<T> {
    fn value_or(&self, status: Status) -> Result<T, Status>;
}

impl<T> NoDefault<T> for &DefaultProbe<T> {
    fn value_or(&self, status: Status) -> Result<T, Status> {
        Err(Status::new(
            status.code(),
            format!(
                "{} (ignored by the cluster, but {} has no default value)",
                status.message(),
                std::any::type_name::<T>()
            ),
        ))
    }
}
