"""Describes an rpc provider through gRPC server reflection with grpcio-reflection's client
(PyPI), as grpcurl does: lists its services, builds helloworld.Greeter's descriptors from the
reflected files, calls SayHello with a message class made from them alone, and asks the v1
service by name too. Prints one JSON line per case. Usage: reflection_client.py HOST:PORT"""

import json
import sys

import grpc
from google.protobuf import descriptor_pool, message_factory
from grpc_reflection.v1alpha import reflection_pb2
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase


def case(name, **fields):
    print(json.dumps({"case": name, **fields}), flush=True)


def main():
    channel = grpc.insecure_channel(sys.argv[1])
    database = ProtoReflectionDescriptorDatabase(channel)
    case("services", names=sorted(database.get_services()))

    pool = descriptor_pool.DescriptorPool(database)
    greeter = pool.FindServiceByName("helloworld.Greeter")
    methods = {
        m.name: {"input": m.input_type.full_name, "output": m.output_type.full_name,
                 "client_streaming": m.client_streaming, "server_streaming": m.server_streaming}
        for m in greeter.methods
    }
    case("greeter", file=greeter.file.name, methods=methods)
    request_type = pool.FindMessageTypeByName("helloworld.HelloRequest")
    case("hello_request", fields=[(f.name, f.number) for f in request_type.fields])

    # A generic call, from reflected descriptors only (no generated code).
    request_class = message_factory.GetMessageClass(request_type)
    reply_class = message_factory.GetMessageClass(pool.FindMessageTypeByName("helloworld.HelloReply"))
    say_hello = channel.unary_unary(
        "/helloworld.Greeter/SayHello",
        request_serializer=request_class.SerializeToString,
        response_deserializer=reply_class.FromString,
    )
    case("generic_call", message=say_hello(request_class(name="reflection"), timeout=5).message)

    try:
        pool.FindServiceByName("no.Such")
        case("unknown_symbol", found=True)
    except KeyError as e:
        case("unknown_symbol", found=False, error=str(e))

    # The v1 name: the same messages on the wire.
    info = channel.stream_stream(
        "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
        request_serializer=reflection_pb2.ServerReflectionRequest.SerializeToString,
        response_deserializer=reflection_pb2.ServerReflectionResponse.FromString,
    )
    asks = [
        reflection_pb2.ServerReflectionRequest(list_services=""),
        reflection_pb2.ServerReflectionRequest(file_containing_symbol="no.Such"),
        reflection_pb2.ServerReflectionRequest(file_by_filename="greeter.proto"),
    ]
    replies = list(info(iter(asks), timeout=5))
    case(
        "v1",
        services=[s.name for s in replies[0].list_services_response.service],
        error_code=replies[1].error_response.error_code,
        error_message=replies[1].error_response.error_message,
        files=len(replies[2].file_descriptor_response.file_descriptor_proto),
    )


if __name__ == "__main__":
    main()
