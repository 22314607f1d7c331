"""Calls an rpc provider with dubbo-ssl-python (PyPI: dubbo2 + Hessian2), directly or found in
ZooKeeper, and prints one JSON object per case: {"case", "ok"} or {"case", "error", "type"}.

usage: dubbo2_client.py direct HOST:PORT | zookeeper ZK_HOST:PORT | metadata HOST:PORT APP REVISION
       | tls HOST:PORT CA_FILE | token HOST:PORT TOKEN

`metadata` asks the provider's MetadataService (group APP) for REVISION, as a Java Dubbo
consumer does for an application instance whose metadata is stored `local`.
"""

import json
import sys

from dubbo_ssl.client import DubboClient, ZkRegister
from dubbo_ssl.codec.encoder import Object

SERVICE = "org.apache.dubbo.samples.api.GreetingsService"


def plain(value):
    """A decoded Hessian value as JSON: Java objects come back as dict-like objects."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if hasattr(value, "keys") and not isinstance(value, str):
        return {str(k): plain(value[k]) for k in value.keys()}
    return value


def run(case, call):
    try:
        print(json.dumps({"case": case, "ok": plain(call())}), flush=True)
    except Exception as e:  # noqa: BLE001 - every failure is a result to report
        print(json.dumps({"case": case, "error": str(e), "type": type(e).__name__}), flush=True)


def main():
    mode, where = sys.argv[1], sys.argv[2]
    if mode == "metadata":
        app, revision = sys.argv[3], sys.argv[4]
        metadata = DubboClient("org.apache.dubbo.metadata.MetadataService", app, version="1.0.0", host=where)
        run("metadata", lambda: metadata.call("getMetadataInfo", [revision]))
        run("other_revision", lambda: metadata.call("getMetadataInfo", ["0"]))
        return
    if mode == "tls":
        # dubbo-ssl-python's SSL mode: TLS, the provider verified against this CA file.
        client = DubboClient(SERVICE, None, version="1.0.0", host=where, verify=sys.argv[3])
        run("hello", lambda: client.call("sayHi", ["python over TLS"]))
        run("add", lambda: client.call("add", [2, 3]))
        return
    if mode == "token":
        # A provider with Dubbo's token: refused without it, served with it.
        client = DubboClient(SERVICE, None, version="1.0.0", host=where)
        run("no_token", lambda: client.call("sayHi", ["python"]))
        run("wrong_token", lambda: client.call("sayHi", ["python"], context={"token": "guess"}))
        run("token", lambda: client.call("sayHi", ["python"], context={"token": sys.argv[3]}))
        return
    if mode == "direct":
        client = DubboClient(SERVICE, None, version="1.0.0", host=where)
        missing = DubboClient("org.apache.dubbo.samples.api.Missing", None, version="1.0.0", host=where)
    else:
        registry = ZkRegister(where, application_name="python-dubbo2-consumer")
        client = DubboClient(SERVICE, None, version="1.0.0", zk_register=registry)
        missing = None
    run("hello", lambda: client.call("sayHi", ["python"]))
    run("unicode", lambda: client.call("sayHi", ["héllo 世界"]))
    run("add", lambda: client.call("add", [2, 3]))
    if mode == "zookeeper":
        return
    run("long", lambda: client.call("echoLong", [2**40 + 1]))
    run("double", lambda: client.call("echoDouble", [2.25]))
    run("bool", lambda: client.call("echoBool", [True]))
    run("list", lambda: client.call("echoList", [["a", "b", "c"]]))
    user = Object(
        "org.apache.dubbo.samples.api.User",
        {"name": "ann", "age": 30, "tags": ["x", "y"], "score": 1.5, "admin": True, "id": 2**40, "nickname": None},
    )
    run("object", lambda: client.call("greetUser", [user]))
    run("null", lambda: client.call("nothing", ["x"]))
    run("exception", lambda: client.call("fail", ["boom"]))
    run("unknown_method", lambda: client.call("nope", ["x"]))
    run("wrong_arity", lambda: client.call("add", [1]))
    run("unknown_service", lambda: missing.call("sayHi", ["x"]))
    # The `timeout` attachment is the provider's deadline: the handler is cancelled at 200 ms
    # and the client hears of it well before its own 5 s.
    run("deadline", lambda: client.call("slow", [3000], context={"timeout": "200"}, timeout=5))
    # The client's own timeout.
    run("client_timeout", lambda: client.call("slow", [1500], timeout=0.3))
    run("after", lambda: client.call("sayHi", ["again"]))


if __name__ == "__main__":
    main()
