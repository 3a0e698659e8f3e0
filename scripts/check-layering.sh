#!/usr/bin/env bash
# Enforces the dependency direction of docs/ARCHITECTURE.md on #include lines:
#   gateway -> {consent, policies, crypto, adapters}; adapters -> {consent, policies, crypto};
#   consent -> {policies, crypto}; policies -> crypto; crypto -> (libsodium, OpenSSL only).
# No module below gateway includes Poco/Net.
set -u
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$root" || exit 2
fail=0
check() {  # module, allowed modules (regex alternation)
  local module=$1 allowed=$2
  while IFS= read -r line; do
    echo "layering: $line: $module may include only: $allowed"
    fail=1
  done < <(grep -nE '^#include "(gateway|adapters|consent|policies|crypto)/' -r "$module" \
             --include='*.h' --include='*.cc' | grep -vE "#include \"($module|$allowed)/")
}
check crypto crypto
check policies crypto
check consent 'policies|crypto'
check adapters 'consent|policies|crypto'
for m in crypto policies consent adapters; do
  if grep -rnE '#include <Poco/Net/' "$m" --include='*.h' --include='*.cc'; then
    echo "layering: $m includes Poco::Net (only gateway/ may)"; fail=1
  fi
done
if grep -rnE '#include <(Poco|sodium|openssl)' crypto policies consent --include='*.h' | grep -v '^crypto/.*sodium'; then
  echo "layering: a public header above pulls a heavy third-party header (keep them in .cc files)"
fi
[ $fail -eq 0 ] && echo "layering: ok"
exit $fail
