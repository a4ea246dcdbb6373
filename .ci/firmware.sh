#!/usr/bin/env bash
# Firmware CI: trains both configurations on an emulated Cortex-M4F (QEMU
# mps2-an386) until EGD groks stably -- the small one (p = 23, STM32F401RC
# budget: 256 KiB flash, 64 KiB RAM) and the STM32F407 one (p = 47, 663 test
# examples, 1 MiB flash, 192 KiB RAM) -- runs the small training on a
# soft-float Cortex-M3 (mps2-an385) for a short budget, checks the link-time
# no-panic proof for both shapes, and prints the RESULT lines.
# Self-sufficient; called by .ci/run. Fails if a run does not grok / errors /
# faults, if an image does not fit its part (the linker refuses), or if M3
# and M4 disagree.
set -euo pipefail
cd "$(dirname "$0")/../firmware"

step() { printf '\n=== firmware: %s\n' "$*"; }
trap 'echo "FIRMWARE CI FAILED at: ${BASH_COMMAND}" >&2' ERR

# Counts depend on codegen flags; a CI-wide RUSTFLAGS must not leak in
# (the linker script comes from build.rs, so nothing is needed from it).
unset RUSTFLAGS CARGO_ENCODED_RUSTFLAGS

step "tools"
rustup target add thumbv7em-none-eabihf thumbv7m-none-eabi
if ! command -v qemu-system-arm >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends qemu-system-arm
fi
qemu-system-arm --version | head -n1

step "format and clippy"
cargo fmt --check
cargo clippy --release -- -D warnings
cargo clippy --release --features nopanic --bin nopanic -- -D warnings
# search/ (the host build of src/train.rs that chose the configurations) must keep compiling
(cd search && cargo fmt --check && cargo clippy --release -- -D warnings)

M4_ELF=target/thumbv7em-none-eabihf/release/egd-firmware
M3_ELF=target/thumbv7m-none-eabi/release/egd-firmware
M4_SMOKE_ELF=target/m4-smoke.elf
F407_ELF=target/f407.elf
LOG=target/firmware-ci
mkdir -p "$LOG"

step "build (STM32F407 full, M4F smoke, M3 smoke, M4F small full)"
cargo clippy --release --features f407 -- -D warnings
cargo build --release --features f407
cp "$M4_ELF" "$F407_ELF"
cargo build --release --features smoke
cp "$M4_ELF" "$M4_SMOKE_ELF"
cargo build --release --features smoke --target thumbv7m-none-eabi
cargo build --release
size "$M4_ELF" "$M3_ELF" "$F407_ELF"

step "no reachable panic in one EGD training step (link-time proof)"
# The `nopanic` binary's panic handler calls an undefined symbol: it links
# only if no panic path survives in one training step (gradient + EGD step).
for features in nopanic nopanic,f407; do
  if cargo build --release --features "$features" --bin nopanic 2>"$LOG/nopanic.txt"; then
    echo "nopanic ($features): linked, no reachable panic"
  else
    cat "$LOG/nopanic.txt" >&2
    echo "nopanic ($features): a panic path is reachable from the EGD training step" >&2
    exit 1
  fi
done
NOPANIC=proved

step "Cortex-M4F, small configuration: EGD until it groks stably, then SGD for the same steps"
timeout 300 cargo run --release | tee "$LOG/m4.txt"

step "Cortex-M4F, STM32F407 configuration (p = 47, 663 test examples): EGD until it groks stably, then SGD"
timeout 1200 qemu-system-arm -cpu cortex-m4 -machine mps2-an386 -nographic \
  -semihosting-config enable=on,target=native -icount shift=7 \
  -kernel "$F407_ELF" | tee "$LOG/f407.txt"

step "Cortex-M3 (no FPU): 3-epoch smoke run, compared with the M4F bit for bit"
timeout 240 cargo run --release --features smoke --target thumbv7m-none-eabi | tee "$LOG/m3-smoke.txt"
timeout 60 qemu-system-arm -cpu cortex-m4 -machine mps2-an386 -nographic \
  -semihosting-config enable=on,target=native -icount shift=7 \
  -kernel "$M4_SMOKE_ELF" > "$LOG/m4-smoke.txt"
# Training curves must be identical: f32 soft-float (M3) and FPU (M4F) give
# the same bits, because egd-core fixes the operation order and uses libm.
if ! diff <(grep -E '^(egd|sgd) ' "$LOG/m4-smoke.txt") <(grep -E '^(egd|sgd) ' "$LOG/m3-smoke.txt"); then
  echo "M3 and M4F training curves differ" >&2
  exit 1
fi
echo "M3 and M4F smoke curves identical"

step "results"
grep '^RESULT' "$LOG/m4.txt"
grep '^RESULT' "$LOG/f407.txt"
grep '^RESULT' "$LOG/m3-smoke.txt"
echo "RESULT_NOPANIC ${NOPANIC}"
