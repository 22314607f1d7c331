//! The benchmark harness as a library: the systems under test, the load driver, process
//! control, reports and plots. The `rpc-bench` binary is its command line; the criterion
//! benches reuse the systems.

pub mod allocations;
pub mod idle;
pub mod load;
pub mod payload;
pub mod plot;
pub mod process;
pub mod report;
pub mod systems;
