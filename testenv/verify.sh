#!/usr/bin/env bash
# testenv/verify.sh — end-to-end smoke checks against the stack testenv/openstack.sh
# started, with curl + jq only (adapted from the realstack recipe, plus boot from
# volume, resize, volume extend/snapshot, router gateway and floating IPs).
# Cleans up what it creates. Ends with "verify: N passed, N failed"; on failure
# prints the log tails of the services whose checks failed and exits non-zero.
# HYBRID_TESTENV_SAMPLES=<dir> saves sample JSON responses there.
set -uo pipefail
RS="${HYBRID_TESTENV_DIR:-/tmp/hybrid-testenv/openstack}"
ADMIN_PASS="${HYBRID_TESTENV_ADMIN_PASS:-admin}"
DEMO_PASS="${HYBRID_TESTENV_DEMO_PASS:-demo}"
SAMPLES="${HYBRID_TESTENV_SAMPLES:-}"
H=127.0.0.1
KS="http://$H:5000"; NOVA="http://$H:8774/v2.1"; GLANCE="http://$H:9292"
NEUTRON="http://$H:9696/v2.0"; PLACEMENT="http://$H:8778"
export NO_PROXY="127.0.0.1,localhost" no_proxy="127.0.0.1,localhost"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY || true
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
PASS=0; FAIL=0; FAILED_SVCS=()
T0=${EPOCHREALTIME/./}
el() { local d=$(( ${EPOCHREALTIME/./} - $1 )); printf '%d.%02d' $((d / 1000000)) $(( (d % 1000000) / 10000 )); }
now() { echo "${EPOCHREALTIME/./}"; }
ok()  { PASS=$((PASS + 1)); echo "PASS  $*"; }
bad() { local s=$1; shift; FAIL=$((FAIL + 1)); FAILED_SVCS+=("$s"); echo "FAIL  [$s] $*"; }
save() { if [[ -n "$SAMPLES" ]]; then mkdir -p "$SAMPLES"; jq . > "$SAMPLES/$1.json"; else cat > /dev/null; fi; }
uuid() { [[ "$1" =~ ^[0-9a-f-]{36}$ ]]; }

auth() { # user password project -> headers in $TMP/h.$1, body in $TMP/b.$1
  local body
  body=$(jq -n --arg u "$1" --arg p "$2" --arg pr "$3" '{auth:{identity:{methods:["password"],password:{user:{name:$u,domain:{id:"default"},password:$p}}},scope:{project:{name:$pr,domain:{id:"default"}}}}}')
  curl -s -D "$TMP/h.$1" -o "$TMP/b.$1" -X POST "$KS/v3/auth/tokens" -H 'Content-Type: application/json' -d "$body"
  awk 'tolower($1)=="x-subject-token:"{print $2}' "$TMP/h.$1" | tr -d '\r'
}

# ---------------------------------------------------------------- keystone
TOKEN=$(auth admin "$ADMIN_PASS" admin)
if [[ -n "$TOKEN" ]] && jq -e '.token.catalog|length>=6' "$TMP/b.admin" >/dev/null; then
  ok "keystone: admin token with catalog ($(jq '.token.catalog|length' "$TMP/b.admin") entries)"
else bad keystone "admin token issue"; echo "verify: 0 passed, 1 failed"; exit 1; fi
save token_issue < "$TMP/b.admin"
PROJECT_ID=$(jq -r .token.project.id "$TMP/b.admin")
DTOKEN=$(auth demo "$DEMO_PASS" demo)
[[ -n "$DTOKEN" ]] && ok "keystone: demo token" || bad keystone "demo token issue"
A=(-H "X-Auth-Token: $TOKEN")
J=(-H 'Content-Type: application/json')
c() { curl -s --max-time 60 "${A[@]}" "$@"; }
code_of() { c -o /dev/null -w '%{http_code}' "$@"; }
[[ $(code_of "$KS/v3/auth/tokens" -H "X-Subject-Token: $TOKEN") == 200 ]] && ok "keystone: token validate" || bad keystone "token validate"
curl -s "$KS/v3" | save version_keystone
c "$KS/v3/auth/catalog" | save catalog

NOVA_MAX=$(curl -s "$NOVA/" | jq -r .version.version)
MV=(-H "OpenStack-API-Version: compute $NOVA_MAX")
CIN_MAX=$(curl -s "http://$H:8776/" | jq -r '.versions[]|select(.id=="v3.0").version')
CV=(-H "OpenStack-API-Version: volume $CIN_MAX")
CINDER="http://$H:8776/v3/$PROJECT_ID"

# ---------------------------------------------------------------- glance
dd if=/dev/urandom of="$TMP/img" bs=1M count=1 status=none
IMG=$(c "${J[@]}" -X POST "$GLANCE/v2/images" \
  -d '{"name":"testenv-verify-image","disk_format":"raw","container_format":"bare","visibility":"public","min_disk":0}' | jq -r .id)
code=$(code_of -X PUT "$GLANCE/v2/images/$IMG/file" -H 'Content-Type: application/octet-stream' --data-binary @"$TMP/img")
[[ "$code" == 204 ]] && ok "glance: image upload (1 MiB)" || bad glance-api "image upload ($code)"
c "$GLANCE/v2/images/$IMG/file" -o "$TMP/img.dl"
cmp -s "$TMP/img" "$TMP/img.dl" && ok "glance: download matches upload" || bad glance-api "image download differs"
[[ "$(c "$GLANCE/v2/images/$IMG" | jq -r .status)" == active ]] && ok "glance: image active" || bad glance-api "image status"

# ---------------------------------------------------------------- neutron
EXT=$(c "$NEUTRON/networks?router:external=true&name=public" | jq -r '.networks[0].id // empty')
uuid "$EXT" && ok "neutron: external network 'public' present" || bad neutron-server "no external network 'public'"
NET=$(c "${J[@]}" -X POST "$NEUTRON/networks" -d '{"network":{"name":"testenv-net"}}' | jq -r .network.id)
SUB=$(c "${J[@]}" -X POST "$NEUTRON/subnets" \
  -d "{\"subnet\":{\"name\":\"testenv-subnet\",\"network_id\":\"$NET\",\"ip_version\":4,\"cidr\":\"10.20.0.0/24\"}}" | jq -r .subnet.id)
uuid "$NET" && uuid "$SUB" && ok "neutron: network + subnet create" || bad neutron-server "network/subnet create"
SG=$(c "${J[@]}" -X POST "$NEUTRON/security-groups" -d '{"security_group":{"name":"testenv-sg","description":"testenv"}}' | jq -r .security_group.id)
RULE=$(c "${J[@]}" -X POST "$NEUTRON/security-group-rules" \
  -d "{\"security_group_rule\":{\"security_group_id\":\"$SG\",\"direction\":\"ingress\",\"protocol\":\"tcp\",\"port_range_min\":22,\"port_range_max\":22,\"remote_ip_prefix\":\"0.0.0.0/0\"}}" | jq -r .security_group_rule.id)
uuid "$RULE" && ok "neutron: security group + rule create" || bad neutron-server "security group + rule"
RTR=$(c "${J[@]}" -X POST "$NEUTRON/routers" -d "{\"router\":{\"name\":\"testenv-router\",\"external_gateway_info\":{\"network_id\":\"$EXT\"}}}" | jq -r .router.id)
GWIP=$(c "$NEUTRON/routers/$RTR" | jq -r '.router.external_gateway_info.external_fixed_ips[0].ip_address // empty')
uuid "$RTR" && [[ -n "$GWIP" ]] && ok "neutron: router with external gateway ($GWIP)" || bad neutron-server "router with gateway"
code=$(code_of "${J[@]}" -X PUT "$NEUTRON/routers/$RTR/add_router_interface" -d "{\"subnet_id\":\"$SUB\"}")
[[ "$code" == 200 ]] && ok "neutron: router interface add" || bad neutron-server "router interface add ($code)"

# ---------------------------------------------------------------- nova
wait_server() { # id status timeout-s -> prints elapsed or the failure
  local t0 s i; t0=$(now)
  for i in $(seq 1 $(( $3 * 4 ))); do
    s=$(c "${MV[@]}" "$NOVA/servers/$1" | jq -r '.server.status // "GONE"')
    [[ "$s" == "$2" ]] && { el "$t0"; return 0; }
    [[ "$s" == ERROR ]] && { echo "ERROR: $(c "${MV[@]}" "$NOVA/servers/$1" | jq -c '.server.fault')"; return 1; }
    sleep 0.25
  done; echo "TIMEOUT(status $s)"; return 1
}
act() { code_of "${MV[@]}" "${J[@]}" -X POST "$NOVA/servers/$1/action" -d "$2"; }
wait_vol() { # id status... -> last status
  local vs i
  for i in $(seq 1 240); do
    vs=$(c "${CV[@]}" "$CINDER/volumes/$1" | jq -r '.volume.status // "GONE"')
    for s in "${@:2}"; do [[ "$vs" == "$s" ]] && { echo "$vs"; return 0; }; done
    [[ "$vs" == error* ]] && break
    sleep 0.25
  done; echo "$vs"; return 1
}
c "${MV[@]}" "$NOVA/flavors/detail" | save flavor_list
flv() { c "$NOVA/flavors" | jq -r --arg n "$1" '.flavors[]|select(.name==$n).id'; }
TINY=$(flv m1.tiny); SMALL=$(flv m1.small)
[[ -n "$TINY" && -n "$SMALL" && -n "$(flv m1.medium)" && -n "$(flv m1.large)" ]] && ok "nova: flavors m1.tiny/small/medium/large" || bad nova-api "flavors missing"

# image-less boot: from a pre-created (fake) Cinder volume, no network
BVOL=$(c "${CV[@]}" "${J[@]}" -X POST "$CINDER/volumes" -d '{"volume":{"name":"testenv-bootvol","size":1}}' | jq -r .volume.id)
vs=$(wait_vol "$BVOL" available) || bad cinder-volume "boot volume: $vs"
code=$(code_of "${CV[@]}" "${J[@]}" -X POST "$CINDER/volumes/$BVOL/action" -d '{"os-set_bootable":{"bootable":true}}')
[[ "$code" == 200 ]] || bad cinder-api "os-set_bootable ($code)"
S1=$(c "${MV[@]}" "${J[@]}" -X POST "$NOVA/servers" -d "{\"server\":{\"name\":\"testenv-bfv\",\"flavorRef\":\"$TINY\",\"networks\":\"none\",\"block_device_mapping_v2\":[{\"boot_index\":0,\"uuid\":\"$BVOL\",\"source_type\":\"volume\",\"destination_type\":\"volume\",\"delete_on_termination\":false}]}}" | tee "$TMP/bfv" | jq -r '.server.id // empty')
if uuid "$S1"; then
  r=$(wait_server "$S1" ACTIVE 120) && ok "nova: image-less boot from volume ACTIVE in ${r}s" || bad nova-compute "boot from volume: $r"
else bad nova-api "boot from volume: $(head -c 300 "$TMP/bfv")"; S1=""; fi

# image boot on a neutron network
S2=$(c "${MV[@]}" "${J[@]}" -X POST "$NOVA/servers" \
  -d "{\"server\":{\"name\":\"testenv-vm\",\"imageRef\":\"$IMG\",\"flavorRef\":\"$TINY\",\"networks\":[{\"uuid\":\"$NET\"}]}}" | jq -r '.server.id // empty')
r=$(wait_server "$S2" ACTIVE 120) && ok "nova: image boot on a network ACTIVE in ${r}s" || bad nova-compute "image boot: $r"
PORT=$(c "$NEUTRON/ports?device_id=$S2" | jq -r '.ports[0].id // empty')
PST=$(c "$NEUTRON/ports/$PORT" | jq -r '.port|"\(.status) vif_type=\(.["binding:vif_type"])"')
[[ "$PST" == ACTIVE* ]] && ok "neutron: server port bound ($PST)" || bad neutron-server "server port: $PST"
c "${MV[@]}" "$NOVA/servers/detail" | save server_list_detail

[[ $(act "$S2" '{"reboot":{"type":"SOFT"}}') == 202 ]] && r=$(wait_server "$S2" ACTIVE 60) \
  && ok "nova: reboot SOFT" || bad nova-compute "reboot: $r"
sleep 1
[[ $(act "$S2" '{"os-stop":null}') == 202 ]] && r=$(wait_server "$S2" SHUTOFF 60) \
  && ok "nova: stop -> SHUTOFF in ${r}s" || bad nova-compute "stop: $r"
[[ $(act "$S2" '{"os-start":null}') == 202 ]] && r=$(wait_server "$S2" ACTIVE 60) \
  && ok "nova: start -> ACTIVE in ${r}s" || bad nova-compute "start: $r"
# resize m1.tiny -> m1.small on the one (fake) host, then confirm
if [[ $(act "$S2" "{\"resize\":{\"flavorRef\":\"$SMALL\"}}") == 202 ]] && r=$(wait_server "$S2" VERIFY_RESIZE 120); then
  [[ $(act "$S2" '{"confirmResize":null}') == 204 ]] && r=$(wait_server "$S2" ACTIVE 60) \
    && [[ "$(c "${MV[@]}" "$NOVA/servers/$S2" | jq -r .server.flavor.original_name)" == m1.small ]] \
    && ok "nova: resize m1.tiny -> m1.small + confirm" || bad nova-compute "resize confirm: $r"
else bad nova-compute "resize: $r"; fi

# floating IP on the server's port (through the router)
FIP=$(c "${J[@]}" -X POST "$NEUTRON/floatingips" -d "{\"floatingip\":{\"floating_network_id\":\"$EXT\",\"port_id\":\"$PORT\"}}" | jq -r '.floatingip.id // empty')
FJ=$(c "$NEUTRON/floatingips/$FIP" | jq -c '.floatingip|{floating_ip_address,fixed_ip_address,status,router_id}')
[[ "$(jq -r .fixed_ip_address <<< "$FJ" 2>/dev/null)" == 10.20.0.* ]] && ok "neutron: floating IP associated $FJ" || bad neutron-server "floating ip: $FJ"
code=$(code_of "${J[@]}" -X PUT "$NEUTRON/floatingips/$FIP" -d '{"floatingip":{"port_id":null}}')
[[ "$code" == 200 ]] && ok "neutron: floating IP disassociate" || bad neutron-server "floating ip disassociate ($code)"

# ---------------------------------------------------------------- cinder
VOL=$(c "${CV[@]}" "${J[@]}" -X POST "$CINDER/volumes" -d '{"volume":{"name":"testenv-vol","size":1}}' | jq -r .volume.id)
t0=$(now); vs=$(wait_vol "$VOL" available) && ok "cinder: volume available in $(el "$t0")s" || bad cinder-volume "volume create: $vs"
code=$(code_of "${CV[@]}" "${J[@]}" -X POST "$CINDER/volumes/$VOL/action" -d '{"os-extend":{"new_size":2}}')
sleep 0.5; vs=$(wait_vol "$VOL" available)
[[ "$code" == 202 && "$(c "${CV[@]}" "$CINDER/volumes/$VOL" | jq -r .volume.size)" == 2 ]] && ok "cinder: extend 1 -> 2 GiB" || bad cinder-volume "extend ($code, $vs)"
SNAP=$(c "${CV[@]}" "${J[@]}" -X POST "$CINDER/snapshots" -d "{\"snapshot\":{\"volume_id\":\"$VOL\",\"name\":\"testenv-snap\"}}" | jq -r .snapshot.id)
ss=""; for i in $(seq 1 120); do ss=$(c "${CV[@]}" "$CINDER/snapshots/$SNAP" | jq -r .snapshot.status); [[ "$ss" == available || "$ss" == error ]] && break; sleep 0.25; done
[[ "$ss" == available ]] && ok "cinder: snapshot available" || bad cinder-volume "snapshot: $ss"
c "${CV[@]}" -X DELETE "$CINDER/snapshots/$SNAP" -o /dev/null
for i in $(seq 1 120); do [[ $(code_of "${CV[@]}" "$CINDER/snapshots/$SNAP") == 404 ]] && break; sleep 0.25; done
code=$(code_of "${MV[@]}" "${J[@]}" -X POST "$NOVA/servers/$S2/os-volume_attachments" -d "{\"volumeAttachment\":{\"volumeId\":\"$VOL\"}}")
vs=$(wait_vol "$VOL" in-use) && ok "cinder+nova: volume attach -> in-use" || bad nova-compute "attach ($code, $vs)"
code=$(code_of "${CV[@]}" "${J[@]}" -X POST "$CINDER/volumes/$VOL/action" -d '{"os-extend":{"new_size":3}}')
sleep 0.5; vs=$(wait_vol "$VOL" in-use)
[[ "$code" == 202 && "$(c "${CV[@]}" "$CINDER/volumes/$VOL" | jq -r .volume.size)" == 3 ]] && ok "cinder+nova: extend attached volume 2 -> 3 GiB" || bad cinder-volume "in-use extend ($code, $vs)"
c "${MV[@]}" -X DELETE "$NOVA/servers/$S2/os-volume_attachments/$VOL" -o /dev/null
vs=$(wait_vol "$VOL" available) && ok "cinder+nova: volume detach -> available" || bad nova-compute "detach ($vs)"
c "${CV[@]}" "$CINDER/volumes/detail" | save volume_list_detail

# ---------------------------------------------------------------- cleanup
c -X DELETE "$NEUTRON/floatingips/$FIP" -o /dev/null
for s in $S1 $S2; do
  c "${MV[@]}" -X DELETE "$NOVA/servers/$s" -o /dev/null
  r=$(wait_server "$s" GONE 60) && ok "nova: server delete" || bad nova-compute "server delete $s: $r"
done
for v in $VOL $BVOL; do
  wait_vol "$v" available >/dev/null
  c "${CV[@]}" -X DELETE "$CINDER/volumes/$v" -o /dev/null
  vs=$(wait_vol "$v" GONE) && ok "cinder: volume delete" || bad cinder-volume "volume delete ($vs)"
done
c "${J[@]}" -X PUT "$NEUTRON/routers/$RTR/remove_router_interface" -d "{\"subnet_id\":\"$SUB\"}" -o /dev/null
code=$(code_of -X DELETE "$NEUTRON/routers/$RTR")
[[ "$code" == 204 ]] && ok "neutron: router delete" || bad neutron-server "router delete ($code)"
c -X DELETE "$NEUTRON/security-groups/$SG" -o /dev/null
for i in $(seq 1 20); do  # Nova unbinds/deletes server ports asynchronously
  code=$(code_of -X DELETE "$NEUTRON/networks/$NET"); [[ "$code" == 409 ]] || break; sleep 0.5
done
[[ "$code" == 204 ]] && ok "neutron: network delete" \
  || bad neutron-server "network delete ($code; ports left: $(c "$NEUTRON/ports?network_id=$NET" | jq -c '[.ports[]|{device_owner,device_id}]'))"
code=$(code_of -X DELETE "$GLANCE/v2/images/$IMG")
[[ "$code" == 204 ]] && ok "glance: image delete" || bad glance-api "image delete ($code)"

echo "versions: keystone $(curl -s "$KS/v3" | jq -r .version.id), nova 2.1-$NOVA_MAX, cinder 3.0-$CIN_MAX," \
     "placement 1.0-$(curl -s "$PLACEMENT/" | jq -r '.versions[0].max_version'), glance $(curl -s "$GLANCE/versions" | jq -r '[.versions[]|select(.status=="CURRENT").id]|join(",")')"
echo "verify: $PASS passed, $FAIL failed ($(el "$T0") s)"
if ((FAIL)); then
  for s in $(printf '%s\n' "${FAILED_SVCS[@]}" | sort -u); do
    for f in "$RS/log/$s.log" "$RS/log/$s.out"; do
      [[ -s "$f" ]] || continue
      printf '\n----- last 40 lines of %s -----\n' "$f"; tail -n 40 "$f"
    done
  done
  exit 1
fi
