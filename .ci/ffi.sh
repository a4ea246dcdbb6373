#!/usr/bin/env bash
# egd-ffi CI: formats, lints and unit-tests the C-API crate, checks the
# hand-written header egd-ffi/include/egd.h against the Rust side (status
# codes, exported functions, struct sizes), runs the host C test with
# Debian's gcc, and builds the C firmware example with gcc-arm-none-eabi and
# runs it under QEMU (Cortex-M4F, mps2-an386): it must grok. Self-sufficient;
# called by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/../egd-ffi"

step() { printf '\n=== ffi: %s\n' "$*"; }
trap 'echo "FFI CI FAILED at: ${BASH_COMMAND}" >&2' ERR
unset RUSTFLAGS CARGO_ENCODED_RUSTFLAGS

step "tools"
rustup target add thumbv7em-none-eabihf
need=()
command -v gcc >/dev/null || need+=(gcc libc6-dev)
command -v arm-none-eabi-gcc >/dev/null || need+=(gcc-arm-none-eabi)
command -v qemu-system-arm >/dev/null || need+=(qemu-system-arm)
if ((${#need[@]})); then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
gcc --version | head -n1
arm-none-eabi-gcc --version | head -n1

step "format, clippy, unit tests (host)"
cargo fmt --check
cargo clippy --release --all-targets -- -D warnings
cargo test --release

step "build libegd_ffi.a (host and Cortex-M4F)"
cargo build --release
cargo build --release --target thumbv7em-none-eabihf
HOST_LIB=target/release/libegd_ffi.a
M4_LIB=target/thumbv7em-none-eabihf/release/libegd_ffi.a

step "header matches the Rust side"
H=include/egd.h
bad=0
# every status constant, with the same value
while read -r name value; do
  if [ "$name" = OK ]; then macro=EGD_OK; want="$value"; else macro="EGD_ERR_$name"; want="($value)"; fi
  if ! awk -v m="$macro" -v w="$want" '$1=="#define" && $2==m && $3==w {f=1} END {exit !f}' "$H"; then
    echo "egd.h: missing or wrong '#define ${macro} ${want}'" >&2; bad=1
  fi
done < <(sed -nE 's/^pub const ([A-Z_]+): Status = (-?[0-9]+);/\1 \2/p' src/status.rs)
# every exported function has a prototype, and the header declares no other
rust_fns=$(sed -nE 's/^pub (unsafe )?extern "C" fn (egd_[a-z_]+)\(.*/\2/p' src/ffi.rs | sort)
header_fns=$(grep -oE '\b(egd_[a-z_]+)\(' "$H" | tr -d '(' | grep -v '^egd_status$' | sort -u)
if [ "$rust_fns" != "$header_fns" ]; then
  echo "exported functions and egd.h prototypes differ:" >&2
  diff <(echo "$rust_fns") <(echo "$header_fns") >&2 || true
  bad=1
fi
# and the library exports exactly those
lib_fns=$(nm -g --defined-only "$HOST_LIB" 2>/dev/null | awk '$2=="T" && $3 ~ /^egd_/ {print $3}' | sort -u)
if [ "$rust_fns" != "$lib_fns" ]; then
  echo "libegd_ffi.a exports differ from src/ffi.rs" >&2; bad=1
fi
[ "$bad" = 0 ]
echo "egd.h: $(echo "$rust_fns" | wc -l) functions and $(grep -c '^pub const' src/status.rs) status codes match"

step "no reachable panic (the libraries link only without one)"
for lib in "$HOST_LIB" "$M4_LIB"; do
  if nm "$lib" 2>/dev/null | grep -q ' U egd_ffi_panic_is_reachable'; then
    echo "$lib: a panic path survived (egd_ffi_panic_is_reachable is referenced)" >&2
    exit 1
  fi
done
echo "no panic path in either library"

step "host C test (gcc)"
gcc -std=c11 -Wall -Wextra -Werror -O2 -Iinclude tests/c/host_test.c "$HOST_LIB" -lm \
  -o target/host_test
./target/host_test

step "C firmware example (gcc-arm-none-eabi, Cortex-M4F under QEMU)"
ELF=target/c-firmware.elf
arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16 \
  -std=c11 -O2 -Wall -Wextra -Werror -ffreestanding -nostdlib \
  -ffunction-sections -fdata-sections -Iinclude -Iexamples/c-firmware \
  -T examples/c-firmware/link.ld -Wl,--gc-sections -Wl,-z,noexecstack -o "$ELF" \
  examples/c-firmware/main.c examples/c-firmware/startup.c "$M4_LIB" -lgcc
arm-none-eabi-size "$ELF"
timeout 900 qemu-system-arm -cpu cortex-m4 -machine mps2-an386 -nographic \
  -semihosting-config enable=on,target=native -icount shift=7 -kernel "$ELF" 2>&1 \
  | tee target/c-firmware.txt   # SYS_WRITE0 output arrives on QEMU's stderr

step "results"
grep '^RESULT' target/c-firmware.txt
