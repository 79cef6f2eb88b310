#!/usr/bin/env bash
# Makes sure PostgreSQL and Redis answer on 127.0.0.1 before the PostgreSQL test run.
# Starts them with the machine's own commands when they are down; fails (never skips) if they stay down.
set -u

postgres_up() { pg_isready -q -h 127.0.0.1 -p 5432; }
redis_up() { [ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = "PONG" ]; }

if ! postgres_up && command -v pg_ctlcluster >/dev/null; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start || true
fi
if ! redis_up && command -v redis-server >/dev/null; then
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
fi

for _ in $(seq 1 30); do
  postgres_up && redis_up && exit 0
  sleep 1
done
postgres_up || echo "PostgreSQL does not answer on 127.0.0.1:5432" >&2
redis_up || echo "Redis does not answer on 127.0.0.1:6379" >&2
exit 1
