//! Grokking datasets.
#![no_std]
#![forbid(unsafe_code)]
