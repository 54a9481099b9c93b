#!/usr/bin/env bash
# Creates a CA and a serving certificate for the webhook Service, for
# `helm install ... --set certificates.source=secret` or any hand-made install.
#
#   certs/make-certs.sh [--service NAME] [--namespace NS] [--secret NAME] [--out DIR]
#                       [--days N] [--dev] [--force]
#
#   --service    Service name the API server calls (default: gracekeeper)
#   --namespace  its namespace (default: gracekeeper)
#   --secret     name of the TLS Secret in the printed commands (default: <service>-serving)
#   --out        output folder (default: certs/out, git-ignored); keys are written mode 600
#   --days       validity of both certificates (default: 825)
#   --dev        also put localhost, 127.0.0.1 and ::1 in the SANs (a webhook run on this machine)
#   --force      make a new CA too; without it an existing ca.crt/ca.key in --out is reused,
#                so reissuing the serving certificate keeps the caBundle
#
# SANs: <service>, <service>.<ns>, <service>.<ns>.svc, <service>.<ns>.svc.cluster.local.
# Writes ca.crt, ca.key, tls.crt, tls.key; prints the base64 caBundle and the commands to use them.
set -euo pipefail

usage() { sed -n '2,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
die() { echo "make-certs: $*" >&2; exit 2; }

service="gracekeeper"
namespace="gracekeeper"
secret=""
out="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/out"
days=825
dev=0
force=0

need_value() { [[ $# -ge 2 && -n "$2" && "$2" != --* ]] || die "$1 needs a value"; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --service) need_value "$@"; service="$2"; shift 2 ;;
    --namespace) need_value "$@"; namespace="$2"; shift 2 ;;
    --secret) need_value "$@"; secret="$2"; shift 2 ;;
    --out) need_value "$@"; out="$2"; shift 2 ;;
    --days) need_value "$@"; days="$2"; shift 2 ;;
    --dev) dev=1; shift ;;
    --force) force=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done

dns_label='^[a-z0-9]([-a-z0-9]*[a-z0-9])?$'
[[ "$service" =~ $dns_label && ${#service} -le 63 ]] || die "--service '$service' is not a DNS label (lower case, digits, '-', at most 63)"
[[ "$namespace" =~ $dns_label && ${#namespace} -le 63 ]] || die "--namespace '$namespace' is not a DNS label (lower case, digits, '-', at most 63)"
secret="${secret:-$service-serving}"
[[ "$secret" =~ ^[a-z0-9]([-.a-z0-9]*[a-z0-9])?$ ]] || die "--secret '$secret' is not a valid Secret name"
[[ "$days" =~ ^[1-9][0-9]*$ ]] || die "--days '$days' is not a positive whole number"
command -v openssl >/dev/null || { echo "make-certs: 'openssl' is not on PATH (apt-get install openssl)" >&2; exit 1; }

mkdir -p "$out"
umask 077
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

fqdn="$service.$namespace.svc"
sans="DNS:$service,DNS:$service.$namespace,DNS:$fqdn,DNS:$fqdn.cluster.local"
if [[ $dev -eq 1 ]]; then sans+=",DNS:localhost,IP:127.0.0.1,IP:::1"; fi

if [[ $force -eq 1 || ! -s "$out/ca.crt" || ! -s "$out/ca.key" ]]; then
  cat > "$work/ca.ext" <<EOF
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
EOF
  openssl ecparam -name prime256v1 -genkey -noout -out "$work/ca.key" 2>/dev/null
  openssl req -new -key "$work/ca.key" -subj "/CN=gracekeeper-webhook-ca" -out "$work/ca.csr"
  openssl x509 -req -in "$work/ca.csr" -signkey "$work/ca.key" -days "$days" -sha256 \
    -extfile "$work/ca.ext" -out "$work/ca.crt" 2>/dev/null
  mv -f "$work/ca.key" "$out/ca.key"
  mv -f "$work/ca.crt" "$out/ca.crt"
  echo "make-certs: new CA in $out/ca.crt" >&2
else
  echo "make-certs: reusing the CA in $out/ca.crt (--force makes a new one)" >&2
fi

cat > "$work/leaf.ext" <<EOF
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = $sans
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
openssl ecparam -name prime256v1 -genkey -noout -out "$work/tls.key" 2>/dev/null
openssl req -new -key "$work/tls.key" -subj "/CN=$fqdn" -out "$work/tls.csr"
openssl x509 -req -in "$work/tls.csr" -CA "$out/ca.crt" -CAkey "$out/ca.key" -CAcreateserial \
  -CAserial "$work/ca.srl" -days "$days" -sha256 -extfile "$work/leaf.ext" -out "$work/tls.crt" 2>/dev/null
openssl verify -CAfile "$out/ca.crt" "$work/tls.crt" >/dev/null || { echo "make-certs: the new certificate does not verify against $out/ca.crt" >&2; exit 1; }
mv -f "$work/tls.key" "$out/tls.key"
mv -f "$work/tls.crt" "$out/tls.crt"
chmod 644 "$out/ca.crt" "$out/tls.crt"

ca_bundle="$(base64 < "$out/ca.crt" | tr -d '\n')"
cat <<EOF
# Serving certificate for $fqdn in $out/tls.crt (SANs: ${sans//,/, })
# caBundle (base64 of $out/ca.crt):
$ca_bundle

# Store the certificate and key as a Secret:
kubectl -n $namespace create secret tls $secret --cert=$out/tls.crt --key=$out/tls.key

# Then install the chart with it:
helm install gracekeeper charts/gracekeeper -n $namespace --set fullnameOverride=$service \\
  --set certificates.source=secret --set certificates.secret.name=$secret \\
  --set certificates.secret.caBundle=$ca_bundle
EOF
