"""Dubbo's Python SDK (PyPI apache-dubbo 3.0.0b1) over Triple, with ZooKeeper:

  dubbo_triple.py consumer ZK_PORT  - finds GreetingsService in ZooKeeper and calls it; prints
                                      one JSON object per case: {"case", "ok"} or {"case", "error"}
  dubbo_triple.py provider ZK_PORT PORT - serves org.apache.dubbo.samples.python.Echo on PORT,
                                      registered in ZooKeeper, until stdin closes

The SDK sends the caller's own bytes (content type application/grpc+data). Two kinds:
- raw protobuf (Triple's IDL mode): a google.protobuf.StringValue for `sayHi(String)`;
- Triple's wrapper (what Java sends for interface services): a TripleRequestWrapper of
  Hessian-encoded arguments for `add(int, int)`, built by hand as the SDK has no Hessian.
"""

import json
import sys
import threading

import dubbo
from dubbo.configs import ReferenceConfig, RegistryConfig, ServiceConfig
from dubbo.proxy.handlers import RpcMethodHandler, RpcServiceHandler

GREETINGS = "org.apache.dubbo.samples.api.GreetingsService"


def varint(n):
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def field(number, payload):
    """A length-delimited protobuf field."""
    return bytes([number << 3 | 2]) + varint(len(payload)) + payload


def fields(data):
    """(number, payload) of each length-delimited field of a protobuf message."""
    out, i = [], 0
    while i < len(data):
        key = data[i]
        i += 1
        length, shift = 0, 0
        while True:
            b = data[i]
            i += 1
            length |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                break
        out.append((key >> 3, data[i : i + length]))
        i += length
    return out


def string_value(text):
    return field(1, text.encode("utf-8"))


def read_string_value(data):
    return "".join(payload.decode("utf-8") for number, payload in fields(data) if number == 1)


def hessian_int(n):
    assert -16 <= n <= 47
    return bytes([0x90 + n])


def read_hessian_int(data):
    b = data[0]
    if 0x80 <= b <= 0xBF:
        return b - 0x90
    if 0xC0 <= b <= 0xCF:
        return ((b - 0xC8) << 8) | data[1]
    raise ValueError("not a small hessian int: %r" % data)


def wrapper(args, arg_types):
    message = field(1, b"hessian4")
    for arg in args:
        message += field(2, arg)
    for name in arg_types:
        message += field(3, name.encode())
    return message


def consumer(zk_port):
    registry = RegistryConfig.from_url("zookeeper://127.0.0.1:%s" % zk_port)
    bootstrap = dubbo.Dubbo(registry_config=registry)
    client = dubbo.Client(ReferenceConfig(protocol="tri", service=GREETINGS), dubbo=bootstrap)

    def run(case, call):
        try:
            print(json.dumps({"case": case, "ok": call()}), flush=True)
        except Exception as e:  # noqa: BLE001 - a failure is a result to report
            print(json.dumps({"case": case, "error": str(e), "type": type(e).__name__}), flush=True)

    say_hi = client.unary("sayHi", request_serializer=string_value, response_deserializer=read_string_value)
    run("raw_protobuf", lambda: say_hi("python"))

    def add(a, b):
        call = client.unary("add")
        reply = call(wrapper([hessian_int(a), hessian_int(b)], ["int", "int"]))
        parts = dict(fields(reply))
        return {"serializeType": parts[1].decode(), "value": read_hessian_int(parts[2]), "type": parts[3].decode()}

    run("wrapper", lambda: add(2, 3))


def provider(zk_port, port):
    def say_hi(request):
        return string_value("Hi from python, " + read_string_value(request))

    handler = RpcServiceHandler(
        service_name="org.apache.dubbo.samples.python.Echo",
        method_handlers=[RpcMethodHandler.unary(say_hi, method_name="sayHi")],
    )
    registry = RegistryConfig.from_url("zookeeper://127.0.0.1:%s" % zk_port)
    bootstrap = dubbo.Dubbo(registry_config=registry)
    server = dubbo.Server(ServiceConfig(handler, host="127.0.0.1", port=int(port)), dubbo=bootstrap)
    server.start()
    print(json.dumps({"case": "started", "ok": True}), flush=True)
    sys.stdin.read()


if __name__ == "__main__":
    if sys.argv[1] == "consumer":
        consumer(sys.argv[2])
    else:
        provider(sys.argv[2], sys.argv[3])
