#!/bin/sh
# Rebuilds the sample objects from their C sources with Debian's clang (clang-14):
#   samples/build.sh
set -eu
cd "$(dirname "$0")"
for src in *.c; do
  clang -O2 -g -target bpf -I/usr/include/x86_64-linux-gnu -fdebug-prefix-map="$PWD"=. -c "$src" -o "${src%.c}.o"
done
