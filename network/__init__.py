"""The libp2p mesh: a py-libp2p host on its own trio thread, three /secondme protocols, discovery.

- `node.MeshNode`: the host (Noise only, Yamux, identify, ping), the card/grant/session handlers
  (each contained: an escaping exception would stop a py-libp2p host), gating and limits
  (`limits.Guard`), bootstrap, mDNS (`mdns`), DHT (`dht`) and rendezvous (`rendezvous`).
- `bridge.TrioBridge`: the only crossing between the daemon's asyncio loop and the trio thread.
- `ports`: what the mesh needs from the daemon (`Authority`, `MeshDelegate`), as Protocols.
- `framing`: varint-length-prefixed protobuf with a size cap and read timeouts.
Never imports `secondme.daemon`.
"""
