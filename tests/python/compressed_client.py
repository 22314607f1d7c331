"""Calls helloworld.Greeter/SayHello on an rpc provider with Python's grpcio, its requests
gzip-compressed (grpc.Compression.Gzip), and prints one JSON line per case: a long
compressible name, a short one (under the server's threshold), and the default channel-wide
compression. Messages are encoded by hand, as greeter_client.py does. Usage:
compressed_client.py HOST:PORT"""

import json
import sys

import grpc

from greeter_client import hello_reply, hello_request


def call(channel, name, compression=None):
    say_hello = channel.unary_unary("/helloworld.Greeter/SayHello")
    try:
        reply = say_hello(hello_request(name), timeout=10, compression=compression)
        message = hello_reply(reply)["message"]
        return {"ok": True, "length": len(message), "matches": message == "Hello " + name}
    except grpc.RpcError as e:
        return {"ok": False, "code": e.code().name, "details": e.details()}


def main():
    target = sys.argv[1]
    long_name = "compress me " * 6000
    with grpc.insecure_channel(target) as channel:
        print(json.dumps({"case": "gzip_long", **call(channel, long_name, grpc.Compression.Gzip)}), flush=True)
        print(json.dumps({"case": "gzip_short", **call(channel, "ada", grpc.Compression.Gzip)}), flush=True)
        print(json.dumps({"case": "plain_long", **call(channel, long_name)}), flush=True)
    with grpc.insecure_channel(target, compression=grpc.Compression.Gzip) as channel:
        print(json.dumps({"case": "channel_gzip", **call(channel, long_name)}), flush=True)


if __name__ == "__main__":
    main()
