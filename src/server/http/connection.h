// Whether the client of a request is still there, for handlers that wait (a non-streamed generation).
// cpp-httplib 0.11 gives a handler no view of its connection, so the socket is found by the request's two
// addresses among this process's descriptors; it stays open (and keeps its descriptor) until the handler
// returns, so the lookup cannot pick another connection. Linux only (/proc/self/fd).
#pragma once

#include <string>

namespace sy::server {

class ConnectionProbe {
 public:
  // remote_addr/remote_port and local_port as cpp-httplib reports them for a request.
  ConnectionProbe(const std::string& remote_addr, int remote_port, int local_port);
  // True when the peer has closed its side (an orderly close or a reset). False while it is connected, and when
  // the socket was not found (the answer is then "assume it is there").
  bool peer_gone() const;
  bool found() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

}  // namespace sy::server
