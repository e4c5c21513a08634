#!/usr/bin/env bash
# Installs quorumnet as a user would, from packed tarballs, with --ignore-scripts and no cargo or C
# compiler on PATH, and checks what the user gets:
#   1. the main package + the linux-x64-gnu platform package: the native backend loads from the
#      platform package, the demo runs, and the README's two-node example (zstd channel) works;
#   2. the main package alone: the TypeScript fallback loads, says so once, and passes the same checks.
# Run from the repository root after `npm install` (CI calls it from .ci/run). Linux x64 glibc only.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
say() { printf 'pack-check: %s\n' "$*"; }

# --- build and pack ------------------------------------------------------------------------------
say "building the linux-x64-gnu addon (napi build --platform)"
npx napi build --platform --release --target x86_64-unknown-linux-gnu \
  --manifest-path native/Cargo.toml --package-json-path package.json \
  --package quorumnet-native --output-dir "$work/artifacts" >"$work/build.log" 2>&1 || { tail -30 "$work/build.log"; exit 1; }
# napi artifacts works inside one project and wants every configured target: a copy of package.json
# (narrowed to the one target built here) and npm/ in the scratch directory
cp -r npm package.json "$work/"
node -e '
  const fs = require("node:fs"), p = process.argv[1], pkg = JSON.parse(fs.readFileSync(p, "utf8"))
  pkg.napi.targets = ["x86_64-unknown-linux-gnu"]
  fs.writeFileSync(p, JSON.stringify(pkg, null, 2))' "$work/package.json"
npx napi artifacts --cwd "$work" --package-json-path package.json --npm-dir npm --output-dir artifacts \
  >"$work/artifacts.log" 2>&1 || { cat "$work/artifacts.log"; exit 1; }
test -f "$work/npm/linux-x64-gnu/quorumnet.linux-x64-gnu.node"
mkdir "$work/tarballs"
(cd "$work/npm/linux-x64-gnu" && npm pack --silent --pack-destination "$work/tarballs" >/dev/null)
npm pack --silent --pack-destination "$work/tarballs" >"$work/pack.log" 2>&1 || { tail -30 "$work/pack.log"; exit 1; }
main_tgz=$(ls "$work"/tarballs/quorumnet-[0-9]*.tgz)
platform_tgz=$(ls "$work"/tarballs/quorumnet-linux-x64-gnu-*.tgz)
if tar tzf "$main_tgz" | grep -q '\.node$'; then say "the main tarball must not carry an addon"; exit 1; fi
say "packed $(basename "$main_tgz") ($(du -k "$main_tgz" | cut -f1) KiB) and $(basename "$platform_tgz") ($(du -k "$platform_tgz" | cut -f1) KiB)"

# The README's two-node example (the ```ts block that registers a zstd channel), as plain JavaScript.
node --input-type=module - "$work/readme-example.mjs" "$work/readme-expected.txt" <<'EOF'
import { readFileSync, writeFileSync } from 'node:fs'
import ts from 'typescript'
const [out, expected] = process.argv.slice(2)
const blocks = [...readFileSync('README.md', 'utf8').matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1])
const code = blocks.find((b) => /network\.register\(.*\/\/.*zstd/.test(b))
if (!code) throw new Error('README: no ```ts block registers a zstd channel')
const js = ts.transpileModule(code, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } })
writeFileSync(out, js.outputText)
writeFileSync(expected, [...code.matchAll(/\/\/ -> (.*)$/gm)].map((m) => m[1].trim()).join('\n') + '\n')
EOF

# --- a PATH with node and npm but no cargo and no C compiler -----------------------------------------
shim="$work/bin"
mkdir "$shim"
for tool in node npm npx sh cat cp grep rm sed tail tr timeout; do ln -s "$(readlink -f "$(command -v "$tool")")" "$shim/$tool"; done
nopath="$shim"

# install_into DIR TARBALL...: an empty project with the tarballs installed, scripts disabled
install_into() {
  local dir=$1
  shift
  mkdir -p "$dir"
  (
    cd "$dir"
    export PATH="$nopath"
    for tool in cargo cc gcc c++ clang; do
      if command -v "$tool" >/dev/null; then echo "pack-check: $tool is still on PATH"; exit 1; fi
    done
    printf '{ "name": "pack-check", "version": "1.0.0", "private": true, "type": "module" }\n' >package.json
    npm install --ignore-scripts --no-audit --no-fund "$@" >"$dir.install.log" 2>&1 || { tail -30 "$dir.install.log"; exit 1; }
  )
}

# check DIR BACKEND: the backend loads (and says so), the demo runs, the README example prints its lines
check() {
  local dir=$1 want=$2
  (
    cd "$dir"
    export PATH="$nopath"
    unset P2P_NATIVE P2P_ZSTD
    node --input-type=module -e "const q = await import('quorumnet'); console.log(q.backend)" >"$dir.backend.out" 2>"$dir.backend.err"
    got=$(cat "$dir.backend.out")
    warned=$(grep -c 'native addon not available' "$dir.backend.err" || true)
    say "[$want] import('quorumnet') -> backend $got; fallback warnings: $warned"
    [ "$got" = "$want" ] || { cat "$dir.backend.err"; exit 1; }
    if [ "$want" = js ]; then [ "$warned" = 1 ]; else [ "$warned" = 0 ]; fi
    npx --no-install quorumnet doctor >"$dir.doctor.out" 2>&1 || { cat "$dir.doctor.out"; exit 1; }
    sed 's/^/    /' "$dir.doctor.out"
    if [ "$want" = native ]; then
      grep -q "node_modules/quorumnet-linux-x64-gnu/quorumnet.linux-x64-gnu.node (platform package)" "$dir.doctor.out"
    else
      grep -q '^zstd *wasm' "$dir.doctor.out"
    fi
    timeout 60 npx --no-install quorumnet demo --seconds 3 --base-port 47300 >"$dir.demo.out" 2>&1 || { tail -30 "$dir.demo.out"; exit 1; }
    say "[$want] demo: $(grep -iE 'every node|reached|pass|fail' "$dir.demo.out" | tail -1)"
    cp "$work/readme-example.mjs" readme-example.mjs
    timeout 60 node readme-example.mjs >"$dir.readme.out" 2>&1 || { cat "$dir.readme.out"; exit 1; }
    node -e '
      const fs = require("node:fs")
      const lines = fs.readFileSync(process.argv[1], "utf8").split("\n").map((l) => l.trim())
      let at = 0
      for (const want of fs.readFileSync(process.argv[2], "utf8").trim().split("\n")) {
        const found = lines.indexOf(want, at)
        if (found < 0) { console.error(`README example: expected "${want}" in:\n${lines.join("\n")}`); process.exit(1) }
        at = found + 1
      }' "$dir.readme.out" "$work/readme-expected.txt"
    say "[$want] README two-node example (zstd channel): $(tr '\n' '|' <"$work/readme-expected.txt")"
    # zstd-napi is optional and loaded only by the fallback's zstd: without it the package still loads.
    rm -rf node_modules/zstd-napi
    force=$([ "$want" = native ] && echo 1 || echo 0)
    got=$(P2P_NATIVE=$force node --input-type=module -e "
      const q = await import('quorumnet')
      console.log(q.backend, q.loadReport().zstd.engine)")
    say "[$want] without zstd-napi, P2P_NATIVE=$force: backend and zstd $got"
    [ "$got" = "$want $([ "$want" = native ] && echo rust || echo wasm)" ]
  )
}

say "install: main + linux-x64-gnu tarballs, --ignore-scripts, no cargo/cc on PATH"
install_into "$work/with-platform" "$main_tgz" "$platform_tgz"
check "$work/with-platform" native

say "install: main tarball alone, --ignore-scripts, no cargo/cc on PATH"
install_into "$work/main-only" "$main_tgz"
check "$work/main-only" js
say "ok"
