"""gRPC servicers: thin translations between protobuf and the daemon's domain types."""
