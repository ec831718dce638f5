#!/usr/bin/python3
# Serves /metrics with Debian's python3-prometheus-client (0.16), the reference client that
# answers OpenMetrics 1.0 when the Accept header asks for it: the Go programs Debian 12 ships
# (Prometheus 2.42, node_exporter 1.5, blackbox_exporter, alertmanager) answer only 0.0.4.
# Every metric type, units, exemplars, _created lines and escapes appear once.
# Capture: see README.md beside this file.
import sys
import time

from prometheus_client import (Counter, Enum, Gauge, Histogram, Info, Summary,
                               start_http_server)

port = int(sys.argv[1])

requests = Counter('crm_requests', 'Requests by route.\nSecond line with a \\ backslash.',
                   ['route', 'method'])
requests.labels('/api/customers/{id}', 'GET').inc(42)
requests.labels('/api/orders', 'POST').inc(7)
requests.labels('a "quoted" \\ value\nwith newline', 'GET').inc(1)

in_flight = Gauge('crm_in_flight', 'Requests being served.')
in_flight.set(3)
temperature = Gauge('crm_queue_age', 'Age of the oldest queued job.', unit='seconds')
temperature.set(float('nan'))
ratio = Gauge('crm_ratio', 'A ratio that can be infinite.', ['kind'])
ratio.labels('up').set(float('inf'))
ratio.labels('down').set(float('-inf'))

latency = Histogram('crm_request_duration', 'Request latency.', ['route'], unit='seconds',
                    buckets=(0.005, 0.05, 0.5, 5))
for v in (0.001, 0.002, 0.03, 0.4, 0.7, 9):
    latency.labels('/api/orders').observe(v)
latency.labels('/api/orders').observe(0.04, exemplar={'trace_id': 'abc123'})

sizes = Summary('crm_response_size', 'Response sizes.', unit='bytes')
for v in (100, 250, 4000):
    sizes.observe(v)

build = Info('crm_build', 'Build information.')
build.info({'version': '1.2.3', 'revision': 'deadbeef'})

state = Enum('crm_node_state', 'Node state.', states=['starting', 'serving', 'draining'])
state.state('serving')

start_http_server(port, addr='127.0.0.1')
while True:
    time.sleep(3600)
