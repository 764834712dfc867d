"""Service-manager integration: a systemd user unit and a launchd agent, rendered for this install."""
