#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A local stand-in for Google's guest snapshot service, for tests/e2e/gce-agent.sh.

usage: gce_snapshot_service.py PROTO WORKDIR EVENTS < CONTROL

Generates the message modules from PROTO (gce_snapshot_service.proto) into
WORKDIR with grpc_tools.protoc, listens on 127.0.0.1 on a port of the
kernel's choice, and appends one line per event to EVENTS:
    port N                      listening (the agent's snapshot_service_port)
    connected server_info=B     the agent opened its request stream
    response ID TYPE CODE ERR   a SnapshotResponse (TYPE, ERR by enum name)
Requests come from CONTROL, one per line: "PRE ID DISKS" or "POST ID DISKS"
(DISKS may be empty). It refuses a used ID or any other type: the
20211116.00 agent would answer those with a nil response that it resends in
a loop without pause (snapshot_listener.go getSnapshotResponse and
handleSnapshotRequests).
"""
import os
import queue
import sys
import threading
from concurrent import futures


def generate(proto, workdir):
    from grpc_tools import protoc

    args = ["protoc", "-I" + os.path.dirname(proto), "--python_out=" + workdir,
            "--grpc_python_out=" + workdir, os.path.basename(proto)]
    if protoc.main(args) != 0:
        sys.exit("gce_snapshot_service: protoc failed on " + proto)
    sys.path.insert(0, workdir)


class Events:
    def __init__(self, path):
        self.f = open(path, "a", buffering=1)
        self.lock = threading.Lock()

    def say(self, line):
        with self.lock:
            self.f.write(line + "\n")
            self.f.flush()


def make_servicer(pb, pb_grpc, events, requests):
    class Service(pb_grpc.SnapshotServiceServicer):
        def CreateConnection(self, ready, context):
            events.say("connected server_info=%s" % ready.request_server_info)
            while context.is_active():
                try:
                    msg = requests.get(timeout=0.2)
                except queue.Empty:
                    continue
                yield msg

        def HandleResponsesFromGuest(self, r, context):
            events.say("response %d %s %d %s" % (r.operation_id, pb.OperationType.Name(r.type),
                                                   r.scripts_return_code,
                                                   pb.AgentErrorCode.Name(r.agent_return_code)))
            return pb.ServerAck()
    return Service()


def read_control(pb, requests):
    used = set()
    types = {"PRE": pb.PRE_SNAPSHOT, "POST": pb.POST_SNAPSHOT}
    for line in sys.stdin:
        parts = line.rstrip("\n").split(" ", 2)
        if len(parts) < 2 or parts[0] not in types or not parts[1].isdigit():
            sys.exit("gce_snapshot_service: bad request line: %r" % line)
        op = int(parts[1])
        if op in used:
            sys.exit("gce_snapshot_service: operation id %d used twice" % op)
        used.add(op)
        req = pb.SnapshotRequest(operation_id=op, disk_list=parts[2] if len(parts) > 2 else "",
                                 type=types[parts[0]])
        requests.put(pb.GuestMessage(snapshot_request=req))


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    proto, workdir, events_path = sys.argv[1:]
    generate(proto, workdir)
    import grpc
    import gce_snapshot_service_pb2 as pb
    import gce_snapshot_service_pb2_grpc as pb_grpc

    events = Events(events_path)
    requests = queue.Queue()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    pb_grpc.add_SnapshotServiceServicer_to_server(make_servicer(pb, pb_grpc, events, requests), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    events.say("port %d" % port)
    read_control(pb, requests)     # until CONTROL is closed
    server.stop(0)


if __name__ == "__main__":
    main()
