//! Benchmarks of hybrid live in `benches/`; this library is empty on purpose.
