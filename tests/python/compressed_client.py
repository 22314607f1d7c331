"""Calls helloworld.Greeter/SayHello on an rpc provider with Python's grpcio, its requests
gzip-compressed (grpc.Compression.Gzip), and prints one JSON line per case: a long
compressible name, a short one (under the server's threshold), and the default channel-wide
compression. Messages are encoded by hand. Usage: compressed_client.py HOST:PORT"""

import json
import sys

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


def read_varint(buf, i):
    shift = value = 0
    while True:
        byte = buf[i]
        i += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, i


def hello_request(name):
    data = name.encode()
    return b"\x0a" + varint(len(data)) + data


def reply_message(buf):
    """Field 1 (string) of HelloReply."""
    i = 0
    while i < len(buf):
        key, i = read_varint(buf, i)
        if key & 7 == 2:
            length, i = read_varint(buf, i)
            if key >> 3 == 1:
                return buf[i:i + length].decode()
            i += length
        else:
            _, i = read_varint(buf, i)
    return ""


def call(channel, name, compression=None):
    say_hello = channel.unary_unary("/helloworld.Greeter/SayHello")
    try:
        reply = say_hello(hello_request(name), timeout=10, compression=compression)
        message = reply_message(reply)
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
