"""Asks an rpc provider's grpc.health.v1.Health with grpcio-health-checking's client (the
stubs and messages from PyPI, as Kubernetes' gRPC probe and grpc-health-probe ask it) and
prints one JSON line per case.

Usage: health_client.py GRPC_ADDR ADMIN_URL SERVICE
  checks: overall, a hosted service, an unknown one; Watch through /offline and /online.
Usage: health_client.py GRPC_ADDR --watch-until-end
  watches the server as a whole and prints every status until the stream ends."""

import json
import sys
import urllib.request

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

STATUS = health_pb2.HealthCheckResponse.ServingStatus


def case(name, **fields):
    print(json.dumps({"case": name, **fields}), flush=True)


def check(stub, service):
    try:
        reply = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
        return {"status": STATUS.Name(reply.status)}
    except grpc.RpcError as e:
        return {"code": e.code().name, "details": e.details()}


def admin(url, path):
    with urllib.request.urlopen(url + path, timeout=5) as reply:
        return reply.read().decode()


def main():
    channel = grpc.insecure_channel(sys.argv[1])
    stub = health_pb2_grpc.HealthStub(channel)
    if sys.argv[2] == "--watch-until-end":
        seen = []
        for reply in stub.Watch(health_pb2.HealthCheckRequest(service=""), timeout=60):
            seen.append(STATUS.Name(reply.status))
            case("watch_update", status=seen[-1])
        case("watch_ended", statuses=seen)
        return
    admin_url, service = sys.argv[2], sys.argv[3]
    case("overall", **check(stub, ""))
    case("hosted", **check(stub, service))
    case("unknown", **check(stub, "no.Such"))
    watch = stub.Watch(health_pb2.HealthCheckRequest(service=service), timeout=30)
    statuses = [STATUS.Name(next(watch).status)]
    admin(admin_url, "/offline")
    statuses.append(STATUS.Name(next(watch).status))
    case("check_offline", **check(stub, service))
    admin(admin_url, "/online")
    statuses.append(STATUS.Name(next(watch).status))
    watch.cancel()
    case("watch", statuses=statuses)
    unknown = stub.Watch(health_pb2.HealthCheckRequest(service="no.Such"), timeout=30)
    case("watch_unknown", status=STATUS.Name(next(unknown).status))
    unknown.cancel()


if __name__ == "__main__":
    main()
