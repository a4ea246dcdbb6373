//! The EGD direction.
