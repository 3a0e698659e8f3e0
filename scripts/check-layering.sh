#!/usr/bin/env bash
# Enforces the dependency direction of docs/ARCHITECTURE.md on #include lines. Each folder is a
# module; a module may include only the modules listed for it (and itself):
#   crypto <- policies <- consent <- adapters (stores.h) <- adapters/{sqlite,postgres,formats,testing}
#   gateway: identity <- http <- audit <- disclosure <- {audit_api, exchange, reports}
#            <- consent_api <- app <- portal <- cli
# Also: only gateway/http includes Poco/Net; only gateway/cli/serve.cc reaches the composition
# root (gateway/app/gateway.h); no SQL outside adapters/sqlite and adapters/postgres.
set -u
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$root" || exit 2
fail=0

# The module an include path or a file belongs to: the folder, one level deeper under gateway/
# and adapters/ ("adapters" alone is the store interfaces at its root).
module_of() {
  case "$1" in
    gateway/*/*) echo "$1" | cut -d/ -f1-2 ;;
    adapters/*/*) echo "$1" | cut -d/ -f1-2 ;;
    *) echo "$1" | cut -d/ -f1 ;;
  esac
}

base='crypto'
declare -A allowed=(
  [crypto]=''
  [policies]='crypto'
  [consent]='policies crypto'
  [adapters]='consent policies crypto'
  [adapters/sqlite]='adapters consent policies crypto'
  [adapters/postgres]='adapters consent policies crypto'
  [adapters/formats]='consent policies crypto'
  [adapters/testing]='adapters consent policies crypto'
  [gateway/identity]='adapters policies crypto'
  [gateway/http]='gateway/identity policies crypto'
  [gateway/audit]='gateway/http gateway/identity adapters policies crypto'
  [gateway/disclosure]='gateway/audit gateway/http gateway/identity adapters consent policies crypto'
  [gateway/audit_api]='gateway/disclosure gateway/audit gateway/http gateway/identity adapters consent policies crypto'
  [gateway/exchange]='gateway/disclosure gateway/audit gateway/http gateway/identity adapters consent policies crypto'
  [gateway/reports]='gateway/disclosure gateway/audit gateway/http gateway/identity adapters consent policies crypto'
  [gateway/consent_api]='gateway/exchange gateway/disclosure gateway/audit gateway/http gateway/identity adapters adapters/formats consent policies crypto'
  [gateway/app]='gateway/consent_api gateway/audit_api gateway/exchange gateway/reports gateway/disclosure gateway/audit gateway/http gateway/identity adapters consent policies crypto'
  [gateway/portal]='gateway/app gateway/audit gateway/http gateway/identity adapters adapters/formats consent policies crypto'
  [gateway/cli]='gateway/portal gateway/app gateway/consent_api gateway/audit_api gateway/exchange gateway/reports gateway/disclosure gateway/audit gateway/http gateway/identity adapters adapters/formats consent policies crypto'
)
: "$base"

while IFS= read -r file; do
  from=$(module_of "$file")
  [ -n "${allowed[$from]+x}" ] || { echo "layering: $file: folder $from is not a known module"; fail=1; continue; }
  while IFS= read -r inc; do
    target=$(module_of "$inc")
    [ "$target" = "$from" ] && continue
    ok=0
    for m in ${allowed[$from]}; do [ "$m" = "$target" ] && ok=1; done
    if [ $ok -eq 0 ]; then
      echo "layering: $file includes $inc: $from may include only: ${allowed[$from]:-(nothing)}"
      fail=1
    fi
  done < <(sed -nE 's/^#include "((gateway|adapters|consent|policies|crypto)\/[^"]+)".*/\1/p' "$file")
done < <(git ls-files -co --exclude-standard -- 'crypto/*' 'policies/*' 'consent/*' 'adapters/*' 'gateway/*' \
           | grep -E '\.(h|cc)$')

# Only the HTTP edges speak Poco::Net: the gateway's (gateway/http) and the portal's own
# loopback web app (gateway/portal).
if grep -rlE '#include <Poco/Net/' crypto policies consent adapters gateway --include='*.h' --include='*.cc' \
    | grep -vE '^gateway/(http|portal)/'; then
  echo "layering: the files above include Poco::Net (only gateway/http/ and gateway/portal/ may)"; fail=1
fi
# Only `brug serve` reaches the composition root.
if grep -rl '#include "gateway/app/gateway.h"' gateway --include='*.h' --include='*.cc' \
    | grep -vE '^gateway/(cli/serve\.cc|app/gateway\.cc)$'; then
  echo "layering: the files above include gateway/app/gateway.h (only gateway/cli/serve.cc may)"; fail=1
fi
# SQL lives in adapters/sqlite and adapters/postgres only.
# (The portal's local copy is the organisation's own file, not the gateway's stores.)
if grep -rnE '"(SELECT|INSERT|UPDATE|DELETE|CREATE) |\btx\.(query|exec)\(' gateway --include='*.h' --include='*.cc' \
    | grep -v '^gateway/portal/local_store\.cc:'; then
  echo "layering: SQL in gateway/ (it belongs in adapters/sqlite/ or adapters/postgres/)"; fail=1
fi
if grep -rnE '#include <(Poco|sodium|openssl)' crypto policies consent --include='*.h' | grep -v '^crypto/.*sodium'; then
  echo "layering: a public header above pulls a heavy third-party header (keep them in .cc files)"
fi
[ $fail -eq 0 ] && echo "layering: ok"
exit $fail
