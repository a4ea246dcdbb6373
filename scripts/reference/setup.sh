#!/usr/bin/env bash
# Creates the reference's Python environment: a venv under target/reference-venv
# with JAX (CPU wheels from PyPI) at the version the README's figures used.
# Idempotent; prints the venv's python path on its last line.
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=target/reference-venv
jax_version=${JAX_VERSION:-0.10.2}
if ! "$venv/bin/python" -c "import jax, sys; sys.exit(jax.__version__ != '$jax_version')" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --upgrade pip
  "$venv/bin/pip" install --quiet "jax[cpu]==$jax_version"
fi
echo "$PWD/$venv/bin/python"
