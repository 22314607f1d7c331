"""Calls helloworld.Greeter/SayHello on an rpc provider with Python's grpcio and prints one JSON
line per case. Messages are encoded by hand (a few protobuf fields), so no generated stubs or
protoc are needed. Usage: greeter_client.py HOST:PORT [--tls CA CERT KEY] (TLS with a client
certificate, the server verified against CA as `localhost`)"""

import json
import sys
import time

import grpc


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


def hello_request(name, sleep_ms=0):
    data = name.encode()
    out = b"\x0a" + varint(len(data)) + data
    if sleep_ms:
        out += b"\x10" + varint(sleep_ms)
    return out


def read_varint(buf, i):
    shift = value = 0
    while True:
        byte = buf[i]
        i += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, i


def hello_reply(buf):
    """HelloReply {1: message, 2: tenant, 3: remaining_ms} from its bytes."""
    fields, i = {}, 0
    while i < len(buf):
        key, i = read_varint(buf, i)
        tag, wire = key >> 3, key & 7
        if wire == 2:
            length, i = read_varint(buf, i)
            fields[tag] = buf[i:i + length].decode()
            i += length
        elif wire == 0:
            fields[tag], i = read_varint(buf, i)
        else:
            raise ValueError("unexpected wire type %d" % wire)
    return {"message": fields.get(1, ""), "tenant": fields.get(2, ""), "remaining_ms": fields.get(3, 0)}


def main():
    if sys.argv[2:3] == ["--tls"]:
        ca, cert, key = (open(path, "rb").read() for path in sys.argv[3:6])
        credentials = grpc.ssl_channel_credentials(root_certificates=ca, private_key=key, certificate_chain=cert)
        options = [("grpc.ssl_target_name_override", "localhost")]
        channel = grpc.secure_channel(sys.argv[1], credentials, options=options)
    else:
        channel = grpc.insecure_channel(sys.argv[1])
    grpc.channel_ready_future(channel).result(timeout=10)
    identity = lambda b: b  # noqa: E731
    say_hello = channel.unary_unary("/helloworld.Greeter/SayHello", request_serializer=identity,
                                    response_deserializer=identity)
    say_goodbye = channel.unary_unary("/helloworld.Greeter/SayGoodbye", request_serializer=identity,
                                      response_deserializer=identity)

    def case(name, call):
        started = time.monotonic()
        try:
            result = {"ok": hello_reply(call())}
        except grpc.RpcError as e:
            result = {"code": e.code().name, "details": e.details()}
        result["case"] = name
        result["elapsed_ms"] = round((time.monotonic() - started) * 1000)
        print(json.dumps(result), flush=True)

    case("hello", lambda: say_hello(hello_request("python"), timeout=5, metadata=[("tenant", "pyco")]))
    case("fail", lambda: say_hello(hello_request("fail")))
    case("deadline", lambda: say_hello(hello_request("slow", sleep_ms=2000), timeout=0.2))
    case("unknown_method", lambda: say_goodbye(hello_request("x")))
    case("bad_message", lambda: say_hello(b"\x08\x07"))
    case("oversized", lambda: say_hello(hello_request("x" * (64 * 1024))))


if __name__ == "__main__":
    main()
