#!/usr/bin/env bash
# 云浮市住房公积金管理中心's own system in `liandong demo`: no Python at all, only curl and jq
# talking plain HTTP to the centre's gateway (docs/gateway.md). It reads the inbox one item at a
# time from a cursor and answers each notice with a result, which the gateway builds into a
# sealed receipt (协助执行结果回执): a housing-fund query with the centre's fund record, a freeze
# as executed (公积金冻结, 004 art. 29), a release as released (001 art. 21). Other documents
# (a case-completed notice, ...) take no result and are only read.
#
# Environment: GATEWAY (http://127.0.0.1:PORT), TOKEN (scopes read and answer), POLL (seconds
# between two looks at an empty inbox, default 0.3). Stops on SIGTERM.
set -u
: "${GATEWAY:?set GATEWAY to the base URL of the gateway}" "${TOKEN:?set TOKEN to a token with the read and answer scopes}"
POLL="${POLL:-0.3}"
AUTH="Authorization: Bearer $TOKEN"
BODY=$(mktemp)
trap 'rm -f "$BODY"; exit 0' TERM INT

result_for() {  # $1: an inbox item (JSON) -> the result to POST, or nothing when it takes none
  jq -c '
    def fund_record:
      {Account: {AccountNumber: "445300100018832", HolderName: "陈国强"},
       Balance: {Value: "32150.00", Currency: "CNY"}, Status: "正常缴存"};
    if (.type | IN("AssistanceNotice", "QueryNotice", "ReleaseNotice")) | not then empty
    else {Results: [.items[]
      | if .kind == "Query" then {QueryId: .item, Status: "Found", Records: [fund_record]}
        elif .kind == "Release" then {ReleaseId: .item, Status: "Released"}
        else {MeasureId: .item, Status: "Executed"} end],
      Remark: "住房公积金管理中心已按通知办理。"}
    end' <<<"$1"
}

cursor=0
while true; do
  # one item per page: the cursor moves past an item only once it is answered (or refused)
  status=$(curl -sS -o "$BODY" -w '%{http_code}' -H "$AUTH" "$GATEWAY/v1/inbox?cursor=$cursor&limit=1") || status=000
  if [ "$status" != 200 ] || [ "$(jq '.items | length' "$BODY")" = 0 ]; then
    sleep "$POLL"
    continue
  fi
  item=$(jq -c '.items[0]' "$BODY")
  next=$(jq -r '.next_cursor' "$BODY")
  id=$(jq -r '.document_id' <<<"$item")
  type=$(jq -r '.type' <<<"$item")
  result=$(result_for "$item")
  if [ -n "$result" ]; then
    # posting the same result again returns the same receipt: a retry after a lost answer is safe
    status=$(curl -sS -o "$BODY" -w '%{http_code}' -X POST -H "$AUTH" -H "Content-Type: application/json" \
             --data-binary "$result" "$GATEWAY/v1/inbox/$id/result") || status=000
    case "$status" in
      202) echo "answered $type $id: receipt $(jq -r '.receipt_id' "$BODY")" ;;
      4??) echo "refused $type $id: $(jq -c '[.problems[].code]' "$BODY")" >&2 ;;  # will not get better
      *) sleep "$POLL"; continue ;;  # the gateway down or busy: the same item again
    esac
  else
    echo "read $type $id"
  fi
  cursor=$next
done
