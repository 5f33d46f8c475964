# lvskeep native addon: raw proto-112 sockets with recvmsg metadata, and AF_PACKET frame send.
# Plain C against node_api.h (N-API version 8) so one build works across Node ABI versions.
{
  "targets": [
    {
      "target_name": "lvskeep_native",
      "sources": [
        "c/addon.c",
        "c/errors.c",
        "c/addresses.c",
        "c/recv_parse.c",
        "c/raw_socket.c",
        "c/packet_socket.c",
        "c/rt_sched.c"
      ],
      "defines": ["NAPI_VERSION=8", "_GNU_SOURCE"],
      "cflags_c": ["-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter", "-O2"]
    }
  ]
}
