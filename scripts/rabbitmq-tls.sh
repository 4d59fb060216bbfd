#!/usr/bin/env bash
# Give the host's RabbitMQ a TLS listener for AMQP (127.0.0.1:5671) and
# streams (127.0.0.1:5551), with a CA, a server and a client certificate
# made here with openssl, for the TLS tests (go test -run TLS ./...).
#
#   scripts/rabbitmq-tls.sh            # certificates + config; restarts RabbitMQ once if needed
#   scripts/rabbitmq-tls.sh certs DIR  # only the certificates, into DIR
#
# Idempotent: existing certificates and config are kept, and a node that
# already listens on 5671 and 5551 is not restarted. Needs root (it writes
# /etc/rabbitmq) and openssl. The tests read the certificates from
# OMS_TLS_DIR (default /etc/rabbitmq/oms-tls):
#   ca.pem, client.pem, client.key   the CA the server's certificate is signed by, and a client's
#   other-ca.pem                     a CA that signed nothing of the server's (a wrong --tls-ca)
set -euo pipefail

DIR=${OMS_TLS_DIR:-/etc/rabbitmq/oms-tls}
CONF=${RABBITMQ_CONFIG:-/etc/rabbitmq/rabbitmq.conf}
AMQPS_PORT=5671
STREAMS_PORT=5551

log() { printf '==> %s\n' "$*"; }

# certs DIR makes ca, other-ca, server (localhost, 127.0.0.1) and client
# certificates valid for ten years, unless they exist.
certs() {
	local d=$1
	mkdir -p "$d"
	if [ -s "$d/ca.pem" ] && [ -s "$d/server.pem" ] && [ -s "$d/client.pem" ] && [ -s "$d/other-ca.pem" ]; then
		return
	fi
	log "certificates in $d"
	local tmp
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' RETURN
	for ca in ca other-ca; do
		openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=oms-sim test $ca" \
			-keyout "$d/$ca.key" -out "$d/$ca.pem" 2>/dev/null
	done
	printf 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\nextendedKeyUsage=serverAuth\n' >"$tmp/server.ext"
	printf 'extendedKeyUsage=clientAuth\n' >"$tmp/client.ext"
	for who in server client; do
		openssl req -newkey rsa:2048 -nodes -subj "/CN=oms-sim test $who" \
			-keyout "$d/$who.key" -out "$tmp/$who.csr" 2>/dev/null
		openssl x509 -req -in "$tmp/$who.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial \
			-days 3650 -extfile "$tmp/$who.ext" -out "$d/$who.pem" 2>/dev/null
	done
	rm -f "$d/ca.key" "$d/other-ca.key" "$d/ca.srl"
	# Test material: the client's key is readable by whoever runs the tests.
	chmod 0755 "$d"
	chmod 0644 "$d"/*.pem "$d/client.key"
	chmod 0640 "$d/server.key"
	chgrp rabbitmq "$d/server.key" 2>/dev/null || chmod 0644 "$d/server.key"
}

if [ "${1:-}" = certs ]; then
	certs "${2:?certs DIR}"
	exit 0
fi

command -v openssl >/dev/null || { echo "openssl is needed" >&2; exit 1; }
certs "$DIR"

if ! grep -qs '^# oms-sim TLS' "$CONF"; then
	log "TLS listeners in $CONF"
	cat >>"$CONF" <<CONF
# oms-sim TLS (scripts/rabbitmq-tls.sh): AMQPS and stream TLS on loopback
listeners.ssl.local = 127.0.0.1:$AMQPS_PORT
stream.listeners.ssl.local = 127.0.0.1:$STREAMS_PORT
ssl_options.cacertfile = $DIR/ca.pem
ssl_options.certfile = $DIR/server.pem
ssl_options.keyfile = $DIR/server.key
ssl_options.verify = verify_peer
ssl_options.fail_if_no_peer_cert = false
CONF
fi

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if listening $AMQPS_PORT && listening $STREAMS_PORT; then
	log "RabbitMQ listens on $AMQPS_PORT and $STREAMS_PORT (TLS)"
	exit 0
fi
if rabbitmqctl -q status >/dev/null 2>&1; then
	log "restarting RabbitMQ to load the TLS listeners"
	rabbitmqctl -q stop
fi
rabbitmq-server -detached
for i in $(seq 1 90); do
	if rabbitmqctl -q await_startup >/dev/null 2>&1; then
		break
	fi
	if [ "$i" = 90 ]; then
		echo "RabbitMQ did not start" >&2
		exit 1
	fi
	sleep 1
done
rabbitmq-plugins -q enable rabbitmq_stream rabbitmq_management >/dev/null
for i in $(seq 1 30); do
	listening $AMQPS_PORT && listening $STREAMS_PORT && break
	[ "$i" = 30 ] && { echo "no TLS listener on $AMQPS_PORT/$STREAMS_PORT; see the RabbitMQ log" >&2; exit 1; }
	sleep 1
done
log "RabbitMQ listens on $AMQPS_PORT (AMQPS) and $STREAMS_PORT (streams over TLS)"
