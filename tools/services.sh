#!/bin/bash
# Start the local services the tests need when they are not answering:
# PostgreSQL 127.0.0.1:5432, MariaDB 127.0.0.1:3306, RabbitMQ
# 127.0.0.1:5672 (guest/guest), Redis 127.0.0.1:6379. Fails loudly if one
# cannot be started.
set -uo pipefail

up() { (echo > "/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() {
    local name=$1 port=$2
    for _ in $(seq 1 60); do
        up "$port" && { echo "$name is up on 127.0.0.1:$port"; return 0; }
        sleep 1
    done
    echo "ERROR: $name did not start on 127.0.0.1:$port" >&2
    return 1
}

start() {
    local rc=0
    if ! up 5432; then
        pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
        wait_port PostgreSQL 5432 || rc=1
    fi
    if ! up 3306; then
        start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
        wait_port MariaDB 3306 || rc=1
    fi
    if ! up 5672; then
        rabbitmq-server -detached
        wait_port RabbitMQ 5672 || rc=1
        rabbitmqctl await_startup >/dev/null 2>&1 || true
    fi
    if ! up 6379; then
        redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" \
            --appendonly no
        wait_port Redis 6379 || rc=1
    fi
    return $rc
}

case "${1:-start}" in
    start) start ;;
    *) echo "usage: $0 start" >&2; exit 2 ;;
esac
