"""`secondmectl`: the owner's command line, a client of the daemon's socket API."""
