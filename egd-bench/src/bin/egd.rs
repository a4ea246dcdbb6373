//! `egd`: does EGD grok faster than SGD? See `egd --help` and the
//! [`egd_bench::cli`] docs.

fn main() {
    std::process::exit(egd_bench::cli::main_from(std::env::args_os()));
}
