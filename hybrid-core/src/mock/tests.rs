//! Mock provider tests.
use super::*;
