//! One-sided Jacobi SVD.
